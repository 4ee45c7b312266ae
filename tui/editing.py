"""Editing the watchlists: one way in, through :meth:`Editing.edit`.

A key (or the command palette) asks a modal for what is needed (:mod:`tui.screens`), and
:meth:`Editing.edit` applies the answer to the :class:`~tui.watchlist_store.Watchlists` model
(which validates: a refused edit is explained and nothing else moves), saves it
atomically, brings the tab bar, the list shown and the subscriptions in line, and keeps
the cursor on a scrip that is still there.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

from textual.screen import Screen

from tui.screens import AddScripScreen, ConfirmScreen, NameScreen
from tui.wire.catalogue import Entry

if TYPE_CHECKING:
    from tui.deskparts import DeskParts as Part
else:
    Part = object

T = TypeVar("T")


class Editing(Part):
    """The watchlist edits (add, remove, move; new, rename, delete a list) and saving."""

    async def edit(self, change: Callable[[], object], *, toast: str = "") -> bool:
        """Apply one edit to the lists model; refused edits are explained, nothing else moves."""
        try:
            change()
        except ValueError as exc:
            self.notify(str(exc), title="watchlist", severity="warning")
            return False
        self._save()
        await self._sync_tabs()
        self.watchlist.set_keys(self.lists.keys_of(self.lists.active))
        self._follow_cursor_if_gone()
        self._resubscribe()
        self._titles()
        self.refresh_bindings()
        if toast:
            self.notify(toast, title="watchlist", timeout=3)
        return True

    def _follow_cursor_if_gone(self) -> None:
        """The selected scrip left the list shown (removed, or its list deleted): select
        its neighbour, the scrip the cursor is left on, as a list would."""
        if self.selected is not None and self.selected in self.watchlist.keys:
            return
        key = self.watchlist.cursor_key
        if key is not None:
            self.watchlist.select(key)
        self.selected = key
        self._show_selected()

    def _save(self) -> None:
        if self.store is None:
            return
        try:
            self.store.save(self.lists)
        except OSError as exc:
            self.notify(f"could not save the watchlists: {exc}", severity="error", timeout=20)

    def _symbol(self, key: str) -> str:
        scrip = self.market.view(key)
        return scrip.symbol if scrip is not None else key

    async def open_modal(self, screen: Screen[T], answered: Callable[[T | None], Any]) -> None:
        """Show a modal and return once it is up, its input focused.

        The keys that open a modal are bound with priority: the app runs their action as
        the key arrives, before passing on the keys typed after it, and those keys wait in
        the app's queue until this returns.  So what is typed after ``R`` lands in the
        rename box, never on the desk behind it, however busy the machine."""
        await self.push_screen(screen, answered)

    async def action_add_scrip(self) -> None:
        name = self.lists.active
        pool = self.catalogue + [
            Entry(key, self._symbol(key), "") for key in self.market.scrips if key not in self.names
        ]

        async def added(key: str | None) -> None:
            if key and await self.edit(
                partial(self.lists.add, name, key), toast=f"added {key} to {name}"
            ):
                self.jump_to(key)

        await self.open_modal(AddScripScreen(name, pool, self.lists.keys_of(name)), added)

    async def action_remove_scrip(self) -> None:
        key, name = self.watchlist.cursor_key, self.lists.active
        if key is not None:
            await self.edit(
                partial(self.lists.remove, name, key),
                toast=f"removed {self._symbol(key)} from {name}",
            )

    async def action_move_scrip(self, step: int) -> None:
        key = self.watchlist.cursor_key
        if key is None:
            return
        if self.watchlist.sort_column is not None:
            self.notify(
                "the list is sorted: press s until sorting is off to move scrips",
                severity="warning",
            )
            return
        if await self.edit(partial(self.lists.move, self.lists.active, key, step)):
            self.watchlist.move_cursor(self.watchlist.keys.index(key))

    def _check_name(self, current: str | None) -> Callable[[str], str | None]:
        def check(name: str) -> str | None:
            try:
                self.lists.check_name(name, current)
            except ValueError as exc:
                return str(exc)
            return None

        return check

    async def action_new_list(self) -> None:
        async def named(name: str | None) -> None:
            if name and await self.edit(partial(self.lists.create, name), toast=f"new list {name}"):
                self._switch_to(name)

        await self.open_modal(NameScreen("New watchlist", "", self._check_name(None)), named)

    async def action_rename_list(self) -> None:
        old = self.lists.active

        async def named(name: str | None) -> None:
            if name and name != old:
                await self.edit(
                    partial(self.lists.rename, old, name), toast=f"renamed {old} to {name}"
                )

        await self.open_modal(NameScreen(f"Rename {old}", old, self._check_name(old)), named)

    async def action_delete_list(self) -> None:
        name = self.lists.active
        count = len(self.lists.keys_of(name))
        if len(self.lists.names()) == 1:
            self.notify(
                "the last watchlist cannot be deleted", title="watchlist", severity="warning"
            )
            return

        async def answered(yes: bool | None) -> None:
            if yes:
                await self.edit(partial(self.lists.delete, name), toast=f"deleted {name}")

        question = f"Delete the watchlist {name} ({count} scrip{'s' if count != 1 else ''})?"
        await self.open_modal(ConfirmScreen(question), answered)
