"""The desk's keys: its bindings, which act when, and the help screen that lists them.

Every binding has an id (``desk.quit``, ``watchlists.add``...): the user remaps keys by id
in the config's ``[keys]`` table, and the help screen (``?``) shows the keys in force.
Which keys act when is :meth:`KeyMap.check_action`: the desk's own keys idle behind
another screen, the editing keys need the watchlist focused, ``r`` (retry the feed) is
offered only while the feed has failed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from textual.binding import Binding, BindingType

from tui.screens import HelpScreen, HelpSections
from tui.surveillance import SurveillanceScreen
from tui.widgets.alerts import AlertList
from tui.widgets.tape import L2Tape
from tui.widgets.tiles import Tiles
from tui.widgets.watchlist import Watchlist

if TYPE_CHECKING:
    from tui.deskparts import DeskParts as Part
else:
    Part = object


def _edit(
    description: str,
    key: str,
    action: str,
    binding_id: str,
    show: bool = False,
    modal: bool = False,
) -> Binding:
    """An editing binding; ``modal``: the key opens a modal, so it is bound with priority
    (handled as it arrives, before the keys typed after it are passed on: those go to the
    modal, see :meth:`~tui.editing.Editing.open_modal`)."""
    return Binding(
        key, action, description, id=f"watchlists.{binding_id}", show=show, priority=modal
    )


#: the desk's bindings (``DeskApp.BINDINGS``)
BINDINGS: list[BindingType] = [
    Binding("q", "quit", "Quit", id="desk.quit"),
    Binding("question_mark", "help", "Help", id="desk.help"),
    Binding("a", "toggle_tape_scope", "Tape: all/one", id="desk.tape_scope", show=False),
    Binding("t", "next_theme", "Theme", id="desk.theme", show=False),
    Binding("z", "maximize_pane", "Maximise", id="desk.maximize"),
    Binding("v", "surveillance", "Surveillance", id="desk.surveillance"),
    # shown (check_action) only while the feed has failed and waits to be tried again
    Binding("r", "retry_feed", "Retry feed", id="desk.retry"),
    Binding("1", "toggle_pane('watchlist')", "Watchlist pane", id="desk.pane1", show=False),
    Binding("2", "toggle_pane('ladder')", "Ladder pane", id="desk.pane2", show=False),
    Binding("3", "toggle_pane('tape')", "Tape pane", id="desk.pane3", show=False),
    Binding("4", "toggle_pane('health')", "Health pane", id="desk.pane4", show=False),
    Binding("right_square_bracket", "switch_list(1)", "Next list", id="desk.next_list", show=False),
    Binding(
        "left_square_bracket", "switch_list(-1)", "Previous list", id="desk.prev_list", show=False
    ),
    # editing: active while the watchlist has the focus (check_action)
    _edit("Add", "plus,insert", "add_scrip", "add", show=True, modal=True),
    _edit("Remove", "d,delete", "remove_scrip", "remove", show=True),
    _edit("Move down", "J,shift+down", "move_scrip(1)", "move_down"),
    _edit("Move up", "K,shift+up", "move_scrip(-1)", "move_up"),
    _edit("New list", "N", "new_list", "new", modal=True),
    _edit("Rename list", "R", "rename_list", "rename", modal=True),
    _edit("Delete list", "D", "delete_list", "delete", modal=True),
]
#: actions that edit the list under the cursor: only while the watchlist is focused
EDITING: frozenset[str] = frozenset(
    {"add_scrip", "remove_scrip", "move_scrip", "new_list", "rename_list", "delete_list"}
)
#: actions that work on any screen; the others belong to the desk screen
EVERYWHERE: frozenset[str] = frozenset(
    {"quit", "help", "next_theme", "command_palette", "surveillance"}
)
#: the desk screen's own actions (its bindings): idle while another screen is on top.
#: Textual's own (focus_next, focus_previous, ...) act on whichever screen is shown.
DESK_ONLY: frozenset[str] = (
    frozenset(b.action.partition("(")[0] for b in BINDINGS if isinstance(b, Binding)) - EVERYWHERE
)
#: whose bindings the help lists and ``[keys]`` may remap, beside the desk's own
WIDGETS: tuple[type[object], ...] = (Watchlist, L2Tape, SurveillanceScreen, Tiles, AlertList)


def _bindings(owner: type[object] | None) -> Iterable[Binding]:
    """The bindings of a widget or screen class (``None``: the desk's own)."""
    listed: Iterable[BindingType] = BINDINGS if owner is None else getattr(owner, "BINDINGS", [])
    return (b for b in listed if isinstance(b, Binding))


class KeyMap(Part):
    """Which of the desk's keys act when, the ids ``[keys]`` may name, and the help."""

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in DESK_ONLY and len(self.screen_stack) > 1:
            return False  # the desk's keys do not act behind another screen
        if action in EDITING:
            return self.focused is self.watchlist and not self.follow
        if action == "switch_list":
            return len(self.lists.names()) > 1
        if action == "retry_feed":
            return self._feed_failed()
        return True

    def binding_ids(self) -> set[str]:
        return {b.id for b in self._all_bindings() if b.id}

    def _all_bindings(self) -> Iterable[Binding]:
        for owner in (None, *WIDGETS):
            yield from _bindings(owner)

    def _retry_key(self) -> str:
        """The key of "Retry feed" as the user has it (``[keys] "desk.retry"``)."""
        keys = self.settings.keys.get("desk.retry", "r")
        return self.get_key_display(Binding(keys.split(",")[0].strip(), ""))

    def help_sections(self) -> HelpSections:
        """Every binding with the keys in force (the user's remaps applied)."""

        def rows(
            owner: type[object] | None, only: Callable[[Binding], bool] = lambda b: True
        ) -> list[tuple[str, str]]:
            out = []
            for b in _bindings(owner):
                if only(b):
                    keys = self.settings.keys.get(b.id or "", b.key)
                    shown = ", ".join(
                        self.get_key_display(Binding(k.strip(), "")) for k in keys.split(",")
                    )
                    out.append((shown, b.description))
            return out

        desk_rows = rows(None, lambda b: not (b.id or "").startswith("watchlists."))
        desk_rows += [("tab, shift+tab", "Next / previous pane"), ("ctrl+p", "Command palette")]
        return [
            ("Desk", desk_rows),
            ("Watchlist", rows(Watchlist)),
            ("Watchlists (editing)", rows(None, lambda b: (b.id or "").startswith("watchlists."))),
            ("L2 tape", rows(L2Tape)),
            (
                "Surveillance (v)",
                rows(SurveillanceScreen) + rows(Tiles) + [("tab, shift+tab", "Tiles / alert list")],
            ),
            ("Alerts", rows(AlertList)),
        ]

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.help_sections()))
