"""The desk: watchlists (tabs) | ladder | L2 tape | health, driven by a flush timer.

:class:`DeskApp` is what the desk is: its settings, its state, its four panes and how they
are put on screen.  What it does lives in its parts, one concept a module, each a mixin:

- :mod:`tui.keymap`: the bindings, which act when, the help screen;
- :mod:`tui.feedlink`: the feed source's lifecycle (subscribe, events, retry, stop);
- :mod:`tui.frameloop`: the frame (``flush``) and the health tick;
- :mod:`tui.alerting`: the surveillance rules, alerts and the surveillance screen;
- :mod:`tui.selection`: the selected scrip on the ladder and tape, the panes' titles;
- :mod:`tui.listtabs`: the watchlists' tab bar; :mod:`tui.editing`: editing the lists;
- :mod:`tui.panes`: hiding and maximising panes (the layout is ``themes/desk.tcss``);
- :mod:`tui.palette`: the command palette's commands.

:mod:`tui.deskparts` says, for the type checker, what the parts share.  Everything the
screen depends on is injected (:func:`make_app`): the market, the client, the clock, the
health source, the time zone, so tests draw the same screen every time.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import tzinfo
from functools import partial
from importlib.resources import files
from pathlib import PurePath
from typing import TYPE_CHECKING, ClassVar

from textual import on
from textual.app import App, ComposeResult
from textual.binding import BindingType
from textual.containers import Container
from textual.widgets import Footer, Header, Tabs

from tui import keymap
from tui.alerting import Alerting
from tui.editing import Editing
from tui.feedlink import FeedLink
from tui.frameloop import FrameLoop
from tui.keymap import KeyMap
from tui.listtabs import ListTabs
from tui.palette import Palette
from tui.panes import PANES, Panes
from tui.selection import Selection
from tui.settings import Settings
from tui.theme import THEMES, variable_defaults
from tui.watchlist_store import Watchlists, WatchlistStore
from tui.widgets.health import HealthLike, HealthPanel
from tui.widgets.ladder import Ladder
from tui.widgets.strips import zone_name
from tui.widgets.tape import L2Tape
from tui.widgets.watchlist import Watchlist
from tui.wire.catalogue import Entry, entries

if TYPE_CHECKING:
    from tui.config_file import DeskConfig
    from tui.feed.source import FeedSource
    from tui.market.store import Market

__all__ = ["CSS_FILES", "PANES", "WIDE", "DeskApp", "Settings", "make_app"]

#: themes/ ships as the package ``tui.themes``: found the same way in a checkout and a wheel.
#: desk.tcss lays the panes out, screens.tcss and surveillance.tcss the other screens; each
#: widget ships its own styles (its DEFAULT_CSS, read from its own file: widgets/styles.py).
CSS_FILES: list[str | PurePath] = [
    str(files("tui.themes") / f"{name}.tcss") for name in ("desk", "screens", "surveillance")
]
#: the desk is laid out in three columns from this width, two below it
WIDE = 140


class DeskApp(
    KeyMap, FeedLink, FrameLoop, Alerting, Selection, ListTabs, Editing, Panes, Palette, App[None]
):
    TITLE = "marketdesk"
    CSS_PATH = CSS_FILES
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (WIDE, "-wide")]  # noqa: RUF012 - Textual's API
    BINDINGS: ClassVar[list[BindingType]] = keymap.BINDINGS
    #: actions that edit the list under the cursor: only while the watchlist is focused
    EDITING: ClassVar[frozenset[str]] = keymap.EDITING
    #: actions that work on any screen; the others belong to the desk screen
    EVERYWHERE: ClassVar[frozenset[str]] = keymap.EVERYWHERE
    #: the desk screen's own actions (its bindings): idle while another screen is on top
    DESK_ONLY: ClassVar[frozenset[str]] = keymap.DESK_ONLY

    def __init__(
        self,
        market: Market,
        client: FeedSource | None = None,
        *,
        watchlists: Watchlists | None = None,
        store: WatchlistStore | None = None,
        settings: Settings | None = None,
        notices: Sequence[str] = (),
        catalogue: Sequence[Entry] = (),
        selected: str | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
        health: Callable[[], HealthLike] | None = None,
        tz: tzinfo | None = None,
    ) -> None:
        super().__init__()
        self.settings = settings = settings or Settings()
        for desk_theme in THEMES:
            self.register_theme(desk_theme)
        self.theme = settings.theme
        self.market = market
        self.client = client
        self.clock = clock
        self.wall = wall
        self.refresh_hz = settings.refresh_hz
        if health is None and client is not None:
            health = lambda: client.health
        self.health_source = health
        self.store = store
        self.notices = list(notices)
        self.catalogue = list(catalogue)
        self.names = {entry.key: entry.name for entry in self.catalogue}
        #: indices (the catalogue says which): a value, no order book; only their touchline is asked
        self.indices = frozenset(entry.key for entry in self.catalogue if entry.is_index)
        #: None: the watchlist follows the market's scrips (no list given: tests, tail)
        self.follow = watchlists is None
        self.lists = (
            watchlists if watchlists is not None else Watchlists.single("Watchlist", market.scrips)
        )
        if selected is None and not self.follow:
            # open on a stock: its ladder and tape have something to show at once
            active = self.lists.keys_of(self.lists.active)
            selected = next((key for key in active if key not in self.indices), None)
        #: seconds after mount to call :meth:`settle_gc` (None: never; run_desk sets it)
        self.settle_gc_after: float | None = None
        #: the tape shows every scrip's events (``a``), not only the selected one's
        self.tape_all = False
        self.tz = tz
        self._init_feed_link()
        self._init_frame_loop()
        self._init_list_tabs()
        self._init_alerting()  # the rules run on every scrip, whichever screen is shown
        self._build_panes(selected)
        if settings.keys:
            self.set_keymap(settings.keys)

    def _build_panes(self, selected: str | None) -> None:
        """The tab bar and the four panes, as the settings say."""
        settings = self.settings
        keys = None if self.follow else self.lists.keys_of(self.lists.active)
        make_watchlist = partial(
            Watchlist,
            self.market,
            keys,
            selected=selected,
            names=self.names,
            flash=settings.flash,
            circuit_near=settings.circuit_near,
            id="watchlist",
        )
        try:
            self.watchlist = make_watchlist(columns=settings.columns)
        except ValueError as exc:  # the config's [desk] columns: say so, use the default
            self.notices.append(f"config [desk] columns: {exc}; showing the default columns")
            self.watchlist = make_watchlist(columns=None)
        self.selected = self.watchlist.selected
        self.tabs = Tabs(id="lists")
        self.tabs.can_focus = False  # [ and ] switch lists; tab moves between panes
        self.ladder = Ladder(self.market, tz=self.tz, id="ladder")
        self.tape = L2Tape(
            self.market, key=self.selected, tz=self.tz, large_qty=settings.large_qty,
            keep=settings.keep, id="tape",
        )  # fmt: skip
        self.health_panel = HealthPanel(id="health")
        for pane in (self.ladder, self.health_panel):
            pane.can_focus = True  # so it can be maximised (z)

    def settle_gc(self) -> None:
        """Move everything alive now out of the garbage collector's sight (``gc.freeze``).

        The desk holds hundreds of thousands of long-lived objects (widgets, cached strips,
        the market); every full collection walked them all and stopped the desk for
        50-90 ms, so a key press could wait that long (bench/desk.py).  Called once the
        desk is up and the first data is in (``run_desk``: after a few seconds)."""
        gc.collect()
        gc.freeze()

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return variable_defaults(self.current_theme)

    def action_next_theme(self) -> None:
        names = [theme.name for theme in THEMES]
        at = names.index(self.theme) if self.theme in names else -1
        self.theme = names[(at + 1) % len(names)]
        self.notify(f"theme {self.theme}", timeout=2)

    def compose(self) -> ComposeResult:
        yield Header()
        yield self.tabs
        with Container(id="desk"):
            yield self.watchlist
            yield self.ladder
            yield self.tape
            yield self.health_panel
        yield Footer()

    async def on_mount(self) -> None:
        self.title = f"{self.TITLE} · times {zone_name(self.tz)}"  # one zone on every pane
        self.health_panel.border_title = "Feed"
        await self._sync_tabs()
        self._show_selected()
        self.update_health()
        if self.settle_gc_after is not None:
            self.set_timer(self.settle_gc_after, self.settle_gc, name="settle-gc")
        self._start_frames()
        self.watchlist.focus()
        unknown = sorted(set(self.settings.keys) - self.binding_ids())
        if unknown:
            self.notices.append(
                "[keys] names no binding: " + ", ".join(unknown) + " (see ? for ids)"
            )
        for notice in self.notices:
            self.notify(notice, title="marketdesk", severity="warning", timeout=20)
        if self.client is not None:
            self._start_feed(self.client)

    # -- the desk's messages, handed to the part that owns them --------------------------
    @on(Watchlist.Selected)
    def _selected(self, event: Watchlist.Selected) -> None:
        self.select(event.key)

    @on(Tabs.TabActivated, "#lists")
    def _tab_activated(self, event: Tabs.TabActivated) -> None:
        self.tab_activated(event)


def make_app(
    market: Market,
    client: FeedSource | None = None,
    *,
    watch: Sequence[str] | None = None,
    watchlists: Watchlists | None = None,
    store: WatchlistStore | None = None,
    config: DeskConfig | None = None,
    notices: Sequence[str] = (),
    catalogue: Iterable[object] = (),
    selected: str | None = None,
    clock: Callable[[], float] = time.monotonic,
    wall: Callable[[], float] = time.time,
    refresh_hz: float | None = None,
    health: Callable[[], HealthLike] | None = None,
    theme: str | None = None,
    tz: tzinfo | None = None,
    app_class: type[DeskApp] | None = None,
) -> DeskApp:
    """The desk over ``market``; with ``client`` (a :class:`~tui.feed.source.FeedSource`,
    which fills ``market``), also runs the feed and subscribes the lists.

    ``watchlists``: the named lists (tabs), saved through ``store`` after each edit (None:
    not saved).  ``watch``: a single unsaved list of these keys instead.  Neither: the
    watchlist follows every scrip the market receives (no editing).
    ``config``: the user's settings (tui/config_file.py); ``refresh_hz`` and ``theme`` override it.
    ``notices``: messages to show as toasts at start (a watchlists file kept aside, ...).
    ``catalogue``: what the add-scrip modal searches: items with ``key``, ``symbol``, ``name``.
    ``selected``: the scrip of the ladder and tape (default: the first).
    ``clock``: the monotonic clock handed to ``Market.flush`` and the health panel; ``wall``
    the wall clock (uptime).  ``refresh_hz``: frames a second; 0 draws only when
    :meth:`DeskApp.flush` is called.  ``health``: the source of the health panel's figures
    (default: ``client.health``).  ``tz``: the one time zone of every time on the desk
    (default: the config's ``[desk] timezone``, else local).
    ``app_class``: a DeskApp subclass (the replay desk, tui/transport.py).
    """
    settings = Settings.of(config) if config is not None else Settings()
    if refresh_hz is not None:
        settings.refresh_hz = refresh_hz
    if theme is not None:
        settings.theme = theme
    if tz is None:
        tz = settings.tz
    if watch is not None and watchlists is None:
        watchlists = Watchlists.single("Watch", watch)
    return (app_class or DeskApp)(
        market,
        client,
        watchlists=watchlists,
        store=store,
        settings=settings,
        notices=notices,
        catalogue=entries(catalogue),  # type: ignore[arg-type]
        selected=selected,
        clock=clock,
        wall=wall,
        health=health,
        tz=tz,
    )
