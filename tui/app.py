"""The desk: watchlist | ladder | L2 tape | health, driven by a flush timer.

Data reaches the screen one way only: the feed client merges messages into the
:class:`~tui.market.store.Market` (same event loop, an async worker); a timer at
``refresh_hz`` calls ``market.flush(clock())`` and, inside one ``batch_update``, redraws
the watchlist rows, the ladder and the tape of the keys that changed.  No Textual message
is ever posted per feed message.

Everything the screen depends on is injected (:func:`make_app`): the market, the client,
the clock, the health source, the time zone of the tape, so tests draw the same screen
every time.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Sequence
from datetime import tzinfo
from importlib.resources import files
from typing import TYPE_CHECKING, ClassVar

from textual import on
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Container
from textual.notifications import SeverityLevel
from textual.widget import Widget
from textual.widgets import Footer, Header
from textual.worker import Worker, WorkerState

from tui.theme import DEFAULT_THEME, THEMES, variable_defaults
from tui.widgets.health import HealthLike, HealthPanel
from tui.widgets.ladder import Ladder
from tui.widgets.tape import L2Tape
from tui.widgets.watchlist import Watchlist

if TYPE_CHECKING:
    from tui.feed.client import FeedClient
    from tui.market.store import Market

#: themes/ ships as the package ``tui.themes``: found the same way in a checkout and a wheel.
#: desk.tcss lays the panes out; each pane's own styles are in a file of its own.
CSS_FILES = [
    str(files("tui.themes") / f"{name}.tcss")
    for name in ("desk", "watchlist", "ladder", "tape", "health")
]
#: how often the health panel is redrawn and pending scrips are swept, seconds
HEALTH_EVERY = 0.5
#: seconds allowed for the client to stop when the desk quits
STOP_WITHIN = 3.0


class DeskApp(App[None]):
    TITLE = "marketdesk"
    CSS_PATH = CSS_FILES  # noqa: RUF012 - Textual's API
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (120, "-wide")]  # noqa: RUF012 - Textual's API
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit", id="desk.quit"),
        Binding("a", "toggle_tape_scope", "Tape: all/one", id="desk.tape_scope"),
    ]

    def __init__(
        self,
        market: Market,
        client: FeedClient | None = None,
        *,
        watch: Sequence[str] | None = None,
        selected: str | None = None,
        clock: Callable[[], float] = time.monotonic,
        refresh_hz: float = 20.0,
        health: Callable[[], HealthLike] | None = None,
        theme: str = DEFAULT_THEME,
        tz: tzinfo | None = None,
    ) -> None:
        super().__init__()
        for desk_theme in THEMES:
            self.register_theme(desk_theme)
        self.theme = theme
        self.market = market
        self.client = client
        self.clock = clock
        self.refresh_hz = refresh_hz
        if health is None and client is not None:
            health = lambda: client.health
        self.health_source = health
        self._feed: Worker[None] | None = None
        self._feed_stopped = False
        self._health_ticks = 0
        #: the tape shows every scrip's events (``a``), not only the selected one's
        self.tape_all = False
        self.watchlist = Watchlist(market, watch, selected=selected, id="watchlist")
        self.selected = self.watchlist.selected
        self.ladder = Ladder(market, tz=tz, id="ladder")
        self.tape = L2Tape(market, key=self.selected, tz=tz, id="tape")
        self.health_panel = HealthPanel(id="health")

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return variable_defaults(self.current_theme)

    def compose(self) -> ComposeResult:
        yield Header()
        with Container(id="desk"):
            yield self.watchlist
            yield self.ladder
            yield self.tape
            yield self.health_panel
        yield Footer()

    def on_mount(self) -> None:
        self.health_panel.border_title = "Feed"
        self._show_selected()
        self.update_health()
        if self.refresh_hz > 0:
            self.set_interval(1.0 / self.refresh_hz, self.flush, name="flush")
            self.set_interval(HEALTH_EVERY, self.update_health, name="health")
        self.watchlist.focus()
        if self.client is not None:
            self._start_feed(self.client)

    # -- the feed ------------------------------------------------------------------------
    def _level(self) -> str:
        return self.health_source().level if self.health_source is not None else ""

    def _start_feed(self, client: FeedClient) -> None:
        client.on_event = self._feed_event
        if self.watchlist.keys:
            client.subscribe(self.watchlist.keys, depth=True, orders=self._level() == "L2")
        self._feed = self.run_worker(client.run(), name="feed", group="feed", exit_on_error=False)

    def _feed_event(self, kind: str, text: str) -> None:
        """The client's notable events (reconnects, refusals) as toasts."""
        severity: SeverityLevel = "warning"  # reconnect, stall, refused
        if kind in ("auth-failed", "session-limit"):
            severity = "error"
        elif kind in ("connected", "reconnected"):
            severity = "information"
        self.notify(text, title=kind, severity=severity)

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
        changed = self.market.flush(self.clock())
        tape_moved = self.market.tape.total != self.tape.seq
        if not changed and not tape_moved:
            return changed
        with self.batch_update():
            if changed:
                added = self.watchlist.refresh_keys(changed)
                if self.selected is None and self.watchlist.selected is not None:
                    self.selected = self.watchlist.selected  # the first scrip arrived
                    self._show_selected()
                elif self.selected in changed:
                    self.ladder.invalidate()
                    self._titles()
                elif added:
                    self._titles()  # the count of scrips
            if tape_moved:
                self.tape.pull()
        return changed

    def update_health(self) -> None:
        self._health_ticks += 1
        if self._health_ticks % 2 == 0:
            self.market.sweep()  # keeps bad-number counts current for scrips off screen
        health = self.health_source() if self.health_source is not None else None
        self.health_panel.show(health, self.market.errors.by_kind, self.clock())
        self.tape.set_note(self._tape_note())

    def _tape_note(self) -> str:
        level = self._level()
        if level and level != "L2":
            return f"No L2 data: this feed is {level}. Order-level data needs an L2 endpoint."
        if self.tape.key is None:
            return "No L2 data yet."
        scrip = self.market.view(self.tape.key)
        return f"No L2 data for {scrip.symbol if scrip else self.tape.key} yet."

    # -- selection -----------------------------------------------------------------------
    @on(Watchlist.Selected)
    def _selected(self, event: Watchlist.Selected) -> None:
        self.selected = event.key
        self._show_selected()

    def _show_selected(self) -> None:
        self.ladder.show(self.selected)
        key = None if self.tape_all else self.selected
        if key != self.tape.key:
            self.tape.set_key(key)
        self.tape.set_note(self._tape_note())
        self._titles()

    def _titles(self) -> None:
        symbol = self.ladder.symbol()
        count = len(self.watchlist.keys)
        titles: list[tuple[Widget, str, str]] = [
            (self.watchlist, "Watchlist", f"{count} scrip" + ("s" if count != 1 else "")),
            (self.ladder, f"Ladder · {symbol}" if symbol else "Ladder", self.selected or ""),
            (self.tape, "L2 tape · " + ("all scrips" if self.tape_all else symbol), ""),
        ]
        for widget, title, subtitle in titles:
            if widget.border_title != title:
                widget.border_title = title
            if widget.border_subtitle != subtitle:
                widget.border_subtitle = subtitle

    def action_toggle_tape_scope(self) -> None:
        self.tape_all = not self.tape_all
        self._show_selected()


def make_app(
    market: Market,
    client: FeedClient | None = None,
    *,
    watch: Sequence[str] | None = None,
    selected: str | None = None,
    clock: Callable[[], float] = time.monotonic,
    refresh_hz: float = 20.0,
    health: Callable[[], HealthLike] | None = None,
    theme: str = DEFAULT_THEME,
    tz: tzinfo | None = None,
) -> DeskApp:
    """The desk over ``market``; with ``client``, also runs the feed and subscribes ``watch``.

    ``watch``: the watchlist's keys (default: every scrip in the market, and any that appear).
    ``selected``: the scrip of the ladder and tape (default: the first).
    ``clock``: the monotonic clock handed to ``Market.flush`` and the health panel.
    ``refresh_hz``: frames a second; 0 draws only when :meth:`DeskApp.flush` is called.
    ``health``: the source of the health panel's figures (default: ``client.health``).
    ``tz``: the time zone of the tape's times (default: local).
    """
    return DeskApp(
        market,
        client,
        watch=watch,
        selected=selected,
        clock=clock,
        refresh_hz=refresh_hz,
        health=health,
        theme=theme,
        tz=tz,
    )
