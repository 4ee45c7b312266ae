"""The watchlists' tab bar: one tab a list, in order, the active one highlighted.

``[`` and ``]`` (or a click, or the palette) switch lists; the switch is saved.  The bar is
rebuilt only when the lists' names or order change (an edit that adds a scrip leaves it as
it is); tab ids are fresh on every rebuild, so a message from an old bar is told apart.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.widgets import Tab, Tabs

if TYPE_CHECKING:
    from tui.deskparts import DeskParts as Part
else:
    Part = object


class ListTabs(Part):
    """The tab bar of the watchlists, and switching between them."""

    #: tab id -> list name
    _tab_ids: dict[str, str]
    _tab_seq: int

    def _init_list_tabs(self) -> None:
        self._tab_ids = {}
        self._tab_seq = 0

    async def _sync_tabs(self) -> None:
        """The tab bar shows the lists in order, the active one highlighted."""
        names = list(self.lists.names())  # a tuple: compared as is, never equal to the list
        if [self._tab_ids[tab.id or ""] for tab in self.tabs.query(Tab)] != names:
            await self.tabs.clear()
            self._tab_ids.clear()
            for name in names:
                self._tab_seq += 1
                tab_id = f"list-{self._tab_seq}"
                self._tab_ids[tab_id] = name
                await self.tabs.add_tab(Tab(name, id=tab_id))
        active = next(i for i, n in self._tab_ids.items() if n == self.lists.active)
        if self.tabs.active != active:
            self.tabs.active = active

    def tab_activated(self, event: Tabs.TabActivated) -> None:
        """A tab of the bar was activated (a click, or ``tabs.active`` set)."""
        if event.tab.id != self.tabs.active:
            return  # a message from before the bar was rebuilt: the bar has moved on
        name = self._tab_ids.get(event.tab.id or "")
        if name is not None and name != self.lists.active:
            self._switch_to(name)

    def _switch_to(self, name: str) -> None:
        self.lists.set_active(name)
        self._save()
        self.watchlist.set_keys(self.lists.keys_of(name))
        tab_id = next(i for i, n in self._tab_ids.items() if n == name)
        if self.tabs.active != tab_id:
            self.tabs.active = tab_id
        self._titles()

    def action_switch_list(self, step: int) -> None:
        names = self.lists.names()
        at = names.index(self.lists.active)
        self._switch_to(names[(at + step) % len(names)])
