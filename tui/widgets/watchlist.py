"""The watchlist: one row per scrip, redrawn row by row as the market flushes.

A Line API ``ScrollView`` (the toolong model, see shared/PERF_NOTES.md): each row's cells
are computed once from the scrip's typed values and cached by key; a flush drops the
cache of the changed keys only and refreshes their lines.  Only rows on screen are ever
computed, so only scrips on screen are converted (``Market.view``).

The cursor (j/k, arrows) and the selected scrip (enter) are separate: the ladder and the
tape follow the selection, announced with :class:`Watchlist.Selected`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, ClassVar

from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from tui.market.prices import format_qty, format_units
from tui.widgets.strips import Cell, Column, LineStyles, TableCaches, header_strip, table_line

if TYPE_CHECKING:
    from tui.market.store import Market

MARK = "▸"


def _columns() -> list[Column]:
    return [
        Column("symbol", "SYMBOL", 10, "left", max_width=16),
        Column("last", "LAST", 8),
        Column("chg", "CHG%", 6),
        Column("bid", "BID", 8, drop=2),
        Column("ask", "ASK", 8, drop=2),
        Column("vol", "VOLUME", 9, drop=3),
        Column("exch", "EXCH", 4, "left", drop=4),
    ]


class Watchlist(TableCaches, ScrollView, can_focus=True):
    """Scrips of the desk; ``keys`` fixed, or following the market's scrips when None."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j,down", "cursor_down", "Down", id="watchlist.down", show=False),
        Binding("k,up", "cursor_up", "Up", id="watchlist.up", show=False),
        Binding("pagedown", "page_down", "Page down", id="watchlist.page_down", show=False),
        Binding("pageup", "page_up", "Page up", id="watchlist.page_up", show=False),
        Binding("g,home", "first", "First", id="watchlist.first", show=False),
        Binding("G,end", "last", "Last", id="watchlist.last", show=False),
        Binding("enter", "select", "Select", id="watchlist.select"),
    ]
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "watchlist--header",
        "watchlist--cursor",
        "watchlist--selected",
        "watchlist--symbol",
        "watchlist--up",
        "watchlist--down",
        "watchlist--flat",
        "watchlist--bid",
        "watchlist--ask",
        "watchlist--dim",
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
        name: str | None = None,
        id: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id)
        self.market = market
        self.follow = keys is None
        self.keys: list[str] = list(market.scrips if keys is None else dict.fromkeys(keys))
        self._index = {key: i for i, key in enumerate(self.keys)}
        if selected not in self._index:
            selected = self.keys[0] if self.keys else None
        #: the scrip of the ladder and the tape
        self.selected: str | None = selected
        self.cursor = self._index[selected] if selected is not None else 0
        self._columns = _columns()
        self._shown: list[Column] = []
        self._width = -1
        self._cells: dict[str, dict[str, Cell]] = {}
        self._strips: dict[str, Strip] = {}
        self._header: Strip | None = None
        self._styles: LineStyles | None = None
        #: rows computed from market values, by key (tests and benchmarks read it)
        self.rows_built: Counter[str] = Counter()
        self._update_virtual_size()

    # -- the feed side -------------------------------------------------------------------
    def refresh_keys(self, changed: Iterable[str]) -> int:
        """Redraw the rows of ``changed`` keys (call inside ``App.batch_update``).

        Returns how many new scrips were added (following the market, ``keys=None``).
        """
        added = 0
        top = int(self.scroll_offset.y)
        bottom = top + self.scrollable_content_region.height
        for key in changed:
            row = self._index.get(key)
            if row is None:
                if self.follow and key in self.market.scrips:
                    self._index[key] = len(self.keys)
                    self.keys.append(key)
                    added += 1
                continue
            self._cells.pop(key, None)
            self._strips.pop(key, None)
            if top <= row < bottom:  # off screen: drawn from scratch when scrolled to
                self.refresh_line(row + 1)
        if added:
            if self.selected is None:
                self.selected = self.keys[0]
            self._update_virtual_size()
            self.refresh()
        return added

    @property
    def cursor_key(self) -> str | None:
        return self.keys[self.cursor] if self.keys else None

    # -- drawing -------------------------------------------------------------------------
    def _update_virtual_size(self) -> None:
        self.virtual_size = Size(0, len(self.keys) + 1)

    def _row_cells(self, key: str) -> dict[str, Cell]:
        self.rows_built[key] += 1
        exch, _, token = key.partition("|")
        scrip = self.market.view(key)
        if scrip is None:
            return {
                "symbol": (token, "watchlist--dim"),
                "last": ("…", "watchlist--dim"),
                "exch": (exch, "watchlist--dim"),
            }
        pp = scrip.pp
        pc = scrip.get("pc")
        trend = "watchlist--flat" if not pc else ("watchlist--up" if pc > 0 else "watchlist--down")
        return {
            "symbol": (scrip.symbol, "watchlist--symbol"),
            "last": (scrip.price_text("lp"), trend),
            "chg": (format_units(pc, 2, sign=True), trend),
            "bid": (format_units(scrip.get("bp1"), pp), "watchlist--bid"),
            "ask": (format_units(scrip.get("sp1"), pp), "watchlist--ask"),
            "vol": (format_qty(scrip.get("v")), ""),
            "exch": (exch, "watchlist--dim"),
        }

    def _cells_for(self, key: str) -> dict[str, Cell]:
        cells = self._cells.get(key)
        if cells is None:
            cells = self._cells[key] = self._row_cells(key)
            self._widen(cells)  # every row is drawn again if a column grew
        return cells

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        if width != self._width:
            self._layout(width)
        if y == 0:
            if self._header is None:
                self._header = header_strip(self, self._shown, "watchlist--header", width)
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
        lead = (MARK, "watchlist--selected") if key == self.selected else (" ", "")
        line = table_line(self._shown, cells, lead=lead)
        if row == self.cursor:
            return LineStyles(self, "watchlist--cursor").strip(line, width)
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
        visible = max(self.scrollable_content_region.height - 1, 1)
        top = int(self.scroll_offset.y)
        if row < top:
            self.scroll_to(y=row, animate=False)
        elif row >= top + visible:
            self.scroll_to(y=row - visible + 1, animate=False)

    def select(self, key: str) -> None:
        """Mark ``key`` as the selected scrip and announce it."""
        if key not in self._index:
            return
        old, self.selected = self.selected, key
        for k in (old, key):
            if k in self._index:
                self._strips.pop(k, None)
                self.refresh_line(self._index[k] + 1)
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
