"""The selected scrip: the one the ladder and the tape show, and the panes' titles.

Selecting a row (enter, a click), jumping to a scrip (the palette, the surveillance
screen) or the first scrip arriving sets :attr:`DeskApp.selected <tui.app.DeskApp>`; the
ladder and the tape follow it (the tape shows every scrip's events instead after ``a``),
and each pane says in its note why it has nothing to show yet.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.widget import Widget

if TYPE_CHECKING:
    from tui.deskparts import DeskParts as Part
else:
    Part = object


class Selection(Part):
    """The selected scrip on the ladder and the tape; the panes' titles and notes."""

    def select(self, key: str | None) -> None:
        """The watchlist's row ``key`` was chosen (``Watchlist.Selected``)."""
        self.selected = key
        self._show_selected()

    def _show_selected(self) -> None:
        self.ladder.show(self.selected)
        self.ladder.set_note(*self._ladder_note())
        key = None if self.tape_all else self.selected
        if key != self.tape.key:
            self.tape.set_key(key)
        self.tape.set_note(self._tape_note())
        self._titles()

    def _ladder_note(self) -> tuple[str, ...]:
        """Why the selected scrip has no deeper levels than it shows (when it has no book),
        longest first."""
        if self.selected in self.indices:
            return (f"{self.ladder.symbol()} is an index: it has no order book",
                    "an index: no order book")  # fmt: skip
        level = self._level()
        if level in ("L0", "L1"):
            return (f"{level} feed: five levels a side; an L2 feed has the whole book",
                    f"{level} feed: five levels a side")  # fmt: skip
        return ("five levels a side until the L2 book arrives", "five levels a side")

    def _tape_note(self) -> str:
        level = self._level()
        if level and level != "L2":
            return f"No L2 data: this feed is {level}. Order-level data needs an L2 endpoint."
        if self.tape.key is None:
            return "No L2 data yet."
        scrip = self.market.view(self.tape.key)
        symbol = scrip.symbol if scrip else self.tape.key
        if self.tape.key in self.indices:
            return f"{symbol} is an index: it has no orders. a shows every scrip's."
        return f"No L2 data for {symbol} yet."

    def _titles(self) -> None:
        symbol = self.ladder.symbol()
        count = len(self.watchlist.keys)
        titles: list[tuple[Widget, str, str]] = [
            (self.watchlist, self.lists.active, f"{count} scrip" + ("s" if count != 1 else "")),
            (self.ladder, f"Ladder · {symbol}" if symbol else "Ladder", self.selected or ""),
            (
                self.tape,
                "L2 tape · " + ("all scrips" if self.tape_all else symbol),
                self.tape.status(),
            ),
        ]
        for widget, title, subtitle in titles:
            if widget.border_title != title:
                widget.border_title = title
            if widget.border_subtitle != subtitle:
                widget.border_subtitle = subtitle

    def action_toggle_tape_scope(self) -> None:
        self.tape_all = not self.tape_all
        self._show_selected()

    def jump_to(self, key: str) -> None:
        """Show ``key``: switch to a list that holds it if the current one does not."""
        if key not in self.watchlist.keys:
            holder = next((n for n in self.lists.names() if key in self.lists.keys_of(n)), None)
            if holder is None:
                return
            self._switch_to(holder)
        self.watchlist.move_cursor(self.watchlist.keys.index(key))
        self.watchlist.select(key)
        self.selected = key  # at once, not when Selected arrives: the caller may read it
        self._show_selected()
        self.watchlist.focus()
