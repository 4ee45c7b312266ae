"""The ladder of the selected scrip: levels a side with quantity bars, and its summary.

Bids on the left, asks on the right, best prices meeting at the middle.  Every row is
``ORD QTY bar BID │ ASK bar QTY ORD``; bars are eighth blocks, anchored on their left
(the only way eighth blocks line up), so bid bars grow toward the middle and ask bars
outward, all in proportion to the largest quantity shown on either side.  The level at
the last traded price is marked (``◂`` after a bid, ``▸`` before an ask, and
highlighted).

The levels come from the scrip's depth (``Scrip.bids()``/``asks()``, five a side); when
the L2 book goes deeper than a full depth side, its levels beyond the depth's fifth price
are added, as many as the pane's height leaves after the summary.  A scrip with a book
but no depth fields is drawn from ``OrderBook.levels`` alone.  A pane taller than the
levels there are (maximised) says why under them: the whole book is shown, or the app's
note (:meth:`Ladder.set_note`: an L1 feed has five levels, an index has no book).

Below the levels, the summary: spread, imbalance (``tbq``/``tsq``), high/low, circuit
limits, open/close, average price, 52-week range.  A short pane keeps five levels and
drops summary lines by :data:`SUMMARY_ORDER` (least useful first).  Rebuilt only when
invalidated (the selected scrip changed in a flush) or resized (the height sets the depth
shown): a few dozen lines, of which only those that changed are restyled and repainted.
"""

from __future__ import annotations

from datetime import tzinfo
from typing import TYPE_CHECKING, ClassVar, Final

from tui.widgets.strips import Cell, Line, LinesWidget, pad, trade_clock
from tui.widgets.styles import theme_css
from tui.wire.fields import LEVELS
from tui.wire.prices import format_qty, format_units

if TYPE_CHECKING:
    from tui.market.book import OrderBook
    from tui.market.scrip import Level, Scrip
    from tui.market.store import Market

#: levels a side always shown (the depth's five)
DEPTH: Final = LEVELS
#: the eighth blocks of a bar's ragged end, by eighths (index 0: none)
EIGHTHS: Final = ("", "▏", "▎", "▍", "▌", "▋", "▊", "▉")
#: a level's bar is dropped (with the order counts first) below this many cells
BAR_MIN: Final = 2
#: and never wider than this (spare room goes to the quantities)
BAR_MAX: Final = 10
#: summary lines, kept first to dropped first when the pane is short
SUMMARY_ORDER: Final = ("spread", "imbalance", "range", "circuit", "session", "average", "52w")


class Ladder(LinesWidget):
    DEFAULT_CSS: ClassVar[str] = theme_css("ladder")  # its own styles, mounted anywhere
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "ladder--title",
        "ladder--label",
        "ladder--header",
        "ladder--bid",
        "ladder--ask",
        "ladder--bid-bar",
        "ladder--ask-bar",
        "ladder--last",
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
        #: why there is no deeper book (the app's: the feed's level, an index); shown
        #: under the levels when the pane has room to spare
        self.note: tuple[str, ...] = ()

    def set_note(self, *note: str) -> None:
        """The note, as alternatives longest first: the first that fits is shown."""
        if note != self.note:
            self.note = note
            self.invalidate()

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
        """The lines for ``width`` and the widget's height (unknown height: five levels
        and every summary line)."""
        width = max(width - 2, 10)  # one cell of margin each side
        if self.key is None:
            return [[(" No scrip selected.", "ladder--dim")]]
        scrip = self.market.view(self.key)
        if scrip is None:
            return [[(f" Waiting for {self.key}…", "ladder--dim")]]
        height = self.size.height
        bids, asks = _sides(scrip, self.market.books.get(self.key), max(height - 2, DEPTH))
        summary = _summary(scrip, bids, asks, width)
        room = height - 2 - len(summary) if height else DEPTH  # under the last line, header
        depth = max(DEPTH, min(room, max(len(bids), len(asks))))
        if height:
            summary = _keep(summary, height - 2 - depth)
        lines: list[Line] = [_last(scrip, width, self.tz)]
        lines += _levels(bids, asks, depth, scrip, width)
        if height and room > depth:  # rows to spare: say why there are no more levels
            texts = self._why_no_deeper(bids, asks)
            lines.append([(next((t for t in texts if len(t) <= width), texts[-1]), "ladder--dim")])
        lines += [line for _, line in summary]
        return [[(" ", ""), *line] for line in lines]

    def _why_no_deeper(self, bids: list[Level], asks: list[Level]) -> tuple[str, ...]:
        if self.key in self.market.books:
            return (
                f"the whole L2 book: {len(bids)} bid and {len(asks)} ask levels",
                f"whole book: {len(bids)} bids, {len(asks)} asks",
            )
        most = max(len(bids), len(asks))
        return self.note or (f"{most} level{'s' if most != 1 else ''} a side: all the feed sends",)


def _keep(summary: list[tuple[str, Line]], room: int) -> list[tuple[str, Line]]:
    """The summary lines that fit in ``room``: the first of :data:`SUMMARY_ORDER` win,
    shown in their own order."""
    if room >= len(summary):
        return summary
    ranked = sorted(summary, key=lambda item: SUMMARY_ORDER.index(item[0]))
    kept = {name for name, _ in ranked[: max(room, 0)]}
    return [item for item in summary if item[0] in kept]


def _sides(scrip: Scrip, book: OrderBook | None, rows: int) -> tuple[list[Level], list[Level]]:
    """Bids and asks, best first, at most ``rows`` a side: the depth, deepened by the book."""
    bids, asks = scrip.bids(), scrip.asks()
    if book is None:
        return bids, asks
    book_bids, book_asks = book.levels(scrip.pp, rows)
    if not bids and not asks:
        return book_bids, book_asks
    return _deeper(bids, book_bids, rows, bid=True), _deeper(asks, book_asks, rows, bid=False)


def _deeper(depth: list[Level], book: list[Level], rows: int, *, bid: bool) -> list[Level]:
    """``depth`` and, if it is full, the book's levels past its last price (the book may lag
    the depth by a frame: the depth is trusted for the five it has)."""
    if len(depth) < DEPTH or len(book) <= len(depth):
        return depth
    last = depth[-1].price
    beyond = [lv for lv in book if (lv.price < last if bid else lv.price > last)]
    return (depth + beyond)[:rows]


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
        when = trade_clock(ltt, scrip.key.partition("|")[0], scrip.get("ft"), tz)
        parts.append([(f"  {when}", "ladder--dim")])
    used = sum(len(text) for text, _ in line)
    for part in parts:
        size = sum(len(text) for text, _ in part)
        if used + size > width:
            break
        line += part
        used += size
    return line


# -- levels ------------------------------------------------------------------------------


def bar(qty: int, largest: int, cells: int) -> str:
    """``qty`` as a bar of ``cells`` (eighth blocks, left-anchored, padded with spaces)
    in proportion to ``largest``; any quantity shows at least an eighth."""
    if cells <= 0:
        return ""
    if qty <= 0 or largest <= 0:
        return " " * cells
    eighths = min(max((qty * cells * 8 + largest // 2) // largest, 1), cells * 8)
    full, part = divmod(eighths, 8)
    return ("█" * full + EIGHTHS[part]).ljust(cells)


class _Widths:
    """Cell widths of one side of a level row (0: the part is not shown)."""

    __slots__ = ("bar", "orders", "price", "qty")

    def __init__(self, side: int, price: int, qty: int, orders: int) -> None:
        self.price, self.qty, self.orders = price, qty, orders
        self.bar = side - price - qty - orders - 3  # a space between each of the four
        if self.bar < BAR_MIN:  # the order counts go first
            self.orders = 0
            self.bar = side - price - qty - 2
        if self.bar < BAR_MIN:  # then the bar
            self.bar = 0
        if self.bar > BAR_MAX:
            self.qty += self.bar - BAR_MAX
            self.bar = BAR_MAX
        if not self.bar:  # no orders either: the quantity takes what is left
            self.qty = max(side - price - 1, 1)


def _levels(
    bids: list[Level], asks: list[Level], depth: int, scrip: Scrip, width: int
) -> list[Line]:
    """Header and ``depth`` rows: ``ORD QTY bar BID │ ASK bar QTY ORD``."""
    pp, lp = scrip.pp, scrip.get("lp")
    bids, asks = bids[:depth], asks[:depth]
    shown = bids + asks
    wp = max([3] + [len(format_units(lv.price, pp)) for lv in shown])
    wq = max([3] + [len(format_qty(lv.qty)) for lv in shown])
    wo = max([3] + [len(str(lv.orders)) for lv in shown])
    side = (width - 3) // 2
    left = _Widths(side, wp, wq, wo)
    right = _Widths(side, wp, wq, wo)
    right.qty += width - 3 - 2 * side  # an odd cell: to a quantity, keeping bars alike
    largest = max([lv.qty for lv in shown], default=0)

    header: list[Cell] = [
        (_bid_text(left, "ORD", "QTY", "", "BID"), "ladder--header"),
        (" │ ", "ladder--dim"),
        (_ask_text(right, "ASK", "", "QTY", "ORD"), "ladder--header"),
    ]
    lines: list[Line] = [header]
    for i in range(depth):
        b = bids[i] if i < len(bids) else None
        a = asks[i] if i < len(asks) else None
        b_last = b is not None and b.price == lp
        a_last = a is not None and a.price == lp and not b_last
        middle = "◂│ " if b_last else (" │▸" if a_last else " │ ")
        lines.append(
            [
                *_bid_cells(left, b, largest, pp, b_last),
                (middle, "ladder--title" if b_last or a_last else "ladder--dim"),
                *_ask_cells(right, a, largest, pp, a_last),
            ]
        )
    return lines


def _bid_text(w: _Widths, orders: str, qty: str, bar_text: str, price: str) -> str:
    parts = [pad(orders, w.orders, "right")] if w.orders else []
    parts.append(pad(qty, w.qty, "right"))
    if w.bar:
        parts.append(pad(bar_text, w.bar))
    parts.append(pad(price, w.price, "right"))
    return " ".join(parts)


def _ask_text(w: _Widths, price: str, bar_text: str, qty: str, orders: str) -> str:
    parts = [pad(price, w.price)]
    if w.bar:
        parts.append(pad(bar_text, w.bar))
    parts.append(pad(qty, w.qty, "right"))
    if w.orders:
        parts.append(pad(orders, w.orders, "right"))
    return " ".join(parts)


def _bid_cells(w: _Widths, lv: Level | None, largest: int, pp: int, last: bool) -> list[Cell]:
    if lv is None:
        return [(_bid_text(w, "", "", "", ""), "")]
    cells: list[Cell] = []
    if w.orders:
        cells.append((pad(str(lv.orders), w.orders, "right") + " ", "ladder--dim"))
    cells.append((pad(format_qty(lv.qty), w.qty, "right") + " ", ""))
    if w.bar:
        cells.append((bar(lv.qty, largest, w.bar) + " ", "ladder--bid-bar"))
    style = "ladder--bid ladder--last" if last else "ladder--bid"
    cells.append((pad(format_units(lv.price, pp), w.price, "right"), style))
    return cells


def _ask_cells(w: _Widths, lv: Level | None, largest: int, pp: int, last: bool) -> list[Cell]:
    if lv is None:
        return [(_ask_text(w, "", "", "", ""), "")]
    style = "ladder--ask ladder--last" if last else "ladder--ask"
    cells: list[Cell] = [(pad(format_units(lv.price, pp), w.price), style)]
    if w.bar:
        cells.append((" " + bar(lv.qty, largest, w.bar), "ladder--ask-bar"))
    cells.append((" " + pad(format_qty(lv.qty), w.qty, "right"), ""))
    if w.orders:
        cells.append((" " + pad(str(lv.orders), w.orders, "right"), "ladder--dim"))
    return cells


# -- summary -----------------------------------------------------------------------------

Value = str | tuple[str, ...]


def _summary(
    scrip: Scrip, bids: list[Level], asks: list[Level], width: int
) -> list[tuple[str, Line]]:
    """The summary lines in display order, each named for :data:`SUMMARY_ORDER`; a line
    with nothing to show (no tbq/tsq, no 52-week range) is left out."""
    price = scrip.price_text
    spread = _spread(scrip, bids, asks)
    volume = format_qty(scrip.get("v"))
    lines: list[tuple[str, Line]] = [
        ("spread", _pair(("spread", spread), ("volume", volume), width))
    ]
    imbalance = _imbalance(scrip.get("tbq"), scrip.get("tsq"), width)
    if imbalance:
        lines.append(("imbalance", imbalance))
    lines += [
        ("range", _pair(("high", price("h")), ("low", price("l")), width)),
        ("session", _pair(("open", price("o")), ("close", price("c")), width)),
        ("average", _pair(("avg", price("ap")), ("tick", price("ti")), width)),
        ("circuit", _pair(("lower ckt", price("lc")), ("upper ckt", price("uc")), width)),
    ]
    year = _year_range(scrip, width)
    if year:
        lines.append(("52w", year))
    return lines


def _spread(scrip: Scrip, bids: list[Level], asks: list[Level]) -> Value:
    """``0.10 · 1 tick`` (or ``0.10`` where that does not fit); ``""`` if one side is empty."""
    if not bids or not asks:
        return ""
    gap = asks[0].price - bids[0].price
    text = format_units(gap, scrip.pp)
    tick = scrip.get("ti")
    if tick and gap % tick == 0:
        ticks = gap // tick
        return (f"{text} · {ticks} tick" + ("s" if ticks != 1 else ""), text)
    return text


def _imbalance(tbq: int | None, tsq: int | None, width: int) -> Line:
    """``buy 51% ██████░░░░░ 49% sell``: total buy against total sell quantity; the bar's
    solid part is the buy share (two glyphs, so it reads without colour)."""
    total = (tbq or 0) + (tsq or 0)
    if tbq is None or tsq is None or total == 0:
        return []
    buy = (tbq * 100 + total // 2) // total
    left, right = f"buy {buy}% ", f" {100 - buy}% sell"
    cells = max(width - len(left) - len(right), 0)
    solid = (tbq * cells + total // 2) // total
    return [
        ("buy ", "ladder--label"),
        (f"{buy}% ", "ladder--bid"),
        ("█" * solid, "ladder--bid-bar"),
        ("░" * (cells - solid), "ladder--ask-bar"),
        (f" {100 - buy}%", "ladder--ask"),
        (" sell", "ladder--label"),
    ]


def _year_range(scrip: Scrip, width: int) -> Line:
    """``52w 2220.30 ─────●─── 3217.90``: where the last price sits in the 52-week range
    (``●`` on the track; at an end when outside it)."""
    low, high, lp = scrip.get("52l"), scrip.get("52h"), scrip.get("lp")
    if low is None or high is None:
        return []
    low_text, high_text = scrip.price_text("52l"), scrip.price_text("52h")
    cells = width - len("52w ") - len(low_text) - len(high_text) - 2
    if cells < 3:
        return [("52w ", "ladder--label"), (f"{low_text}..{high_text}", "")]
    at = None
    if lp is not None and high > low:
        at = (min(max(lp, low), high) - low) * (cells - 1) // (high - low)
    track_left = "─" * (at if at is not None else cells)
    track_right = "─" * (cells - 1 - at) if at is not None else ""
    return [
        ("52w ", "ladder--label"),
        (low_text + " ", ""),
        (track_left, "ladder--dim"),
        ("●" if at is not None else "", "ladder--title"),
        (track_right, "ladder--dim"),
        (" " + high_text, ""),
    ]


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
