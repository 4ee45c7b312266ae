"""The desk: watchlists (tabs) | ladder | L2 tape | health, driven by a flush timer.

Data reaches the screen one way only: the feed client merges messages into the
:class:`~tui.market.store.Market` (same event loop, an async worker); a timer at
``refresh_hz`` calls ``market.flush(clock())`` and, inside one ``batch_update``, redraws
the watchlist rows, the ladder and the tape of the keys that changed.  No Textual message
is ever posted per feed message.

Edits go the other way through one place: a key (or the command palette) asks a modal
for what is needed, :meth:`DeskApp.edit` applies it to the
:class:`~tui.watchlists.Watchlists` model (which validates), saves it atomically and
brings the subscriptions in line with the union of every list.

Everything the screen depends on is injected (:func:`make_app`): the market, the client,
the clock, the health source, the time zone, so tests draw the same screen
every time.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import tzinfo
from functools import partial
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar, TypeVar

from textual import on
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.containers import Container
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer, Header, Tab, Tabs
from textual.worker import Worker, WorkerState

from tui.config import time_zone
from tui.market.alerts import SEVERITIES, Alert, AlertBook, AlertLog
from tui.market.rules import RuleEngine, Thresholds
from tui.screens import AddScripScreen, ConfirmScreen, HelpScreen, HelpSections, NameScreen
from tui.surveillance import SurveillanceScreen
from tui.theme import DEFAULT_THEME, THEMES, variable_defaults
from tui.watchlists import Watchlists, WatchlistStore
from tui.widgets.alerts import AlertList
from tui.widgets.health import HealthLike, HealthPanel
from tui.widgets.ladder import Ladder
from tui.widgets.strips import zone_name
from tui.widgets.tape import L2Tape
from tui.widgets.tiles import Tiles
from tui.widgets.watchlist import Watchlist
from tui.wire.catalogue import Entry, entries

if TYPE_CHECKING:
    from tui.config import DeskConfig
    from tui.feed.source import FeedSource
    from tui.market.store import Market

#: themes/ ships as the package ``tui.themes``: found the same way in a checkout and a wheel.
#: desk.tcss lays the panes out, screens.tcss and surveillance.tcss the other screens; each
#: widget ships its own styles (its DEFAULT_CSS, read from its own file: widgets/styles.py).
CSS_FILES = [str(files("tui.themes") / f"{name}.tcss") for name in ("desk", "screens", "surveillance")]
#: how often the health panel is redrawn, stale scrips marked and a sorted list re-sorted
HEALTH_EVERY = 0.5
#: how often the rule engine looks at the scrips that changed (seconds)
RULES_EVERY = 0.25
#: at most one toast about new bad frames in this many seconds (the health pane counts them all)
ERRORS_EVERY = 10.0
#: seconds allowed for the client to stop when the desk quits
STOP_WITHIN = 3.0
#: the desk is laid out in three columns from this width, two below it
WIDE = 140
T = TypeVar("T")
#: the panes, in the order of the toggle keys 1-4
PANES = ("watchlist", "ladder", "tape", "health")


@dataclass
class Settings:
    """What the desk takes from the user's config (tui/config.py), with its defaults."""

    theme: str = DEFAULT_THEME
    refresh_hz: float = 20.0
    stale_after: float = 10.0
    flash: bool = True
    columns: Sequence[str] | None = None
    circuit_near: float = 2.0
    large_qty: int = 5000
    keep: int = 2000
    keys: dict[str, str] = field(default_factory=dict)
    thresholds: Thresholds = field(default_factory=Thresholds)
    alert_log: Path | None = None
    bell: bool = True
    #: the zone of every time on the desk (None: the machine's)
    tz: tzinfo | None = None

    @classmethod
    def of(cls, config: DeskConfig) -> Settings:
        desk, tape = config.desk, config.tape
        return cls(
            theme=desk.theme,
            refresh_hz=desk.refresh_hz,
            stale_after=desk.stale_after,
            flash=desk.flash,
            columns=desk.columns,
            circuit_near=desk.circuit_near,
            large_qty=tape.large_qty,
            keep=tape.keep,
            keys=dict(config.keys),
            thresholds=config.surveillance.thresholds(),
            alert_log=config.surveillance.alert_log_path(),
            bell=config.surveillance.bell,
            tz=time_zone(desk.timezone),
        )


def _edit(
    description: str, key: str, action: str, binding_id: str, show: bool = False, modal: bool = False
) -> Binding:
    """An editing binding; ``modal``: the key opens a modal, so it is bound with priority
    (handled as it arrives, before the keys typed after it are passed on: those go to the
    modal, see :meth:`DeskApp.open_modal`)."""
    return Binding(key, action, description, id=f"watchlists.{binding_id}", show=show, priority=modal)


class DeskApp(App[None]):
    TITLE = "marketdesk"
    CSS_PATH = CSS_FILES
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (WIDE, "-wide")]  # noqa: RUF012 - Textual's API
    BINDINGS: ClassVar[list[BindingType]] = [
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
        Binding("left_square_bracket", "switch_list(-1)", "Previous list", id="desk.prev_list", show=False),
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
    EDITING: ClassVar[frozenset[str]] = frozenset(
        {"add_scrip", "remove_scrip", "move_scrip", "new_list", "rename_list", "delete_list"}
    )
    #: actions that work on any screen; the others belong to the desk screen
    EVERYWHERE: ClassVar[frozenset[str]] = frozenset(
        {"quit", "help", "next_theme", "command_palette", "surveillance"}
    )
    #: the desk screen's own actions (its bindings): idle while another screen is on top.
    #: Textual's own (focus_next, focus_previous, ...) act on whichever screen is shown.
    DESK_ONLY: ClassVar[frozenset[str]] = frozenset(
        b.action.partition("(")[0] for b in BINDINGS if isinstance(b, Binding)
    ) - EVERYWHERE

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
        self.catalogue: list[Entry] = list(catalogue)
        self.names = {entry.key: entry.name for entry in self.catalogue}
        #: indices (the catalogue says which): a value, no order book; only their touchline is asked
        self.indices = frozenset(entry.key for entry in self.catalogue if entry.is_index)
        #: None: the watchlist follows the market's scrips (no list given: tests, tail)
        self.follow = watchlists is None
        self.lists = watchlists if watchlists is not None else Watchlists.single("Watchlist", market.scrips)
        if selected is None and not self.follow:
            # open on a stock: its ladder and tape have something to show at once
            active = self.lists.keys_of(self.lists.active)
            selected = next((key for key in active if key not in self.indices), None)
        self._subscribed: set[str] = set()
        self._feed: Worker[None] | None = None
        self._feed_stopped = False
        self._failed_shown = False
        self._health_ticks = 0
        #: bad frames already announced (a toast when the count moves, at most every ERRORS_EVERY s)
        #: seconds after mount to call :meth:`settle_gc` (None: never; run_desk sets it)
        self.settle_gc_after: float | None = None
        self._errors_told = sum(market.errors.by_kind.values())  # the desk's own only
        self._errors_told_at = -ERRORS_EVERY
        self._tab_ids: dict[str, str] = {}  # tab id -> list name
        self._tab_seq = 0
        #: the tape shows every scrip's events (``a``), not only the selected one's
        self.tape_all = False
        # -- surveillance: the rules run on every scrip, whichever screen is shown
        self.alerts = AlertBook()
        self.engine = RuleEngine(market, settings.thresholds, wall=wall)
        self.alert_log = AlertLog(settings.alert_log) if settings.alert_log else None
        self._unchecked: set[str] = set()
        self._rules_at = -RULES_EVERY
        self.tz = tz
        keys = None if self.follow else self.lists.keys_of(self.lists.active)
        make_watchlist = partial(
            Watchlist,
            market,
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
        self.ladder = Ladder(market, tz=tz, id="ladder")
        self.tape = L2Tape(
            market, key=self.selected, tz=tz, large_qty=settings.large_qty, keep=settings.keep,
            id="tape",
        )
        self.health_panel = HealthPanel(id="health")
        for pane in (self.ladder, self.health_panel):
            pane.can_focus = True  # so it can be maximised (z)
        if settings.keys:
            self.set_keymap(settings.keys)

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
        if self.refresh_hz > 0:
            self.set_interval(1.0 / self.refresh_hz, self.flush, name="flush")
            self.set_interval(HEALTH_EVERY, self.update_health, name="health")
        self.watchlist.focus()
        unknown = sorted(set(self.settings.keys) - self.binding_ids())
        if unknown:
            self.notices.append("[keys] names no binding: " + ", ".join(unknown) + " (see ? for ids)")
        for notice in self.notices:
            self.notify(notice, title="marketdesk", severity="warning", timeout=20)
        if self.client is not None:
            self._start_feed(self.client)

    # -- the feed ------------------------------------------------------------------------
    def _level(self) -> str:
        return self.health_source().level if self.health_source is not None else ""

    def _start_feed(self, client: FeedSource) -> None:
        client.on_event = self._feed_event
        self._resubscribe()
        self._feed = self.run_worker(client.run(), name="feed", group="feed", exit_on_error=False)

    def _resubscribe(self) -> None:
        """Subscribe what the lists hold and nothing else (after every edit)."""
        if self.client is None:
            return
        wanted = self.watchlist.keys if self.follow else self.lists.all_keys()
        new = [key for key in wanted if key not in self._subscribed]
        gone = [key for key in self._subscribed if key not in set(wanted)]
        stocks = [key for key in new if key not in self.indices]
        if stocks:
            self.client.subscribe(stocks, depth=True, orders=self._level() == "L2")
        indices = [key for key in new if key in self.indices]
        if indices:  # an index has a value, no book: depth or orders would be refused
            self.client.subscribe(indices, depth=False)
        if gone:
            self.client.unsubscribe(gone)  # which forgets their market state
            for key in gone:
                self.engine.forget(key)
        self._subscribed = set(wanted)

    def _feed_event(self, kind: str, text: str) -> None:
        """The client's notable events (reconnects, refusals) as toasts."""
        severity: SeverityLevel = "warning"  # reconnect, stall, refused
        if kind in ("auth-failed", "failed", "session-limit"):
            severity = "error"
        elif kind in ("connected", "reconnected"):
            severity = "information"
        self.notify(text, title=kind, severity=severity)

    def _feed_failed(self) -> bool:
        """The feed gave up (``auth-failed``, ``failed``) and its client has returned."""
        if self.client is None or self._feed_stopped:
            return False
        done = self._feed is None or self._feed.is_finished
        return done and self.client.health.state in ("auth-failed", "failed")

    def _retry_key(self) -> str:
        """The key of "Retry feed" as the user has it (``[keys] "desk.retry"``)."""
        keys = self.settings.keys.get("desk.retry", "r")
        return self.get_key_display(Binding(keys.split(",")[0].strip(), ""))

    def action_retry_feed(self) -> None:
        """Try the feed again after a failure (``r``, offered only then)."""
        if self.client is None or not self._feed_failed():
            return
        self.notify("Trying the feed again", title="feed", timeout=3)
        self._feed = self.run_worker(self.client.run(), name="feed", group="feed", exit_on_error=False)
        self._failed_shown = False
        self.refresh_bindings()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker is self._feed and event.state == WorkerState.ERROR:
            error = event.worker.error
            # the type only: an exception's text could carry an endpoint with a token
            self.notify(f"feed stopped: {type(error).__name__}", severity="error", timeout=30)

    async def stop_feed(self) -> None:
        """Stop the client and let its ``run()`` return (idempotent, bounded in time)."""
        if self.client is None or self._feed_stopped:
            return
        self._feed_stopped = True
        # quitting regardless of how the client ends: the worker is cancelled next
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.client.stop(), timeout=STOP_WITHIN)
            if self._feed is not None and self._feed.is_running:
                await asyncio.wait_for(self._feed.wait(), timeout=STOP_WITHIN)

    async def action_quit(self) -> None:
        await self.stop_feed()
        self.exit()

    async def on_unmount(self) -> None:
        await self.stop_feed()

    # -- the frame -----------------------------------------------------------------------
    def flush(self) -> set[str]:
        """One frame: take what changed from the market and redraw only that."""
        now = self.clock()
        changed = self.market.flush(now)
        tape_moved = self.market.tape.total != self.tape.seq
        self._unchecked |= changed
        added = self._run_rules(now)
        top = self.screen_stack[-1] if self.screen_stack else None  # none while closing
        if isinstance(top, SurveillanceScreen):
            with self.batch_update():
                top.refresh_keys(changed)
                if added:
                    top.add_alerts(added)
        with self.batch_update():
            self.watchlist.tick(now)  # flashes that ended
            if not changed and not tape_moved:
                return changed
            if changed:
                added = self.watchlist.refresh_keys(changed, now)
                if added:
                    self._followed()
                if self.selected is None and self.watchlist.selected is not None:
                    self.selected = self.watchlist.selected  # the first scrip arrived
                    self._show_selected()
                elif self.selected in changed:
                    self.ladder.invalidate()
                    self._titles()
            if tape_moved:
                self.tape.pull()
                self._titles()
        return changed

    def _run_rules(self, now: float) -> list[Alert]:
        """The rule engine over the scrips that changed since it last ran (a few times a
        second); new alerts go to the book, the log, the bell and the title."""
        if now - self._rules_at < RULES_EVERY:
            return []
        self._rules_at = now
        keys, self._unchecked = self._unchecked, set()
        added = self.alerts.add(self.engine.evaluate(keys, now))
        if not added:
            return added
        if self.alert_log is not None:
            errors = self.alert_log.errors
            self.alert_log.write(added)
            if self.alert_log.errors > errors:
                self.notify(f"alert log: {self.alert_log.last_error}", severity="error", timeout=20)
        if self.settings.bell and any(a.severity == SEVERITIES[-1] for a in added):
            self.bell()
        self._alert_title()
        return added

    def _alert_title(self) -> None:
        unacked = len(self.alerts.alerts(unacked_only=True))
        self.sub_title = f"{unacked} alert{'s' if unacked != 1 else ''} · v to look" if unacked else ""

    def action_surveillance(self) -> None:
        """Show the surveillance screen (or go back to the desk from it)."""
        if isinstance(self.screen, SurveillanceScreen):
            self.screen.dismiss(None)
            return
        keys = self.watchlist.keys if self.follow else self.lists.all_keys()

        def back(key: str | None) -> None:
            self._alert_title()
            if key:
                self.jump_to(key)

        self.push_screen(
            SurveillanceScreen(
                self.market, self.alerts, list(keys), clock=self.clock, tz=self.tz,
                stale_after=self.settings.stale_after, circuit_near=self.settings.circuit_near,
            ),
            back,
        )

    def _followed(self) -> None:
        """Following the market: scrips that appeared join the (unsaved) list."""
        for key in self.watchlist.keys:
            with contextlib.suppress(ValueError):
                self.lists.add(self.lists.active, key)
        self._titles()

    def update_health(self) -> None:
        self._health_ticks += 1
        if self._health_ticks % 2 == 0:
            self.market.sweep()  # keeps bad-number counts current for scrips off screen
        now = self.clock()
        self.market.sample_history()  # the sparklines' next point
        health = self.health_source() if self.health_source is not None else None
        errors = self.market.errors.by_kind
        failed = self._feed_failed()
        self.health_panel.retry_key = self._retry_key() if failed else None
        self.health_panel.show(
            health, errors, now, wall=self.wall(), fields=self.market.errors.by_field
        )
        if failed != self._failed_shown:  # the footer offers the retry key only while failed
            self._failed_shown = failed
            self.refresh_bindings()
        self._tell_errors(errors, now)
        self.tape.set_note(self._tape_note())
        self.ladder.set_note(*self._ladder_note())
        with self.batch_update():
            self.watchlist.mark_stale(now, self.settings.stale_after)
            self.watchlist.resort()

    def _tell_errors(self, errors: dict[str, int], now: float) -> None:
        """New bad frames as a toast: which kinds, how many; never more than one a while."""
        total = sum(errors.values())
        if total <= self._errors_told or now - self._errors_told_at < ERRORS_EVERY:
            return
        new = total - self._errors_told
        kinds = ", ".join(kind for kind, n in sorted(errors.items()) if n)
        self._errors_told, self._errors_told_at = total, now
        self.notify(f"{new} bad frame{'s' if new != 1 else ''} ignored ({kinds}); "
                    "good state kept", title="feed", severity="warning")  # fmt: skip

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

    # -- selection -----------------------------------------------------------------------
    @on(Watchlist.Selected)
    def _selected(self, event: Watchlist.Selected) -> None:
        self.selected = event.key
        self._show_selected()

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

    def _show_selected(self) -> None:
        self.ladder.show(self.selected)
        self.ladder.set_note(*self._ladder_note())
        key = None if self.tape_all else self.selected
        if key != self.tape.key:
            self.tape.set_key(key)
        self.tape.set_note(self._tape_note())
        self._titles()

    def _titles(self) -> None:
        symbol = self.ladder.symbol()
        count = len(self.watchlist.keys)
        titles: list[tuple[Widget, str, str]] = [
            (self.watchlist, self.lists.active, f"{count} scrip" + ("s" if count != 1 else "")),
            (self.ladder, f"Ladder · {symbol}" if symbol else "Ladder", self.selected or ""),
            (self.tape, "L2 tape · " + ("all scrips" if self.tape_all else symbol), self.tape.status()),
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

    # -- watchlists: tabs --------------------------------------------------------------------
    async def _sync_tabs(self) -> None:
        """The tab bar shows the lists in order, the active one highlighted."""
        names = self.lists.names()
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

    @on(Tabs.TabActivated, "#lists")
    def _tab_activated(self, event: Tabs.TabActivated) -> None:
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

    # -- watchlists: editing -------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in self.DESK_ONLY and len(self.screen_stack) > 1:
            return False  # the desk's keys do not act behind another screen
        if action in self.EDITING:
            return self.focused is self.watchlist and not self.follow
        if action == "switch_list":
            return len(self.lists.names()) > 1
        if action == "retry_feed":
            return self._feed_failed()
        return True

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

    async def open_modal(self, screen: Screen[T], answered: Callable[[T | None], object]) -> None:
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
            if key and await self.edit(partial(self.lists.add, name, key), toast=f"added {key} to {name}"):
                self.jump_to(key)

        await self.open_modal(AddScripScreen(name, pool, self.lists.keys_of(name)), added)

    async def action_remove_scrip(self) -> None:
        key, name = self.watchlist.cursor_key, self.lists.active
        if key is not None:
            await self.edit(partial(self.lists.remove, name, key), toast=f"removed {self._symbol(key)} from {name}")

    async def action_move_scrip(self, step: int) -> None:
        key = self.watchlist.cursor_key
        if key is None:
            return
        if self.watchlist.sort_column is not None:
            self.notify("the list is sorted: press s until sorting is off to move scrips", severity="warning")
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
                await self.edit(partial(self.lists.rename, old, name), toast=f"renamed {old} to {name}")

        await self.open_modal(NameScreen(f"Rename {old}", old, self._check_name(old)), named)

    async def action_delete_list(self) -> None:
        name = self.lists.active
        count = len(self.lists.keys_of(name))
        if len(self.lists.names()) == 1:
            self.notify("the last watchlist cannot be deleted", title="watchlist", severity="warning")
            return

        async def answered(yes: bool | None) -> None:
            if yes:
                await self.edit(partial(self.lists.delete, name), toast=f"deleted {name}")

        question = f"Delete the watchlist {name} ({count} scrip{'s' if count != 1 else ''})?"
        await self.open_modal(ConfirmScreen(question), answered)

    # -- panes ---------------------------------------------------------------------------
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
        if focused is None or focused not in (self.watchlist, self.ladder, self.tape, self.health_panel):
            focused = self.watchlist
        self.screen.maximize(focused, container=False)

    # -- themes, help, palette -----------------------------------------------------------
    def action_next_theme(self) -> None:
        names = [theme.name for theme in THEMES]
        at = names.index(self.theme) if self.theme in names else -1
        self.theme = names[(at + 1) % len(names)]
        self.notify(f"theme {self.theme}", timeout=2)

    def binding_ids(self) -> set[str]:
        return {b.id for b in self._all_bindings() if b.id}

    def _all_bindings(self) -> Iterable[Binding]:
        for owner in (DeskApp, Watchlist, L2Tape, SurveillanceScreen, Tiles, AlertList):
            for binding in owner.BINDINGS:
                if isinstance(binding, Binding):
                    yield binding

    def help_sections(self) -> HelpSections:
        """Every binding with the keys in force (the user's remaps applied)."""

        def rows(owner: type, only: Callable[[Binding], bool] = lambda b: True) -> list[tuple[str, str]]:
            out = []
            for b in owner.BINDINGS:
                if isinstance(b, Binding) and only(b):
                    keys = self.settings.keys.get(b.id or "", b.key)
                    shown = ", ".join(self.get_key_display(Binding(k.strip(), "")) for k in keys.split(","))
                    out.append((shown, b.description))
            return out

        desk_rows = rows(DeskApp, lambda b: not (b.id or "").startswith("watchlists."))
        desk_rows += [("tab, shift+tab", "Next / previous pane"), ("ctrl+p", "Command palette")]
        return [
            ("Desk", desk_rows),
            ("Watchlist", rows(Watchlist)),
            ("Watchlists (editing)", rows(DeskApp, lambda b: (b.id or "").startswith("watchlists."))),
            ("L2 tape", rows(L2Tape)),
            ("Surveillance (v)", rows(SurveillanceScreen) + rows(Tiles)
             + [("tab, shift+tab", "Tiles / alert list")]),
            ("Alerts", rows(AlertList)),
        ]

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.help_sections()))

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        editing = not self.follow
        if editing:
            yield SystemCommand("Add scrip", "Search the instruments and add one to this list",
                                self._editing(self.action_add_scrip))  # fmt: skip
            yield SystemCommand("New watchlist", "Create an empty watchlist", self._editing(self.action_new_list))
            yield SystemCommand("Rename watchlist", f"Rename {self.lists.active}", self._editing(self.action_rename_list))
            yield SystemCommand("Delete watchlist", f"Delete {self.lists.active}", self._editing(self.action_delete_list))
        for name in self.lists.names():
            yield SystemCommand(f"Watchlist: {name}", "Switch to this watchlist", partial(self._switch_to, name))
        for theme in THEMES:
            yield SystemCommand(f"Desk theme: {theme.name}", "Switch the colour theme",
                                partial(setattr, self, "theme", theme.name))  # fmt: skip
        for pane in PANES:
            yield SystemCommand(f"Toggle pane: {pane}", f"Show or hide the {pane}", partial(self.action_toggle_pane, pane))
        yield SystemCommand("Maximise pane", "Maximise the focused pane (z)", self.action_maximize_pane)
        yield SystemCommand("Surveillance", "Tiles of every scrip and the alerts (v)", self.action_surveillance)
        yield SystemCommand("Tape: all scrips / selected", "Which scrips the L2 tape shows", self.action_toggle_tape_scope)
        seen: set[str] = set()
        for name in self.lists.names():
            for key in self.lists.keys_of(name):
                if key not in seen:
                    seen.add(key)
                    label = f"{self._symbol(key)} {self.names.get(key, '')}".strip()
                    yield SystemCommand(f"Jump to {label}", f"{key} in {name}", partial(self.jump_to, key))

    def _editing(self, action: Callable[[], object]) -> Callable[[], object]:
        """A palette command that edits the list: run it with the watchlist focused."""

        def run() -> object:
            self.watchlist.focus()
            return action()

        return run


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
    ``config``: the user's settings (tui/config.py); ``refresh_hz`` and ``theme`` override it.
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
