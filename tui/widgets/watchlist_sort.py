"""The watchlist's sort: by a shown column (``s`` next column, ``S`` reverse), or the list's
own order.

A mixin of :class:`tui.widgets.watchlist.Watchlist`.  A sorted order is recomputed by
:meth:`SortedRows.resort`, which the app calls twice a second, never every frame: it
converts every row's scrip, and rows must not jump at tick rate.  A missing value sorts
last either way; equal values keep the list's own order.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tui.widgets.columns import COLUMNS, Row
from tui.widgets.glyphs import UP_ARROW

if TYPE_CHECKING:
    from collections.abc import Mapping

    from textual.scroll_view import ScrollView

    from tui.market.store import Market
    from tui.widgets.strips import Column

    _Base = ScrollView
else:
    _Base = object


class SortedRows(_Base):
    market: Market
    names: Mapping[str, str]
    near_bp: int
    keys: list[str]
    cursor: int
    _order: list[str]
    _columns: list[Column]
    _shown: list[Column]
    _width: int
    _header: object
    #: the key of the sort column (None: the list's own order) and its direction
    sort_column: str | None = None
    sort_reverse: bool = False

    if TYPE_CHECKING:

        @property
        def cursor_key(self) -> str | None: ...

        def _layout(self, width: int) -> None: ...

        def _show(self, order: list[str], cursor_key: str | None, row: int) -> None: ...

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
