"""The ladder of the selected scrip: five levels a side, last trade, OHLC, circuit limits.

Bids on the left, asks on the right, best prices meeting at the middle.  The depth comes
from the scrip's touchline/depth state (``Scrip.bids()``/``asks()``); a scrip with an L2
book but no depth fields is shown from ``OrderBook.levels``.  Rebuilt only when the
selected scrip is among the keys a flush returns (a dozen lines: cheap).
"""

from __future__ import annotations

from datetime import tzinfo
from typing import TYPE_CHECKING, ClassVar

from tui.market.prices import format_qty, format_units
from tui.widgets.strips import Cell, Line, LinesWidget, clock_text, pad

if TYPE_CHECKING:
    from tui.market.scrip import Level, Scrip
    from tui.market.store import Market

DEPTH = 5


class Ladder(LinesWidget):
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "ladder--title",
        "ladder--label",
        "ladder--header",
        "ladder--bid",
        "ladder--ask",
        "ladder--up",
        "ladder--down",
        "ladder--flat",
        "ladder--dim",
    }

    def __init__(
        self,
        market: Market,
        *,
        tz: tzinfo | None = None,
        name: str | None = None,
        id: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id)
        self.market = market
        self.tz = tz
        self.key: str | None = None

    def show(self, key: str | None) -> None:
        self.key = key
        self.invalidate()

    def symbol(self) -> str:
        """The selected scrip's symbol ("" when none is selected)."""
        if self.key is None:
            return ""
        scrip = self.market.view(self.key)
        return scrip.symbol if scrip else self.key.partition("|")[2]

    # -- building ------------------------------------------------------------------------
    def build(self, width: int) -> list[Line]:
        width = max(width - 2, 10)  # one cell of margin each side
        if self.key is None:
            return [[(" No scrip selected.", "ladder--dim")]]
        scrip = self.market.view(self.key)
        if scrip is None:
            return [[(f" Waiting for {self.key}…", "ladder--dim")]]
        bids, asks = scrip.bids(), scrip.asks()
        book = self.market.books.get(self.key)
        if not bids and not asks and book is not None:
            bids, asks = book.levels(scrip.pp, DEPTH)
        lines: list[Line] = [_last(scrip, width, self.tz)]
        lines += _levels(bids, asks, scrip.pp, width)
        pp = scrip.pp
        spread: tuple[str, ...] = ("",)
        if bids and asks:
            gap = asks[0].price - bids[0].price
            spread = (format_units(gap, pp),)
            tick = scrip.get("ti")
            if tick and gap % tick == 0:
                ticks = gap // tick
                spread = (f"{spread[0]} · {ticks} tick" + ("s" if ticks != 1 else ""), *spread)
        pairs: list[tuple[tuple[str, Value], tuple[str, Value]]] = [
            (("spread", spread), ("volume", format_qty(scrip.get("v")))),
            (("open", scrip.price_text("o")), ("high", scrip.price_text("h"))),
            (("low", scrip.price_text("l")), ("close", scrip.price_text("c"))),
            (("lower ckt", scrip.price_text("lc")), ("upper ckt", scrip.price_text("uc"))),
        ]
        lines += [_pair(left, right, width) for left, right in pairs]
        return [[(" ", ""), *line] for line in lines]


def _trend(scrip: Scrip) -> str:
    pc = scrip.get("pc")
    return "ladder--flat" if not pc else ("ladder--up" if pc > 0 else "ladder--down")


def _last(scrip: Scrip, width: int, tz: tzinfo | None) -> Line:
    """``last 2945.60  +14.40  +0.49%  ltq 25  14:00:00``: the parts that fit."""
    lp, close, pp = scrip.get("lp"), scrip.get("c"), scrip.pp
    trend = _trend(scrip)
    line: list[Cell] = [
        ("last ", "ladder--label"),
        (format_units(lp, pp) or "—", f"{trend} ladder--title"),
    ]
    parts: list[list[Cell]] = []
    if lp is not None and close:
        parts.append([(f"  {format_units(lp - close, pp, sign=True)}", trend)])
    pc = scrip.get("pc")
    if pc is not None:
        parts.append([(f"  {format_units(pc, 2, sign=True)}%", trend)])
    ltq = scrip.get("ltq")
    if ltq is not None:
        parts.append([("  ltq ", "ladder--label"), (format_qty(ltq), "")])
    ltt = scrip.text("ltt")
    if ltt:
        parts.append([(f"  {clock_text(ltt, tz)}", "ladder--dim")])
    used = sum(len(text) for text, _ in line)
    for part in parts:
        size = sum(len(text) for text, _ in part)
        if used + size > width:
            break
        line += part
        used += size
    return line


def _levels(bids: list[Level], asks: list[Level], pp: int, width: int) -> list[Line]:
    """Header and ``DEPTH`` rows: ``ORD QTY BID │ ASK QTY ORD``."""
    rows = [
        (bids[i] if i < len(bids) else None, asks[i] if i < len(asks) else None)
        for i in range(DEPTH)
    ]
    texts = [
        [
            (format_units(lv.price, pp), format_qty(lv.qty), str(lv.orders)) if lv else ("", "", "")
            for lv in row
        ]
        for row in rows
    ]
    wp = max([3] + [len(t[0]) for row in texts for t in row])
    wq = max([3] + [len(t[1]) for row in texts for t in row])
    wo = max([3] + [len(t[2]) for row in texts for t in row])
    side = (width - 3) // 2
    show_orders = wo + wq + wp + 2 <= side
    if show_orders:
        wq = side - wo - wp - 2
    else:
        wq = max(side - wp - 1, wq)

    def bid(price: str, qty: str, orders: str, style: str) -> list[Cell]:
        cells: list[Cell] = [(pad(orders, wo, "right") + " ", "ladder--dim")] if show_orders else []
        return cells + [(pad(qty, wq, "right") + " ", ""), (pad(price, wp, "right"), style)]

    def ask(price: str, qty: str, orders: str, style: str) -> list[Cell]:
        cells: list[Cell] = [(pad(price, wp), style), (" " + pad(qty, wq, "right"), "")]
        return cells + ([(" " + pad(orders, wo, "right"), "ladder--dim")] if show_orders else [])

    header: list[Cell] = [
        *((text, "ladder--header") for text, _ in bid("BID", "QTY", "ORD", "")),
        (" │ ", "ladder--dim"),
        *((text, "ladder--header") for text, _ in ask("ASK", "QTY", "ORD", "")),
    ]
    lines: list[Line] = [header]
    for b, a in texts:
        lines.append([*bid(*b, "ladder--bid"), (" │ ", "ladder--dim"), *ask(*a, "ladder--ask")])
    return lines


Value = str | tuple[str, ...]


def _pair(left: tuple[str, Value], right: tuple[str, Value], width: int) -> Line:
    """``label value │ label value``: two halves aligned with the levels, values right.

    A value may be given as alternatives, longest first: the first that fits is shown.
    """
    side = (width - 3) // 2
    line: list[Cell] = []
    for room, (label, value) in ((side, left), (width - side - 3, right)):
        if line:
            line.append(("   ", ""))
        room = max(room - len(label) - 1, 1)
        options = (value,) if isinstance(value, str) else value
        text = next((v for v in options if len(v) <= room), options[-1]) or "—"
        line += [(label, "ladder--label"), (" " + pad(text, room, "right"), "")]
    return line
