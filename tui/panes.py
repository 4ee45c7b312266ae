"""The desk's four panes on screen: shown or hidden (``1``-``4``), maximised (``z``).

The layout itself is the stylesheet's (``themes/desk.tcss``): a hidden pane marks the
desk ``-no-ladder``, ``-no-tape``... and the grid re-flows, wide and narrow, so the panes
left take the whole desk.  Nothing here sizes or places a pane.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.widget import Widget

if TYPE_CHECKING:
    from tui.deskparts import DeskParts as Part
else:
    Part = object

#: the panes, in the order of the toggle keys 1-4
PANES = ("watchlist", "ladder", "tape", "health")


class Panes(Part):
    """Toggle, re-flow and maximise the panes."""

    def _pane(self, name: str) -> Widget:
        return {"watchlist": self.watchlist, "ladder": self.ladder, "tape": self.tape,
                "health": self.health_panel}[name]  # fmt: skip

    def action_toggle_pane(self, name: str) -> None:
        pane = self._pane(name)
        shown = [p for p in PANES if self._pane(p).display]
        if pane.display and len(shown) == 1:
            self.notify("the last pane stays on screen", severity="warning", timeout=3)
            return
        pane.display = not pane.display
        self.arrange()
        if not pane.display and self.focused is None:
            self.screen.focus_next()

    def arrange(self) -> None:
        """Mark each hidden pane on the desk (``-no-ladder``...): themes/desk.tcss re-flows
        the grid for the panes left, wide and narrow, so they take the whole desk."""
        desk = self.query_one("#desk")
        for name in PANES:
            desk.set_class(not self._pane(name).display, f"-no-{name}")

    def action_maximize_pane(self) -> None:
        if self.screen.maximized is not None:
            self.screen.minimize()
            return
        focused = self.focused
        if focused is None or focused not in (
            self.watchlist,
            self.ladder,
            self.tape,
            self.health_panel,
        ):
            focused = self.watchlist
        self.screen.maximize(focused, container=False)
