"""The watchlist: one row per scrip, redrawn row by row as the market flushes.

A Line API ``ScrollView`` (the toolong model).  Two caches, by
key: a row's *cells* are computed from the scrip's typed values (``rows_built`` counts
it) when the scrip changes; its *strip* (the cells styled: the selection mark, a flash,
the stale mark) is dropped when any of those change, and is cheap to rebuild from the
cells.  A changed scrip on screen has its cells computed in the frame that takes the
change and compared with the drawn ones: only a row whose shown cells differ is rebuilt
and repainted (``refresh`` of its line; all such lines in one call).  Only rows on
screen are ever computed, so only scrips on screen are converted (``Market.view``).

Time never comes from a clock of the widget's own: the app hands it in
(:meth:`Watchlist.refresh_keys`, :meth:`Watchlist.tick`, :meth:`Watchlist.mark_stale`),
so the same calls draw the same screen in a test. The columns: ``columns.py``.

Rows keep the list's own order unless a sort column is chosen (``s``/``S``); a sorted
order is recomputed by :meth:`Watchlist.resort`, which the app calls twice a second, never
every frame: it converts every row's scrip, and rows must not jump at tick rate.

The cursor (j/k, arrows) and the selected scrip (enter) are separate: the ladder and the
tape follow the selection, announced with :class:`Watchlist.Selected`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, ClassVar, Final

from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from tui.market.stale import StaleMarks
from tui.widgets.columns import COLUMN_KEYS, COLUMNS, DEFAULT_COLUMNS, Row, lone_partner
from tui.widgets.glyphs import DOWN_ARROW, MARK, STALE_MARK, UP_ARROW
from tui.widgets.strips import (
    Cell,
    Column,
    LineStyles,
    TableCaches,
    fit,
    line_regions,
    on_current_screen,
    table_line,
)
from tui.widgets.styles import theme_css

if TYPE_CHECKING:
    from tui.market.store import Market

#: cells before the first column: the selection mark, the stale mark, a space
LEAD: Final = 3


def make_columns(keys: Sequence[str] | None = None) -> list[Column]:
    """Fresh columns (their widths grow per widget) for ``keys``, in that order."""
    keys = DEFAULT_COLUMNS if keys is None else tuple(keys)
    unknown = [k for k in keys if k not in COLUMNS]
    if unknown or not keys or len(set(keys)) != len(keys):
        what = "watchlist columns must be listed once each, at least one"
        if unknown:
            what = f"unknown watchlist column {', '.join(map(repr, unknown))}"
        raise ValueError(f"{what}; known columns: {', '.join(COLUMN_KEYS)}")
    return [
        Column(key, spec.title, spec.width, spec.align, spec.drop, spec.max_width)
        for key, spec in ((key, COLUMNS[key]) for key in keys)
    ]


#: cells that keep their colour on a stale row: a locked scrip often stops quoting
_VIVID: Final = frozenset({"watchlist--locked"})


class Watchlist(TableCaches, ScrollView, can_focus=True):
    """Scrips of the desk; ``keys`` fixed, or following the market's scrips when None.

    ``columns``: column keys in order (:data:`COLUMN_KEYS`; None: :data:`DEFAULT_COLUMNS`).
    ``names``: instrument names by key (the catalogue) for the ``name`` column.
    ``flash``/``flash_for``: a last-price change tints the cell for that many seconds.
    ``circuit_near``: percent from a circuit limit within which ``ckt`` shows the distance.
    """

    DEFAULT_CSS: ClassVar[str] = theme_css("watchlist")  # its own styles, mounted anywhere
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j,down", "cursor_down", "Down", id="watchlist.down", show=False),
        Binding("k,up", "cursor_up", "Up", id="watchlist.up", show=False),
        Binding("pagedown", "page_down", "Page down", id="watchlist.page_down", show=False),
        Binding("pageup", "page_up", "Page up", id="watchlist.page_up", show=False),
        Binding("g,home", "first", "First", id="watchlist.first", show=False),
        Binding("G,end", "last", "Last", id="watchlist.last", show=False),
        Binding("enter", "select", "Select", id="watchlist.select"),
        Binding("s", "sort", "Sort", id="watchlist.sort"),
        Binding("S", "sort_reverse", "Reverse sort", id="watchlist.sort_reverse", show=False),
    ]
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "watchlist--header",
        "watchlist--sorted",
        "watchlist--cursor",
        "watchlist--selected",
        "watchlist--symbol",
        "watchlist--name",
        "watchlist--up",
        "watchlist--down",
        "watchlist--flat",
        "watchlist--bid",
        "watchlist--ask",
        "watchlist--dim",
        "watchlist--spark",
        "watchlist--flash-up",
        "watchlist--flash-down",
        "watchlist--stale",
        "watchlist--stale-mark",
        "watchlist--near",
        "watchlist--locked",
        "watchlist--crossed",
    }

    class Selected(Message):
        """The user chose a scrip for the ladder and the tape."""

        def __init__(self, key: str) -> None:
            super().__init__()
            self.key = key

    def __init__(
        self,
        market: Market,
        keys: Sequence[str] | None = None,
        *,
        selected: str | None = None,
        columns: Sequence[str] | None = None,
        names: Mapping[str, str] | None = None,
        flash: bool = True,
        flash_for: float = 0.6,
        circuit_near: float = 2.0,
        name: str | None = None,
        id: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id)
        self._columns = make_columns(columns)  # first: a bad config fails before anything
        self.market = market
        self.names: Mapping[str, str] = names if names is not None else {}
        self.flash = flash
        self.flash_for = flash_for
        #: ``circuit_near`` percent in basis points (a threshold, not a price)
        self.near_bp = round(circuit_near * 100)
        self.follow = keys is None
        #: the list's own order; ``keys`` is the order shown (sorted or not)
        self._order: list[str] = list(market.scrips if keys is None else dict.fromkeys(keys))
        self.keys: list[str] = list(self._order)
        self._index = {key: i for i, key in enumerate(self.keys)}
        if selected not in self._index:
            selected = self.keys[0] if self.keys else None
        #: the scrip of the ladder and the tape
        self.selected: str | None = selected
        self.cursor = self._index[selected] if selected is not None else 0
        #: the key of the sort column (None: the list's own order) and its direction
        self.sort_column: str | None = None
        self.sort_reverse = False
        self._shown: list[Column] = []
        self._width = -1
        self._cells: dict[str, dict[str, Cell]] = {}
        self._strips: dict[str, Strip] = {}
        self._header: Strip | None = None
        self._styles: LineStyles | None = None
        self._cursor_styles: LineStyles | None = None
        #: the clock time last handed in (flashes start at it; none before a clock is given)
        self._now: float | None = None
        #: ``(lp, pp)`` last drawn per key: a different one is a tick to flash
        self._drawn: dict[str, tuple[int, int]] = {}
        #: key -> (clock time the flash ends, its component class)
        self._flashes: dict[str, tuple[float, str]] = {}
        self._marks = StaleMarks()
        #: rows computed from market values, by key (tests and benchmarks read it)
        self.rows_built: Counter[str] = Counter()
        self._update_virtual_size()

    # -- the feed side -------------------------------------------------------------------
    def refresh_keys(self, changed: Iterable[str], now: float | None = None) -> int:
        """Redraw the rows of ``changed`` keys (call inside ``App.batch_update``).

        ``now``: the frame's clock time, when a redrawn last price starts a flash (None:
        the time last handed in).  Returns how many new scrips were added (following the
        market, ``keys=None``).
        """
        if now is not None:
            self._now = now
        added = 0
        listed: list[str] = []
        for key in changed:
            if key in self._index:
                listed.append(key)
            elif self.follow and key in self.market.scrips:
                self._append(key)
                added += 1
        self._update_rows(listed)
        if added:
            if self.selected is None:
                self.selected = self.keys[0]
            self._update_virtual_size()
            self.refresh()
        return added

    def history_sampled(self, keys: Iterable[str]) -> None:
        """The market took new sparkline points for ``keys`` (``Market.sample_history``):
        the sparklines of the rows drawn on screen are computed again, and a row whose
        sparkline moved is repainted.  (A row's cells are computed when its scrip changes,
        in the frame; the sparkline moves on the health tick, between frames.)"""
        if all(column.key != "spark" for column in self._columns):
            return
        top = int(self.scroll_offset.y)
        bottom = top + self.scrollable_content_region.height
        cells_of, index, spark_cell = self._cells, self._index, COLUMNS["spark"].cell
        moved: list[str] = []
        for key in keys:
            row = index.get(key)
            cells = cells_of.get(key)
            if cells is None or row is None or not top <= row < bottom:
                continue  # computed afresh when drawn
            scrip = self.market.view(key)
            spark = spark_cell(self, Row.of(scrip)) if scrip is not None else None
            if spark is not None and spark != cells.get("spark"):
                cells_of[key] = {**cells, "spark": spark}
                moved.append(key)
        self._redraw(moved)

    def tick(self, now: float) -> None:
        """End the flashes that are over at ``now`` (the app calls it every frame)."""
        self._now = now
        if not self._flashes:
            return
        ended = [key for key, (until, _) in self._flashes.items() if until <= now]
        for key in ended:
            del self._flashes[key]
        self._redraw(ended)

    def mark_stale(self, now: float, after: float) -> set[str]:
        """Mark the scrips with no update for more than ``after`` seconds; the stale keys.

        A scrip not updated since it was first shown counts from then.  Only rows whose
        mark changed are redrawn.
        """
        moved = self._marks.check(self.market.updated, self.keys, now, after)
        if moved:
            self._redraw(moved)
        return set(self._marks.stale)

    @property
    def stale(self) -> frozenset[str]:
        return frozenset(self._marks.stale)

    @property
    def cursor_key(self) -> str | None:
        return self.keys[self.cursor] if self.keys else None

    # -- editing (the app edits its model, then hands the rows over) ---------------------
    def set_keys(self, keys: Sequence[str], selected: str | None = None) -> None:
        """Show ``keys`` (a tab switch, an add, a remove, a move).

        The cursor stays on the same scrip if it is still listed (else on the same row).
        ``selected``, if listed, becomes the selected scrip and takes the cursor (e.g. a
        scrip just added); no :class:`Selected` is posted: the caller knows.
        """
        order = list(dict.fromkeys(keys))
        cursor_key, row = self.cursor_key, self.cursor
        for key in set(self._order).difference(order):
            self._drop(key)
        self.follow = False
        self._order = order
        if selected is not None and selected in order:
            self.selected = cursor_key = selected
        elif self.selected is None and order:
            self.selected = order[0]
        self._show(self._sorted() if self.sort_column else list(order), cursor_key, row)
        self.refresh()

    # -- sorting -------------------------------------------------------------------------
    def set_sort(self, column: str | None, reverse: bool = False) -> None:
        """Sort by the column keyed ``column`` (None: the list's own order), at once."""
        if column is not None and column not in (c.key for c in self._columns):
            raise ValueError(f"no column {column!r} to sort by")
        self.sort_column, self.sort_reverse = column, reverse
        for shown in self._columns:
            if shown.key == column and shown.widen(shown.title + UP_ARROW):
                self._layout(self._width)  # room for the arrow
        self._header = None
        self.refresh_line(int(self.scroll_offset.y))  # the header: the top line on screen
        self.resort()

    def resort(self) -> bool:
        """Put the rows in sort order again (twice a second, not every frame); True if moved.

        Views every listed scrip when sorted; a missing value sorts last either way, and
        equal values keep the list's own order.
        """
        order = self._sorted() if self.sort_column else list(self._order)
        if order == self.keys:
            return False
        self._show(order, self.cursor_key, self.cursor)
        self.refresh()
        return True

    def _sorted(self) -> list[str]:
        value_of = COLUMNS[self.sort_column or ""].sort
        present: list[tuple[int | str, str]] = []
        missing: list[str] = []
        for key in self._order:
            scrip = self.market.view(key)
            value = value_of(self, Row.of(scrip)) if scrip is not None else None
            if value is None:
                missing.append(key)
            else:
                present.append((value, key))
        present.sort(key=lambda pair: pair[0], reverse=self.sort_reverse)
        return [key for _, key in present] + missing

    def action_sort(self) -> None:
        """Next sort column: off -> each shown column in turn -> off."""
        shown = [c.key for c in self._shown] or [c.key for c in self._columns]
        if self.sort_column is None:
            column: str | None = shown[0]
        elif self.sort_column in shown and shown.index(self.sort_column) + 1 < len(shown):
            column = shown[shown.index(self.sort_column) + 1]
        else:
            column = None
        self.set_sort(column, self.sort_reverse)

    def action_sort_reverse(self) -> None:
        self.set_sort(self.sort_column, not self.sort_reverse)

    # -- rows ------------------------------------------------------------------------------
    def _append(self, key: str) -> None:
        self._order.append(key)
        self._index[key] = len(self.keys)
        self.keys.append(key)

    def _drop(self, key: str) -> None:
        """Forget everything drawn for a key no longer listed."""
        for cache in (self._cells, self._strips, self._drawn, self._flashes):
            cache.pop(key, None)
        self._marks.forget(key)

    def _show(self, order: list[str], cursor_key: str | None, row: int) -> None:
        """Show rows in ``order``, the cursor on ``cursor_key`` if listed, else near ``row``."""
        self.keys = order
        self._index = {key: i for i, key in enumerate(order)}
        self._update_virtual_size()
        if cursor_key in self._index:
            self.cursor = self._index[cursor_key]
        else:
            self.cursor = max(0, min(row, len(order) - 1))
        self._scroll_to_cursor()

    def _update_rows(self, keys: Iterable[str]) -> None:
        """The scrips of ``keys`` changed: compute the cells of those on screen now and
        repaint only the rows whose shown cells differ from the drawn ones (a scrip that
        moved only where no column shows keeps its strip and is not repainted).  Rows off
        screen, never drawn, or not shown now (another screen on top) are computed when
        next drawn.

        A changed row is repainted whole: a region of its changed cells alone costs more
        (Textual 8.2.8's driver crops each line at the region's end into a new strip, and
        writes it from the line's start all the same; ``bench/paint.py``)."""
        top = int(self.scroll_offset.y)  # both cost microseconds: once, not once a key
        bottom = top + self.scrollable_content_region.height
        cached, index, shown = self._cells, self._index, self._shown
        now = on_current_screen(self)
        moved: list[str] = []
        for key in keys:
            row = index.get(key)
            drawn = cached.get(key)
            if drawn is None or not now or row is None or not top <= row < bottom:
                cached.pop(key, None)
                moved.append(key)
                continue
            cells = cached[key] = self._row_cells(key)  # may start a flash: LAST changed
            if self._widen(cells):
                continue  # a column grew: every row is drawn again
            for column in shown:
                if cells.get(column.key) != drawn.get(column.key):
                    moved.append(key)
                    break
        self._redraw(moved)

    def _redraw(self, keys: Iterable[str]) -> None:
        """Drop the strips of ``keys`` and repaint the lines of those on screen (one
        ``refresh`` of their regions, adjacent lines as one)."""
        top = int(self.scroll_offset.y)  # both cost microseconds: once, not once a key
        bottom = top + self.scrollable_content_region.height
        strips, index = self._strips, self._index
        lines: list[int] = []
        for key in keys:
            strips.pop(key, None)
            row = index.get(key)
            if row is not None and top <= row < bottom:
                lines.append(row + 1 - top)  # the header is screen line 0
        if lines:
            self.refresh(*line_regions(lines, max(self.virtual_size.width, self.size.width)))

    # -- drawing -------------------------------------------------------------------------
    def _update_virtual_size(self) -> None:
        self.virtual_size = Size(0, len(self.keys) + 1)

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._cursor_styles = None

    def _layout(self, width: int) -> None:
        super()._layout(width)
        self._cursor_styles = None
        room = max(width - LEAD - 1, 0)
        columns = list(self._columns)
        configured = {c.key for c in columns}
        while True:
            shown = fit(columns, room)
            alone = lone_partner([c.key for c in shown], configured)
            if alone is None:
                break
            columns = [c for c in columns if c.key != alone]  # a bid without its ask: both go
        self._shown = shown

    def _row_cells(self, key: str) -> dict[str, Cell]:
        self.rows_built[key] += 1
        exch, _, token = key.partition("|")
        scrip = self.market.view(key)
        if scrip is None:
            return {
                "symbol": (token, "watchlist--dim"),
                "name": (self.names.get(key, ""), "watchlist--name"),
                "last": ("…", "watchlist--dim"),
                "exch": (exch, "watchlist--dim"),
            }
        row = Row.of(scrip)
        self._note_tick(key, row)
        return {c.key: COLUMNS[c.key].cell(self, row) for c in self._columns}

    def _note_tick(self, key: str, row: Row) -> None:
        """Start a flash if the last price differs from the one drawn before."""
        if row.lp is None:
            return
        before = self._drawn.get(key)
        self._drawn[key] = (row.lp, row.pp)
        if not self.flash or self._now is None or before is None or before[1] != row.pp:
            return  # off, no clock yet, a first draw, or a new scale
        if row.lp != before[0]:
            up = row.lp > before[0]
            style = "watchlist--flash-up" if up else "watchlist--flash-down"
            self._flashes[key] = (self._now + self.flash_for, style)

    def _cells_for(self, key: str) -> dict[str, Cell]:
        cells = self._cells.get(key)
        if cells is None:
            cells = self._cells[key] = self._row_cells(key)
            self._widen(cells)  # every row is drawn again if a column grew
        return cells

    def _line(self, key: str, cells: dict[str, Cell]) -> list[Cell]:
        """The row's cells with its marks: selection, stale, and a flash on the last price."""
        flash = self._flashes.get(key)
        if flash is not None and "last" in cells:
            text, style = cells["last"]
            cells = {**cells, "last": (text, f"{style} {flash[1]}")}
        lead = (MARK, "watchlist--selected") if key == self.selected else (" ", "")
        line = table_line(self._shown, cells, lead=lead)
        if key not in self._marks.stale:
            line.insert(1, ("  ", ""))
            return line
        line = [
            (text, style if style in _VIVID else f"{style} watchlist--stale")
            for text, style in line
        ]
        line[1:1] = [(STALE_MARK, "watchlist--stale-mark"), (" ", "")]
        return line

    def _header_line(self) -> list[Cell]:
        titles: dict[str, Cell] = {c.key: (c.title, "") for c in self._shown}
        if self.sort_column in titles:
            arrow = DOWN_ARROW if self.sort_reverse else UP_ARROW
            titles[self.sort_column] = (titles[self.sort_column][0] + arrow, "watchlist--sorted")
        line = table_line(self._shown, titles)
        line.insert(1, ("  ", ""))
        return line

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        if width != self._width:
            self._layout(width)
        if y == 0:
            if self._header is None:
                self._header = LineStyles(self, "watchlist--header").strip(
                    self._header_line(), width
                )
            return self._header
        row = y - 1 + int(self.scroll_offset.y)
        if row >= len(self.keys):
            return Strip.blank(width, self.rich_style)
        key = self.keys[row]
        if row != self.cursor:
            strip = self._strips.get(key)
            if strip is not None:
                return strip
        cells = self._cells_for(key)  # may widen a column: a new layout
        line = self._line(key, cells)
        if row == self.cursor:
            cursor = self._cursor_styles
            if cursor is None:
                cursor = self._cursor_styles = LineStyles(self, "watchlist--cursor")
            return cursor.strip(line, width)
        styles = self._styles
        if styles is None:
            styles = self._styles = LineStyles(self)
        strip = self._strips[key] = styles.strip(line, width)
        return strip

    # -- keys ----------------------------------------------------------------------------
    def move_cursor(self, row: int) -> None:
        if not self.keys:
            return
        row = max(0, min(row, len(self.keys) - 1))
        old, self.cursor = self.cursor, row
        self.refresh_line(old + 1)
        self.refresh_line(row + 1)
        self._scroll_to_cursor()

    def _scroll_to_cursor(self) -> None:
        visible = max(self.scrollable_content_region.height - 1, 1)
        top = int(self.scroll_offset.y)
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False)
        elif self.cursor >= top + visible:
            self.scroll_to(y=self.cursor - visible + 1, animate=False)

    def select(self, key: str) -> None:
        """Mark ``key`` as the selected scrip and announce it."""
        if key not in self._index:
            return
        old, self.selected = self.selected, key
        self._redraw([k for k in (old, key) if k is not None])
        self.post_message(self.Selected(key))

    def action_cursor_down(self) -> None:
        self.move_cursor(self.cursor + 1)

    def action_cursor_up(self) -> None:
        self.move_cursor(self.cursor - 1)

    def action_page_down(self) -> None:
        self.move_cursor(self.cursor + max(self.scrollable_content_region.height - 2, 1))

    def action_page_up(self) -> None:
        self.move_cursor(self.cursor - max(self.scrollable_content_region.height - 2, 1))

    def action_first(self) -> None:
        self.move_cursor(0)

    def action_last(self) -> None:
        self.move_cursor(len(self.keys) - 1)

    def action_select(self) -> None:
        key = self.cursor_key
        if key is not None:
            self.select(key)

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None or offset.y < 1:
            return
        row = offset.y - 1 + int(self.scroll_offset.y)
        if row < len(self.keys):
            self.move_cursor(row)
            self.select(self.keys[row])
