"""The desk as its parts see it: the state and the methods one part may use of another.

:class:`~tui.app.DeskApp` is put together from parts, one concept a module (the key map,
the feed link, the frame loop, alerting, selection, the list tabs, editing, the panes, the
palette), each a mixin class.  This module is what they share, for the type checker: the
desk's state (set in ``DeskApp.__init__``) and the few methods a part calls on another,
each implemented in exactly one part.  At run time a part's base is plain ``object``:

    if TYPE_CHECKING:
        from tui.deskparts import DeskParts as Part
    else:
        Part = object
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import tzinfo
from typing import TYPE_CHECKING

from textual.app import App
from textual.widgets import Tabs

if TYPE_CHECKING:
    from tui.feed.source import FeedSource
    from tui.market.alerts import Alert, AlertBook, AlertLog
    from tui.market.rules import RuleEngine
    from tui.market.store import Market
    from tui.settings import Settings
    from tui.watchlist_store import Watchlists, WatchlistStore
    from tui.widgets.health import HealthLike, HealthPanel
    from tui.widgets.ladder import Ladder
    from tui.widgets.tape import L2Tape
    from tui.widgets.watchlist import Watchlist
    from tui.wire.catalogue import Entry


class DeskParts(App[None]):
    """What every part of the desk may read and call (never instantiated)."""

    # -- the desk's state (tui/app.py) ----------------------------------------------------
    settings: Settings
    market: Market
    client: FeedSource | None
    clock: Callable[[], float]
    wall: Callable[[], float]
    health_source: Callable[[], HealthLike] | None
    store: WatchlistStore | None
    catalogue: list[Entry]
    #: key -> the instrument's name (the catalogue's)
    names: dict[str, str]
    indices: frozenset[str]
    #: the watchlist follows the market's scrips (no lists given): no editing
    follow: bool
    lists: Watchlists
    selected: str | None
    tape_all: bool
    tz: tzinfo | None
    alerts: AlertBook
    engine: RuleEngine
    alert_log: AlertLog | None
    # -- its panes ------------------------------------------------------------------------
    tabs: Tabs
    watchlist: Watchlist
    ladder: Ladder
    tape: L2Tape
    health_panel: HealthPanel

    # -- the methods one part calls on another (each defined in one part) -------------------
    def _level(self) -> str:  # feedlink
        raise NotImplementedError

    def _resubscribe(self) -> None:  # feedlink
        raise NotImplementedError

    def _feed_failed(self) -> bool:  # feedlink
        raise NotImplementedError

    def _offer_retry(self, failed: bool) -> None:  # feedlink
        raise NotImplementedError

    def _retry_key(self) -> str:  # keymap
        raise NotImplementedError

    def _run_rules(self, changed: set[str], now: float) -> list[Alert]:  # alerting
        raise NotImplementedError

    def _alert_title(self) -> None:  # alerting
        raise NotImplementedError

    def action_surveillance(self) -> None:  # alerting
        raise NotImplementedError

    def _show_selected(self) -> None:  # selection
        raise NotImplementedError

    def _titles(self) -> None:  # selection
        raise NotImplementedError

    def _tape_note(self) -> str:  # selection
        raise NotImplementedError

    def _ladder_note(self) -> tuple[str, ...]:  # selection
        raise NotImplementedError

    def jump_to(self, key: str) -> None:  # selection
        raise NotImplementedError

    def action_toggle_tape_scope(self) -> None:  # selection
        raise NotImplementedError

    async def _sync_tabs(self) -> None:  # listtabs
        raise NotImplementedError

    def _switch_to(self, name: str) -> None:  # listtabs
        raise NotImplementedError

    def _save(self) -> None:  # editing
        raise NotImplementedError

    def _symbol(self, key: str) -> str:  # editing
        raise NotImplementedError

    async def action_add_scrip(self) -> None:  # editing
        raise NotImplementedError

    async def action_new_list(self) -> None:  # editing
        raise NotImplementedError

    async def action_rename_list(self) -> None:  # editing
        raise NotImplementedError

    async def action_delete_list(self) -> None:  # editing
        raise NotImplementedError

    def action_toggle_pane(self, name: str) -> None:  # panes
        raise NotImplementedError

    def action_maximize_pane(self) -> None:  # panes
        raise NotImplementedError
