"""The lines of a surveillance tile, as cells: figures that fit a few cells, pushed apart
to the tile's edges, and the mini ladder (``tiles.py`` draws them)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Final

from tui.widgets.strips import Cell, pad
from tui.wire.prices import format_qty, format_units

if TYPE_CHECKING:
    from tui.market.scrip import Level

#: a buy share at or past this percent (or its complement) is coloured bid (ask) side
IMBALANCED: Final = 60


def short_qty(qty: int, width: int) -> str:
    """``qty`` in at most ``width`` cells if any spelling fits: ``1,250`` (thousands
    separators, as every other pane), ``1.2k``, ``1k``; integers only (the last resort is
    cut by the caller)."""
    candidates = [format_qty(qty)]
    for unit, size in (("k", 10**3), ("M", 10**6), ("B", 10**9)):
        if qty >= size:
            whole, tenths = divmod(qty * 10 // size, 10)
            candidates += [f"{whole}.{tenths}{unit}", f"{whole}{unit}"]
    return next((text for text in candidates if len(text) <= width), candidates[-1])


def spread_text(bid: Level | None, ask: Level | None, tick: int | None) -> Cell:
    """``("1t", style)``: the touch spread in ticks (tenths off the tick grid); a crossed
    or locked touch (zero or less) is styled ``tiles--crossed``."""
    if bid is None or ask is None or not tick:
        return "", ""
    diff = ask.price - bid.price
    ticks, rest = divmod(diff, tick)
    text = str(ticks) if not rest else format_units((diff * 20 + tick) // (tick * 2), 1)
    return f"{text}t", "" if diff > 0 else "tiles--crossed"


def buy_share(tbq: int | None, tsq: int | None) -> Cell:
    """``("buy 51%", style)``: total buy quantity's share of buy + sell (as the ladder's
    imbalance line); coloured when one side holds :data:`IMBALANCED` percent or more."""
    total = (tbq or 0) + (tsq or 0)
    if tbq is None or tsq is None or total == 0:
        return "", ""
    buy = (tbq * 100 + total // 2) // total
    style = "tiles--bid" if buy >= IMBALANCED else "tiles--ask" if buy <= 100 - IMBALANCED else ""
    return f"buy {buy}%", style


def spaced(left: Sequence[Cell], right: Sequence[Cell], width: int) -> list[Cell]:
    """``left`` then ``right`` pushed to the right edge: exactly ``width`` cells (the
    left part is cut first)."""
    right_len = sum(len(text) for text, _ in right)
    room = max(width - right_len, 0)
    out: list[Cell] = []
    used = 0
    for text, style in left:
        if used >= room:
            break
        text = text if used + len(text) <= room else pad(text, room - used)
        out.append((text, style))
        used += len(text)
    out.append((" " * (room - used), ""))
    out.extend(right if right_len <= width else [(pad(right[0][0], width), right[0][1])])
    return out


def ladder_line(
    bid: Level | None, ask: Level | None, pp: int, price_w: int, width: int
) -> list[Cell]:
    """``qty bid│ask qty`` in ``width`` cells, prices ``price_w`` wide (so the ``│`` lines up
    on every level); quantities get what is left and shorten (``1.2k``) to fit.  The gap
    between a price and its quantity is a cell of its own, never part of a styled one."""
    if bid is None and ask is None:
        return [(" " * width, "")]
    qty_w = (width - 2 * price_w - 3) // 2
    if qty_w < 2:  # no room for a readable quantity: prices only
        qty_w = 0
    gap: Cell = (" ", "")
    cells: list[Cell] = []
    if qty_w > 0:
        qty = short_qty(bid.qty, qty_w) if bid else ""
        cells += [(pad(qty, qty_w, "right"), "tiles--qty"), gap]
    cells.append((pad(format_units(bid.price, pp) if bid else "", price_w, "right"), "tiles--bid"))
    cells.append(("│", "tiles--dim"))
    cells.append((pad(format_units(ask.price, pp) if ask else "", price_w), "tiles--ask"))
    if qty_w > 0:
        qty = short_qty(ask.qty, qty_w) if ask else ""
        cells += [gap, (pad(qty, qty_w), "tiles--qty")]
    used = sum(len(text) for text, _ in cells)
    if used > width:  # too narrow even for the prices: the bid side alone
        return [(pad(format_units(bid.price, pp) if bid else "", width), "tiles--bid")]
    cells.append((" " * (width - used), ""))
    return cells
