"""The desk's link to its feed source: start, subscribe, events, failure, retry, stop.

The source (:class:`~tui.feed.source.FeedSource`: the WebSocket client, the bus, a
replay) runs as one Textual worker and fills the market itself; the desk only says what to
subscribe (the union of every watchlist, after every edit), shows the source's notable
events as toasts, offers ``r`` once it has given up, and stops it, bounded in time, when
the desk quits.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING

from textual.notifications import SeverityLevel
from textual.worker import Worker, WorkerState

if TYPE_CHECKING:
    from tui.deskparts import DeskParts as Part
    from tui.feed.source import FeedSource
else:
    Part = object

#: seconds allowed for the client to stop when the desk quits
STOP_WITHIN = 3.0


class FeedLink(Part):
    """The feed source's lifecycle, as the desk drives it."""

    _subscribed: set[str]
    _feed: Worker[None] | None
    _feed_stopped: bool
    #: the footer offers the retry key (it is offered only while the feed has failed)
    _failed_shown: bool

    def _init_feed_link(self) -> None:
        self._subscribed = set()
        self._feed = None
        self._feed_stopped = False
        self._failed_shown = False

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

    def _offer_retry(self, failed: bool) -> None:
        """The footer offers the retry key only while the feed has failed."""
        if failed != self._failed_shown:
            self._failed_shown = failed
            self.refresh_bindings()

    def action_retry_feed(self) -> None:
        """Try the feed again after a failure (``r``, offered only then)."""
        if self.client is None or not self._feed_failed():
            return
        self.notify("Trying the feed again", title="feed", timeout=3)
        self._feed = self.run_worker(
            self.client.run(), name="feed", group="feed", exit_on_error=False
        )
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
