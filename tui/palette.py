"""The desk's commands in the command palette (``ctrl+p``).

Textual's own (quit, keys, screenshot...) first, then the desk's: edit the lists, switch
list, theme, toggle or maximise a pane, the surveillance screen, the tape's scope, and a
"Jump to" for every scrip in any list.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import partial
from typing import TYPE_CHECKING

from textual.app import SystemCommand
from textual.screen import Screen

from tui.panes import PANES
from tui.theme import THEMES

if TYPE_CHECKING:
    from tui.deskparts import DeskParts as Part
else:
    Part = object


class Palette(Part):
    """The desk's system commands."""

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        editing = not self.follow
        if editing:
            yield SystemCommand("Add scrip", "Search the instruments and add one to this list",
                                self._editing(self.action_add_scrip))  # fmt: skip
            yield SystemCommand(
                "New watchlist", "Create an empty watchlist", self._editing(self.action_new_list)
            )
            yield SystemCommand(
                "Rename watchlist",
                f"Rename {self.lists.active}",
                self._editing(self.action_rename_list),
            )
            yield SystemCommand(
                "Delete watchlist",
                f"Delete {self.lists.active}",
                self._editing(self.action_delete_list),
            )
        for name in self.lists.names():
            yield SystemCommand(
                f"Watchlist: {name}", "Switch to this watchlist", partial(self._switch_to, name)
            )
        for theme in THEMES:
            yield SystemCommand(f"Desk theme: {theme.name}", "Switch the colour theme",
                                partial(setattr, self, "theme", theme.name))  # fmt: skip
        for pane in PANES:
            yield SystemCommand(
                f"Toggle pane: {pane}",
                f"Show or hide the {pane}",
                partial(self.action_toggle_pane, pane),
            )
        yield SystemCommand(
            "Maximise pane", "Maximise the focused pane (z)", self.action_maximize_pane
        )
        yield SystemCommand(
            "Surveillance", "Tiles of every scrip and the alerts (v)", self.action_surveillance
        )
        yield SystemCommand(
            "Tape: all scrips / selected",
            "Which scrips the L2 tape shows",
            self.action_toggle_tape_scope,
        )
        seen: set[str] = set()
        for name in self.lists.names():
            for key in self.lists.keys_of(name):
                if key not in seen:
                    seen.add(key)
                    label = f"{self._symbol(key)} {self.names.get(key, '')}".strip()
                    yield SystemCommand(
                        f"Jump to {label}", f"{key} in {name}", partial(self.jump_to, key)
                    )

    def _editing(self, action: Callable[[], object]) -> Callable[[], object]:
        """A palette command that edits the list: run it with the watchlist focused."""

        def run() -> object:
            self.watchlist.focus()
            return action()

        return run
