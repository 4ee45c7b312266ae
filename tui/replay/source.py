"""A recording as a feed source: the desk on a replay (``marketdesk --replay FILE...``).

:class:`ReplaySource` keeps the feed-source contract (``tui.feed.source``): ``run``,
``stop``, ``subscribe``, ``unsubscribe``, ``health``, ``on_event``, ``market``.  It puts the
recorded frames through the same reader (the recording's dialect; psx: the
:class:`~tui.wire.frames.FrameReader`) into the same
:class:`~tui.market.store.Market` as live data, each when the replay clock reaches its
receive time, so the merge and the rules see what they saw live.  The replay clock
(:meth:`clock`, epoch seconds of the recording) is handed to the app as its clock and
wall clock: flushes, stale marks and the rules run on recorded time.

Transport: :meth:`pause`, :meth:`resume`, :meth:`set_speed` (0: as fast as possible),
:meth:`step` (while paused: one second on), :meth:`jump` (to any time; back means the
state is rebuilt from the start at full speed, ``on_rewind`` is told first so whatever
was derived from the old state, such as alerts, is dropped).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable, Iterable
from typing import Any, Final

from tui.feed.health import Health, RateMeter
from tui.market.store import Market
from tui.record import format as fmt
from tui.record.reader import Recording
from tui.replay.cursor import RecordCursor
from tui.replay.timeline import NS, ReplayClock, clock_text, speed_text
from tui.wire import dialects
from tui.wire.frames import DecodeErrors

log = logging.getLogger("marketdesk.replay")

PLAYING: Final = "live"  # the health panel's word for data flowing
PAUSED: Final = "paused"
ENDED: Final = "ended"
#: records applied between two yields to the event loop (the UI draws in between)
CHUNK: Final = 5000
#: the shortest wait between two batches of records (seconds): the records due in it are
#: applied together, as frames arriving together are
TICK: Final = 0.005
#: how far one step moves the paused replay (seconds of recording)
STEP: Final = 1.0
_FRAMES: Final = (fmt.RECEIVED, fmt.SNAPSHOT)
_FOREVER: Final = 1 << 62


class ReplaySource:
    """See the module docstring.  ``start_ns``/``end_ns``: ``--from``/``--to`` (the state
    at ``start_ns`` is built at full speed first)."""

    def __init__(
        self,
        recording: Recording,
        market: Market,
        *,
        speed: float = 1.0,
        start_ns: int | None = None,
        end_ns: int | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.recording = recording
        self._market = market
        self.on_event: Callable[[str, str], None] | None = None
        #: called before a jump back rebuilds the market from the start
        self.on_rewind: Callable[[], None] | None = None
        header = recording.header
        self.start_ns, self.end_ns = start_ns, end_ns
        self.replay_clock = ReplayClock(
            start_ns or header.started_ns, speed=speed, monotonic=monotonic
        )
        self._mono = monotonic
        names = [f.path.name for f in recording.files]
        more = f" (+{len(names) - 1} files)" if len(names) > 1 else ""
        self._health = Health(
            state="idle", endpoint=f"replay of {names[0]}{more}", level=header.level, auth="replay"
        )
        self._meter = RateMeter()
        self._last_ft: float | None = None
        self._wanted: set[str] = set()
        self._dropped: set[str] = set()  # unsubscribed keys whose frames are skipped
        #: the recording's dialect reads its frames, as the live client's did
        self._dialect = dialects.get(recording.header.dialect or "psx")
        self._codec = self._dialect.client(market.errors, market.apply)
        self._feed = self._codec.feed
        self._cursor = RecordCursor()
        self._opened = False
        self._seek: int | None = None
        self._quiet = False  # no events while seeking
        self._acks = 0
        self._stop = asyncio.Event()
        self._wake = asyncio.Event()
        self._stopped = False
        self.frames = 0  # frames applied
        self.position_ns = self.replay_clock.now_ns()  # time of the last record applied

    # -- the feed-source contract -------------------------------------------------------------
    @property
    def market(self) -> Market:
        return self._market

    @property
    def errors(self) -> DecodeErrors:
        return self._market.errors

    @property
    def health(self) -> Health:
        h = self._health
        h.messages = self.frames
        h.msg_rate = self._meter.sample(self._mono(), self.frames)
        self._last_ft = self._market.newest_feed_time(self._last_ft)
        h.lag = None if self._last_ft is None else self.clock() - self._last_ft
        h.errors = self._market.errors.as_dict()
        h.subscriptions = len(self._wanted)
        return h

    def subscribe(self, keys: Iterable[str], *, depth: bool = True, orders: bool = False) -> None:
        """Wanted keys; the recording decides what arrives (a key it lacks stays empty)."""
        keys = list(keys)
        self._wanted.update(keys)
        if self._dropped.intersection(keys):
            self._dropped.difference_update(keys)
            self._route()

    def unsubscribe(self, keys: Iterable[str]) -> None:
        """Forget the keys' state and skip their frames from now on."""
        for key in keys:
            self._wanted.discard(key)
            self._dropped.add(key)
            self._market.forget(key)
        self._route()

    def _route(self) -> None:
        apply = self._market.apply
        if not self._dropped:
            self._codec = self._dialect.client(self._market.errors, apply)
            self._feed = self._codec.feed
            return
        dropped = self._dropped

        def wanted_only(msg: dict[str, Any]) -> None:
            if f"{msg.get('e')}|{msg.get('tk')}" not in dropped:
                apply(msg)

        self._codec = self._dialect.client(self._market.errors, wanted_only)
        self._feed = self._codec.feed

    async def run(self) -> None:
        """Replay until :meth:`stop`; at the end (or ``--to``) the desk stays on the last
        state, paused, and a jump back plays again."""
        if self._stopped:
            return
        if not self._opened:
            self._open()
        if self.start_ns is not None:
            await self._advance_silently(self.start_ns)
        self._set_state(PAUSED if self.replay_clock.paused else PLAYING)
        self._event(
            "connected",
            f"Replaying {self._health.endpoint[10:]} "
            f"from {clock_text(self.replay_clock.now_ns())} at {self.speed_text}",
        )
        clock = self.replay_clock
        while not self._stop.is_set():
            if self._seek is not None:
                target, self._seek = self._seek, None
                await self._go_to(target)
                continue
            pending = self._cursor.peek()
            if pending is None or (self.end_ns is not None and pending[1] > self.end_ns):
                if self._health.state != ENDED:
                    self._ended()
                await self._sleep(None)
                continue
            wait = clock.due_in(pending[1])
            if wait > 0:  # short waits batch records per tick; long ones can be woken
                if wait <= 4 * TICK:
                    await asyncio.sleep(max(wait, TICK))
                else:
                    await self._sleep(min(wait, 0.25))
                continue
            limit = clock.now_ns() if clock.speed else _FOREVER
            if self.end_ns is not None:
                limit = min(limit, self.end_ns)
            self._apply_until(limit, CHUNK)
            if clock.speed == 0:
                clock.set(self.position_ns)
            await asyncio.sleep(0)
        self._set_state("stopped")

    async def stop(self) -> None:
        self._stopped = True
        self._stop.set()
        self._wake.set()

    # -- the app's clocks -----------------------------------------------------------------------
    def clock(self) -> float:
        """The replay clock in epoch seconds (the app's clock and wall clock)."""
        return self.replay_clock.now_ns() / NS

    @property
    def speed(self) -> float:
        return self.replay_clock.speed

    @property
    def paused(self) -> bool:
        return self.replay_clock.paused

    @property
    def speed_text(self) -> str:
        return speed_text(self.replay_clock.speed)

    # -- transport ------------------------------------------------------------------------------
    def pause(self) -> None:
        self.replay_clock.pause(True)
        if self._health.state == PLAYING:
            self._set_state(PAUSED)

    def resume(self) -> None:
        if self._health.state == ENDED:
            return
        self.replay_clock.pause(False)
        self._set_state(PLAYING)
        self._wake.set()

    def toggle_pause(self) -> None:
        self.resume() if self.paused else self.pause()

    def set_speed(self, speed: float) -> None:
        self.replay_clock.set_speed(speed)
        self._wake.set()

    def step(self, seconds: float = STEP) -> None:
        """Pause, then move on ``seconds`` of recording (the frames in it are applied)."""
        self.pause()
        self.jump(max(self.replay_clock.now_ns(), self.position_ns) + int(seconds * NS))

    def jump(self, ns: int) -> None:
        """Go to ``ns`` (epoch ns): forward applies the frames in between at full speed,
        back rebuilds the state from the start."""
        self._seek = ns
        self._wake.set()

    def advance_to(self, ns: int) -> int:
        """Apply every record up to ``ns`` now, without pacing (tools, tests, benches); the
        clock then reads ``ns``.  How many records were applied."""
        if not self._opened:
            self._open()
        quiet, self._quiet = self._quiet, True
        try:
            n = self._apply_until(ns, _FOREVER)
        finally:
            self._quiet = quiet
        self.replay_clock.set(ns)
        return n

    # -- inside -----------------------------------------------------------------------------------
    def _open(self) -> None:
        self._cursor = RecordCursor(self.recording.records())
        self._codec.reset()
        self._opened = True
        self._acks = 0
        self.position_ns = self.recording.header.started_ns

    def _apply_until(self, limit_ns: int, most: int) -> int:
        """Apply records up to ``limit_ns`` (at most ``most``); how many were applied."""
        feed, n = self._feed, 0
        frames = self.frames
        for kind, ns, payload in self._cursor.due(limit_ns, most):
            if kind in _FRAMES:
                try:
                    feed(payload)
                except Exception as exc:  # noqa: BLE001 - as the live client: one bad frame
                    self._market.errors.add(
                        "bad-message", f"{type(exc).__name__} on {payload[:120]!r}"
                    )
                frames += 1
            else:
                self._recorded_event(kind, payload)
            self.position_ns = ns
            n += 1
        self.frames = frames
        return n

    async def _advance_silently(self, target: int) -> None:
        self._quiet = True
        try:
            while self._apply_until(target, CHUNK) == CHUNK:
                await asyncio.sleep(0)
        finally:
            self._quiet = False
        self.replay_clock.set(target)

    async def _go_to(self, target: int) -> None:
        if target < self.position_ns:
            if self.on_rewind is not None:
                self.on_rewind()
            self._reset_market()
            self._open()
        await self._advance_silently(target)
        ended = self._cursor.peek() is None
        if ended:
            self._ended()
        elif self._health.state == ENDED:
            self._set_state(PAUSED if self.paused else PLAYING)

    def _reset_market(self) -> None:
        market = self._market
        for key in set(market.scrips) | set(market.books):
            market.forget(key)
        market.tape.events.clear()
        self._last_ft = None

    def _ended(self) -> None:
        more = self._cursor.peek() is not None
        end = self.end_ns if self.end_ns is not None and more else self.position_ns
        self.replay_clock.set(end)
        self.replay_clock.pause(True)
        self._set_state(ENDED)
        damage = self.recording.damage
        text = f"Replay ended at {clock_text(end)}" + (f"; {damage[0]}" if damage else "")
        self._event("replay-ended", text)

    def _recorded_event(self, kind: int, payload: bytes) -> None:
        """Connection events as they happened live, told as such; the dialect's reader
        follows the recorded connections and requests as the live one did."""
        if kind == fmt.OPENED:
            self._codec.reset()
        elif kind == fmt.SENT:
            follow_request(self._dialect, self._codec, payload)
        if self._quiet or kind not in (fmt.CLOSED, fmt.ACKNOWLEDGED):
            return
        if kind == fmt.ACKNOWLEDGED:
            self._acks += 1
            if self._acks > 1:
                self._event("reconnected", "Recorded: the feed went live again")
            return
        try:
            doc = json.loads(payload)
            text = (
                f"Recorded: the feed connection closed ({doc.get('code')} {doc.get('reason', '')})"
            )
        except ValueError:
            text = "Recorded: the feed connection closed"
        self._event("reconnect", text)

    async def _sleep(self, seconds: float | None) -> None:
        self._wake.clear()
        try:
            await asyncio.wait_for(self._wake.wait(), seconds)
        except TimeoutError:
            pass

    def _set_state(self, state: str) -> None:
        if self._health.state != state:
            self._health.state = state
            log.info("replay %s at %s", state, clock_text(self.replay_clock.now_ns()))

    def _event(self, kind: str, text: str) -> None:
        callback = self.on_event
        if callback is None or self._quiet:
            return
        try:
            callback(kind, text)
        except Exception:  # a toast must not stop the replay
            log.exception("replay: on_event failed")


def follow_request(dialect: Any, codec: Any, payload: bytes) -> None:
    """Tell a dialect's reader a request the live client sent (read back with the
    dialect's server half), so it knows what is subscribed, as it did live (Firstock V2
    keys its frames by what was asked).  Anything it cannot read is left alone."""
    try:
        msg = json.loads(payload)
        parsed = dialect.server().parse(msg) if isinstance(msg, dict) else "not a request"
    except (ValueError, TypeError):
        return
    if isinstance(parsed, tuple):
        codec.encode([parsed[1]])
