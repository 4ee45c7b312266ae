"""The desk's frame loop: what reaches the screen, and when.

Data reaches the screen one way only: the feed source merges messages into the
:class:`~tui.market.store.Market`; a timer at ``refresh_hz`` calls :meth:`FrameLoop.flush`,
which takes the keys that changed (``market.flush``) and, inside one ``batch_update``,
redraws the watchlist rows, the ladder and the tape of those keys.  No Textual message is
ever posted per feed message.  A slower timer (:meth:`FrameLoop.update_health`) redraws the
health pane, samples the sparklines, marks stale scrips, re-sorts a sorted list and tells
of new bad frames.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

from tui.surveillance import SurveillanceScreen

if TYPE_CHECKING:
    from tui.deskparts import DeskParts as Part
else:
    Part = object

#: how often the health panel is redrawn, stale scrips marked and a sorted list re-sorted
HEALTH_EVERY = 0.5
#: at most one toast about new bad frames in this many seconds (the health pane counts them all)
ERRORS_EVERY = 10.0


class FrameLoop(Part):
    """The frame (``flush``) and the health tick (``update_health``)."""

    refresh_hz: float
    _health_ticks: int
    #: bad frames already announced (a toast when the count moves, at most every ERRORS_EVERY s)
    _errors_told: int
    _errors_told_at: float

    def _init_frame_loop(self) -> None:
        self._health_ticks = 0
        self._errors_told = sum(self.market.errors.by_kind.values())  # the desk's own only
        self._errors_told_at = -ERRORS_EVERY

    def _start_frames(self) -> None:
        """The two timers (none at ``refresh_hz`` 0: frames only when ``flush`` is called)."""
        if self.refresh_hz > 0:
            self.set_interval(1.0 / self.refresh_hz, self.flush, name="flush")
            self.set_interval(HEALTH_EVERY, self.update_health, name="health")

    def flush(self) -> set[str]:
        """One frame: take what changed from the market and redraw only that."""
        now = self.clock()
        changed = self.market.flush(now)
        tape_moved = self.market.tape.total != self.tape.seq
        alerts = self._run_rules(changed, now)
        top = self.screen_stack[-1] if self.screen_stack else None  # none while closing
        if isinstance(top, SurveillanceScreen):
            with self.batch_update():
                top.refresh_keys(changed)
                if alerts:
                    top.add_alerts(alerts)
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
        sampled = set(self.market.unsampled)
        self.market.sample_history()  # the sparklines' next point
        health = self.health_source() if self.health_source is not None else None
        errors = self.market.errors.by_kind
        failed = self._feed_failed()
        self.health_panel.retry_key = self._retry_key() if failed else None
        self.health_panel.show(
            health, errors, now, wall=self.wall(), fields=self.market.errors.by_field
        )
        self._offer_retry(failed)
        self._tell_errors(errors, now)
        self.tape.set_note(self._tape_note())
        self.ladder.set_note(*self._ladder_note())
        with self.batch_update():
            self.watchlist.history_sampled(sampled)
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
