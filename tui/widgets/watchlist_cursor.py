"""The watchlist's cursor: j/k, pages, first and last, a click; enter selects.

A mixin of :class:`tui.widgets.watchlist.Watchlist` (before ``ScrollView``): row 0 on
screen is the header, so the row of ``keys[i]`` is line ``i + 1``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import events

if TYPE_CHECKING:
    from textual.scroll_view import ScrollView

    _Base = ScrollView
else:
    _Base = object


class RowCursor(_Base):
    keys: list[str]
    cursor: int

    if TYPE_CHECKING:

        @property
        def cursor_key(self) -> str | None: ...

        def select(self, key: str) -> None: ...

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
