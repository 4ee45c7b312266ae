"""Pieces shared by the desk's Line API widgets: fitted columns, cells, prebuilt lines.

A row is a list of cells ``(text, component class)``; it is computed once from typed
market values and turned into a :class:`~textual.strip.Strip` with the widget's styles.
Columns keep a width that only grows (a wider value widens the column once, for every
row), and drop out by ``drop`` order when the widget is too narrow for all of them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone, tzinfo
from typing import ClassVar, Final, Literal, Protocol

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual.cache import FIFOCache, LRUCache
from textual.dom import NoScreen
from textual.geometry import Region, Size
from textual.strip import Strip
from textual.widget import Widget

#: ``(text, component class name or "")``
Cell = tuple[str, str]
Line = Sequence[Cell]


@dataclass(slots=True)
class Column:
    key: str
    title: str
    width: int
    align: Literal["left", "right"] = "right"
    #: 0: never dropped; otherwise the highest number is dropped first
    drop: int = 0
    max_width: int = 24

    def widen(self, text: str) -> bool:
        """Grow to fit ``text`` (up to ``max_width``); True if the width changed."""
        need = min(cell_len(text), self.max_width)
        if need > self.width:
            self.width = need
            return True
        return False


def fit(columns: Sequence[Column], width: int, gap: int = 1) -> list[Column]:
    """The columns that fit in ``width``, dropping the most droppable first."""
    kept = list(columns)

    def total() -> int:
        return sum(c.width for c in kept) + gap * max(len(kept) - 1, 0)

    while total() > width:
        droppable = [c for c in kept if c.drop]
        if not droppable:
            break
        kept.remove(max(droppable, key=lambda c: c.drop))
    return kept


def pad(text: str, width: int, align: str = "left") -> str:
    """``text`` cut (with an ellipsis) or padded to exactly ``width`` cells."""
    if width <= 0:
        return ""
    size = cell_len(text)
    if size > width:
        return set_cell_size(text, width - 1) + "…" if width > 1 else "…"
    if align == "right":
        return " " * (width - size) + text
    return text + " " * (width - size)


def pad_middle(text: str, width: int) -> str:
    """``text`` cut in the middle (keeping both ends, e.g. an endpoint's host and path)."""
    if cell_len(text) <= width or width < 5:
        return pad(text, width)
    head = (width - 1) // 2
    return text[:head] + "…" + text[len(text) - (width - 1 - head) :]


#: the exchanges' own clocks (UTC offsets; neither zone keeps summer time): the feed's
#: ``ltt`` as ``HH:MM:SS`` is the exchange's time of day
EXCHANGE_ZONES: Final[dict[str, tzinfo]] = {
    **dict.fromkeys(
        ("NSE", "BSE", "NFO", "BFO", "CDS", "MCX"), timezone(timedelta(hours=5, minutes=30))
    ),
    "PSX": timezone(timedelta(hours=5)),
}


def trade_clock(ltt: str, exchange: str, ft: int | None, tz: tzinfo | None) -> str:
    """The last-trade time ``ltt`` as ``HH:MM:SS`` in ``tz`` (None: local), the zone of
    every other time on the desk: epoch seconds are converted; an exchange clock
    ``HH:MM:SS`` is read in the exchange's zone on the day of the feed time ``ft``.
    What cannot be placed (no ``ft``, an exchange of unknown zone) is shown as sent."""
    text = ltt.strip()
    if text.isdigit():
        return clock_text(text, tz)
    zone = EXCHANGE_ZONES.get(exchange)
    try:
        clock = datetime.strptime(text, "%H:%M:%S").time()
    except ValueError:
        return text[:8]
    if zone is None or ft is None:
        return text[:8]
    day = datetime.fromtimestamp(ft, zone).date()
    return datetime.combine(day, clock, zone).astimezone(tz).strftime("%H:%M:%S")


def zone_name(tz: tzinfo | None) -> str:
    """How the header names the desk's zone: ``UTC``, ``Asia/Karachi``, or the machine's
    own (``local (PKT)``)."""
    if tz is None:
        return f"local ({datetime.now().astimezone().tzname()})"
    return str(getattr(tz, "key", None) or tz.tzname(None) or tz)


def clock_text(value: object, tz: tzinfo | None) -> str:
    """Epoch seconds (text or int) as ``HH:MM:SS`` in ``tz``; other text as it is."""
    text = str(value)
    if not text.isdigit() or len(text) > 12:
        return text[:8]
    return datetime.fromtimestamp(int(text), tz).strftime("%H:%M:%S")


def table_line(
    columns: Sequence[Column], cells: dict[str, Cell], gap: int = 1, lead: Cell = (" ", "")
) -> list[Cell]:
    """One row of a column table as cells (missing values blank), after a ``lead`` cell."""
    out: list[Cell] = [lead]
    for i, column in enumerate(columns):
        if i:
            out.append((" " * gap, ""))
        text, style = cells.get(column.key, ("", ""))
        out.append((pad(text, column.width, column.align), style))
    return out


class LineStyles:
    """Component styles of one widget, looked up once per build (Textual caches them).

    ``base`` names a component class for the whole line (a header, the cursor row): its
    full style, background blended with the widget's; cells add their partial styles.
    """

    #: cells kept as styled segments (a screen of rows changes a few cells a frame)
    SEGMENTS_KEPT: ClassVar[int] = 4096

    def __init__(self, widget: Widget, base: str = "") -> None:
        self.widget = widget
        self.base = widget.get_component_rich_style(base) if base else widget.rich_style
        self._styles: dict[str, Style] = {}
        #: each cell drawn lately as its segment and cell length: an unchanged cell of a
        #: rebuilt row costs a look-up, not a new segment and a measure
        self._segments: FIFOCache[Cell, tuple[Segment, int]] = FIFOCache(self.SEGMENTS_KEPT)

    def __call__(self, name: str) -> Style:
        style = self._styles.get(name)
        if style is None:
            style = self.base
            for part in name.split():
                style = style + self._cell(part)
            self._styles[name] = style
        return style

    def _cell(self, part: str) -> Style:
        """A component's partial style with its colours blended like a full style's.

        A partial style takes a translucent colour at full strength (Textual drops the
        alpha): ``$text-muted`` would be drawn white and ``$up 25%`` a block of full colour.
        The full style has them blended with the widget's background, so its colours are
        used for the colours the component sets.
        """
        widget = self.widget
        partial = widget.get_component_rich_style(part, partial=True)
        if partial.color is None and partial.bgcolor is None:
            return partial
        full = widget.get_component_rich_style(part)
        return partial + Style(
            color=full.color if partial.color is not None else None,
            bgcolor=full.bgcolor if partial.bgcolor is not None else None,
        )

    def strip(self, cells: Iterable[Cell], width: int) -> Strip:
        """The cells as one line of exactly ``width`` cells, padded in the base style.

        What ``Strip(segments).adjust_cell_length(width, base)`` makes, made as one
        :class:`Strip` that knows its length (no second strip for the padding).
        """
        cached = self._segments
        segments: list[Segment] = []
        append = segments.append
        length = 0
        for cell in cells:
            if not cell[0]:
                continue
            entry = cached.get(cell)
            if entry is None:
                text, name = cell
                entry = cached[cell] = (Segment(text, self(name)), cell_len(text))
            append(entry[0])
            length += entry[1]
        if length < width:
            append(Segment(" " * (width - length), self.base))
        elif length > width:
            return Strip(segments, length).crop(0, width)
        return Strip(segments, width)


def on_current_screen(widget: Widget) -> bool:
    """True if ``widget`` is mounted on the screen shown now: what it computes now is drawn
    in the next frame (else it may wait until it is drawn)."""
    if not widget.is_mounted:
        return False
    try:
        return widget.screen.is_current
    except NoScreen:  # being removed
        return False


def line_regions(lines: Iterable[int], width: int) -> list[Region]:
    """Regions ``width`` wide covering the lines ``lines`` (content coordinates), adjacent
    lines as one region: what ``Widget.refresh`` takes to repaint only those lines."""
    regions: list[Region] = []
    for y in sorted(set(lines)):
        if regions and regions[-1].bottom == y:
            last = regions[-1]
            regions[-1] = Region(0, last.y, width, last.height + 1)
        else:
            regions.append(Region(0, y, width, 1))
    return regions


class Clearable(Protocol):
    """A cache of row strips as :class:`TableCaches` needs it: emptied on a re-layout."""

    def clear(self) -> None: ...


class TableCaches:
    """The caches of a Line API table widget (watchlist, tape): the columns that fit, the
    row strips, the title row and the styles.  Mixed in before the Textual base class."""

    _columns: list[Column]
    _shown: list[Column]
    _width: int
    _strips: Clearable  # a dict or Textual's LRUCache of row strips
    _header: Strip | None
    _styles: LineStyles | None

    def _layout(self, width: int) -> None:
        """Fit the columns to ``width``; every cached line is drawn again."""
        self._width = width
        self._shown = fit(self._columns, max(width - 2, 0))
        self._strips.clear()
        self._header = None
        self._styles = None

    def _widen(self, cells: Mapping[str, Cell]) -> bool:
        """Grow the columns to fit ``cells``; if any grew, lay out and redraw every row
        (and say so)."""
        widened = False
        for column in self._columns:
            widened = column.widen(cells.get(column.key, ("", ""))[0]) or widened
        if widened:
            self._layout(self._width)
            self.refresh()  # type: ignore[attr-defined]
        return widened

    def notify_style_update(self) -> None:
        super().notify_style_update()  # type: ignore[misc]
        self._strips.clear()
        self._header = None
        self._styles = None


def header_strip(widget: Widget, columns: Sequence[Column], style: str, width: int) -> Strip:
    """The title row of a table widget, in ``style`` (cache it: it changes with the layout)."""
    titles = {c.key: (c.title, "") for c in columns}
    return LineStyles(widget, style).strip(table_line(columns, titles), width)


class LinesWidget(Widget):
    """A small widget drawn from a few lines that are rebuilt only when told to.

    Subclasses implement :meth:`build` (the lines for a width); :meth:`invalidate` rebuilds
    them.  While the widget is on the current screen and was drawn at its size, the new
    lines are compared with the drawn ones and only the lines that differ are restyled and
    repainted (``refresh`` of their regions); a line seen lately is not restyled again
    (a :class:`~textual.cache.LRUCache` of strips by cells, as Textual's ``Log`` keeps
    its lines).  Otherwise the lines are rebuilt when next drawn.  Used by the ladder and
    the health panel (a few dozen lines each).
    """

    DEFAULT_CSS = "LinesWidget { height: 1fr; }"
    #: strips kept by their cells (a few screens' worth of lines)
    STRIPS_KEPT: ClassVar[int] = 256

    def __init__(self, *, name: str | None = None, id: str | None = None) -> None:
        super().__init__(name=name, id=id)
        self._strips: list[Strip] | None = None
        #: the cells of each drawn line (compared with a rebuild's)
        self._lines: list[tuple[Cell, ...]] = []
        #: the size the lines were built for (a build may depend on the height)
        self._built_for = Size(-1, -1)
        self._styled: LRUCache[tuple[Cell, ...], Strip] = LRUCache(self.STRIPS_KEPT)
        #: the component styles (and their segments), kept until the styles change
        self._line_styles: LineStyles | None = None
        #: how many times the lines were rebuilt (tests and benchmarks read it)
        self.builds = 0
        #: lines restyled since mounted (tests and benchmarks read it)
        self.lines_styled = 0

    def build(self, width: int) -> list[Line]:
        raise NotImplementedError

    def invalidate(self, lines: Sequence[Line] | None = None) -> None:
        """The lines changed: repaint those that differ.

        ``lines``: the new lines, if the caller has just built them for the widget's
        width (saves a second build)."""
        if self._strips is None or self._built_for != self.size or not on_current_screen(self):
            self._strips = None  # drawn from scratch when next shown
            self.refresh()
            return
        width = self.size.width
        changed = self._restyle(list(lines) if lines is not None else self.build(width))
        if changed:
            self.refresh(*changed)

    def _restyle(self, lines: list[Line]) -> list[Region]:
        """Take ``lines`` as the drawn lines, reusing the strips of lines that did not
        change; the regions (content coordinates) of the lines that did."""
        width = self.size.width
        styles = self._line_styles
        old_lines, old_strips = self._lines, self._strips or []
        new_lines: list[tuple[Cell, ...]] = []
        strips: list[Strip] = []
        changed: list[int] = []
        styled = self._styled
        for y, line in enumerate(lines):
            cells = tuple(line)
            new_lines.append(cells)
            if y < len(old_lines) and old_lines[y] == cells and y < len(old_strips):
                strips.append(old_strips[y])
                continue
            strip = styled.get(cells)
            if strip is None:
                if styles is None:
                    styles = self._line_styles = LineStyles(self)
                strip = styled[cells] = styles.strip(cells, width)
                self.lines_styled += 1
            strips.append(strip)
            changed.append(y)
        changed += range(len(lines), len(old_lines))  # lines gone: blank now
        self._lines, self._strips = new_lines, strips
        self.builds += 1
        return line_regions(changed, width)

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._strips = None
        self._styled.clear()
        self._line_styles = None

    def render_line(self, y: int) -> Strip:
        size = self.size
        if self._strips is None or size != self._built_for:
            if size.width != self._built_for.width:
                self._styled.clear()  # strips of another width
                self._line_styles = None
            self._built_for = size
            self._lines = []
            self._restyle(self.build(size.width))
        assert self._strips is not None
        if y < len(self._strips):
            return self._strips[y]
        return Strip.blank(size.width, self.rich_style)

    def lines_text(self) -> list[str]:
        """The lines as plain text (for tests)."""
        width = self.size.width or 80
        return ["".join(text for text, _ in line).rstrip() for line in self.build(width)]
