"""The publishing half of the bus: sequenced, batched deltas and the last-value store.

:meth:`Publisher.add` takes every market message of the feed (``tk tf dk df lk lo lt``, the
dicts the frame reader makes) on the hot path: it merges the message into the scrip's full
state (:mod:`tui.bus.state`) and queues it.  Every ``batch`` seconds the queue of each scrip
goes out as one NATS message on ``md.EXCH.TOKEN`` (L2: ``md2.EXCH.TOKEN``) with the next
sequence number of that scrip; a scrip's full state goes out on ``mds.``/``md2s.`` with the
sequence of the last delta it holds, at most every ``state_every`` seconds while it
changes, at once after a full message (``tk dk lk``), and whenever a consumer asks
(``mdctl.snap``).  A JetStream stream keeping one message per ``mds.>``/``md2s.>`` subject is
the last-value store a late joiner reads first.  Why a stream rather than a KV bucket, and
the measurements behind ``batch``: docs/BUS.md.

Never raises on input or on NATS trouble: the client reconnects for ever; what cannot be
sent meanwhile is counted and heals as a sequence gap at the consumers.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import nats
import nats.errors
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js.api import DiscardPolicy, StorageType, StreamConfig

from tui.bus import subjects as sj
from tui.bus import wire
from tui.bus.config import BusConfig, verdict
from tui.bus.interest import Interest
from tui.bus.state import L1State, L2State

log = logging.getLogger("marketdesk.bus")


@dataclass
class PublisherStats:
    state: str = "idle"  # idle connecting live disconnected stopped auth-failed failed
    endpoint: str = ""
    messages: int = 0  # market messages taken
    batches: int = 0  # delta NATS messages sent
    states: int = 0  # state NATS messages sent
    dropped: int = 0  # NATS messages that could not be sent (disconnected, buffer full)
    unfollowed: int = 0  # L2 messages the book could not follow (state withheld until lk)
    bad: int = 0  # messages without a usable e/tk/t
    snap_requests: int = 0
    reconnects: int = 0
    store: bool = False  # the last-value stream is in place
    last_error: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class _Scrip:
    __slots__ = (
        "due1",
        "due2",
        "l1",
        "l2",
        "pend1",
        "pend2",
        "sent1",
        "sent2",
        "seq1",
        "seq2",
        "stateq1",
        "stateq2",
        "subj",
    )  # fmt: skip

    def __init__(self, key: str) -> None:
        self.subj = (
            sj.key_subject(sj.L1_DELTAS, key),
            sj.key_subject(sj.L1_STATES, key),
            sj.key_subject(sj.L2_DELTAS, key),
            sj.key_subject(sj.L2_STATES, key),
        )
        self.l1: L1State | None = None
        self.l2: L2State | None = None
        self.pend1: list[dict[str, Any]] = []
        self.pend2: list[dict[str, Any]] = []
        self.seq1 = self.seq2 = 0
        self.sent1 = self.sent2 = -1e18  # clock time of the last state sent
        self.stateq1 = self.stateq2 = 0  # the sequence the last state sent holds
        self.due1 = self.due2 = False  # a state must go out at the next flush


class Publisher:
    def __init__(
        self,
        config: BusConfig,
        *,
        batch: float = 0.002,
        state_every: float = 1.0,
        interest: Interest | None = None,
        clock: Callable[[], float] = time.monotonic,
        epoch: str | None = None,
        upstream: Callable[[], str] | None = None,
        status_every: float = 1.0,
    ) -> None:
        self.config = config
        self.batch = batch
        self.state_every = state_every
        self.interest = interest
        #: the upstream feed's state (``live``, ``reconnecting``, ...), told to consumers
        self.upstream = upstream
        self.status_every = status_every
        self.clock = clock
        self.epoch = epoch or os.urandom(6).hex()
        self.stats = PublisherStats(endpoint=",".join(config.servers))
        self.nc: Client | None = None
        self._scrips: dict[str, _Scrip] = {}
        self._pending: set[_Scrip] = set()
        self._owed: set[_Scrip] = set()  # scrips whose state the throttle held back
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = False

    # -- the hot path ---------------------------------------------------------------------
    def add(self, msg: dict[str, Any]) -> None:
        """Take one market message; never raises."""
        try:
            key = msg["e"] + "|" + msg["tk"]
            t = msg["t"]
            s = self._scrips.get(key)
            if s is None:
                s = self._scrips[key] = _Scrip(key)
        except (KeyError, TypeError, ValueError):
            self.stats.bad += 1
            return
        if t in wire.L1_TYPES:
            if s.l1 is None:
                s.l1 = L1State()
            s.l1.apply(msg)
            s.pend1.append(msg)
            if t == "dk" or t == "tk":
                s.due1 = True
        elif t in wire.L2_TYPES:
            if s.l2 is None:
                s.l2 = L2State()
            if not s.l2.apply(msg):
                self.stats.unfollowed += 1
            s.pend2.append(msg)
            if t == "lk":
                s.due2 = True
        else:
            self.stats.bad += 1
            return
        self.stats.messages += 1
        if not self._pending:
            self._wake.set()
        self._pending.add(s)

    # -- lifecycle ------------------------------------------------------------------------
    async def start(self) -> None:
        """Connect (in the background if NATS is not there yet) and start publishing."""
        self._stopping = False
        self._tasks.append(asyncio.create_task(self._connect(), name="bus-connect"))
        self._tasks.append(asyncio.create_task(self._flusher(), name="bus-flush"))
        self._tasks.append(asyncio.create_task(self._state_sweeper(), name="bus-states"))
        if self.interest is not None:
            self._tasks.append(asyncio.create_task(self._interest_ticker(), name="bus-interest"))
        if self.upstream is not None:
            self._tasks.append(asyncio.create_task(self._status_ticker(), name="bus-status"))

    async def stop(self) -> None:
        self._stopping = True
        self._wake.set()
        await asyncio.sleep(0)
        if self.nc is not None and self.nc.is_connected:
            with contextlib.suppress(Exception):
                await self._flush_all()
                await self.nc.flush(timeout=2)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        if self.nc is not None:
            with contextlib.suppress(Exception):
                await self.nc.close()
        if self.stats.state not in ("auth-failed", "failed"):
            self.stats.state = "stopped"

    async def _connect(self) -> None:
        self.stats.state = "connecting"

        async def error_cb(exc: Exception) -> None:
            if self.stats.state in ("auth-failed", "failed"):
                return  # the reason stays (the server's close that follows says less)
            self.stats.last_error = self._scrub(f"{type(exc).__name__}: {exc}")
            why = verdict(exc)
            if why and self.stats.state not in ("auth-failed", "failed"):
                # retrying cannot cure it: give up on the bus (the feed itself goes on)
                self.stats.state = "auth-failed" if why == "auth" else "failed"
                log.error("bus: %s; not publishing", self.stats.last_error)
                asyncio.get_running_loop().call_soon(self._give_up)

        async def disconnected_cb() -> None:
            if not self._stopping and self.stats.state not in ("auth-failed", "failed"):
                self.stats.state = "disconnected"

        async def reconnected_cb() -> None:
            self.stats.reconnects += 1
            self.stats.state = "live"
            await self._announce()

        try:
            self.nc = await nats.connect(
                **self.config.connect_options(),
                error_cb=error_cb,
                disconnected_cb=disconnected_cb,
                reconnected_cb=reconnected_cb,
            )
        except Exception as exc:  # noqa: BLE001 - reported, never raised into the feed
            self.stats.state = "failed"
            self.stats.last_error = self._scrub(f"{type(exc).__name__}: {exc}")
            log.error("bus: cannot connect: %s", self.stats.last_error)
            return
        await self.nc.subscribe(sj.SNAP, cb=self._on_snap)
        if self.interest is not None:
            await self.nc.subscribe(sj.WANT, cb=self._on_want)
            await self.nc.subscribe(sj.BYE, cb=self._on_bye)
        self.stats.state = "live"
        await self._announce()

    def _give_up(self) -> None:
        for task in self._tasks:
            if task.get_name() == "bus-connect":
                task.cancel()
        if self.nc is not None:
            asyncio.ensure_future(self.nc.close())

    async def _announce(self) -> None:
        """After a (re)connect: the store may be new (a restarted NATS keeps no memory
        stream), so make sure it is there, send every state again, say hello."""
        await self._ensure_store()
        for s in self._scrips.values():
            s.due1 = s.l1 is not None
            s.due2 = s.l2 is not None
            self._pending.add(s)
        self._wake.set()
        await self._publish(sj.HELLO, wire.encode(wire.Hello(e=self.epoch)))

    async def _ensure_store(self) -> None:
        assert self.nc is not None
        config = StreamConfig(
            name=sj.STREAM,
            subjects=list(sj.STREAM_SUBJECTS),
            storage=StorageType.MEMORY,
            max_msgs_per_subject=1,
            discard=DiscardPolicy.OLD,
            allow_direct=True,
            num_replicas=1,
        )
        jsm = self.nc.jsm()
        try:
            try:
                await jsm.add_stream(config)
            except nats.js.errors.BadRequestError:  # there, with another config: ours wins
                await jsm.update_stream(config)
            self.stats.store = True
        except Exception as exc:  # noqa: BLE001 - JetStream off: deltas and snapshots still work
            self.stats.store = False
            self.stats.last_error = self._scrub(f"no last-value store: {type(exc).__name__}: {exc}")
            log.warning("bus: %s", self.stats.last_error)

    # -- sending --------------------------------------------------------------------------
    async def _flusher(self) -> None:
        while True:
            await self._wake.wait()
            if self.batch > 0:
                await asyncio.sleep(self.batch)  # let a few milliseconds of deltas gather
            self._wake.clear()
            if self.nc is not None:
                await self._flush_all()
            else:  # never connected yet: keep the states (sent on connect), not the deltas
                for s in self._pending:
                    self.stats.dropped += bool(s.pend1) + bool(s.pend2)
                    s.pend1, s.pend2 = [], []
                self._pending.clear()

    async def _flush_all(self) -> None:
        pending, self._pending = self._pending, set()
        now = self.clock()
        every, epoch, enc, Batch = self.state_every, self.epoch, wire.encode, wire.Batch
        for s in pending:
            if s.pend1:
                msgs, s.pend1 = s.pend1, []  # taken before an await: add() may run meanwhile
                s.seq1 += 1
                await self._publish(s.subj[0], enc(Batch(epoch, s.seq1, msgs)))
                self.stats.batches += 1
            if s.l1 is not None and (s.stateq1 != s.seq1 or s.due1):
                if s.due1 or now - s.sent1 >= every:
                    s.due1, s.sent1, s.stateq1 = False, now, s.seq1
                    await self._publish(s.subj[1], enc(Batch(epoch, s.seq1, [s.l1.full()])))
                    self.stats.states += 1
                else:
                    self._owed.add(s)
            if s.pend2:
                msgs, s.pend2 = s.pend2, []  # taken before an await: add() may run meanwhile
                s.seq2 += 1
                await self._publish(s.subj[2], enc(Batch(epoch, s.seq2, msgs)))
                self.stats.batches += 1
            if s.l2 is not None and (s.stateq2 != s.seq2 or s.due2):
                if s.due2 or now - s.sent2 >= every:
                    full = s.l2.full()
                    s.due2, s.sent2, s.stateq2 = False, now, s.seq2
                    if full is not None:  # a book that lost track waits for its next lk
                        await self._publish(s.subj[3], enc(Batch(epoch, s.seq2, [full])))
                        self.stats.states += 1
                else:
                    self._owed.add(s)

    async def _state_sweeper(self) -> None:
        """States held back by the throttle go out once it has passed, so the store ends
        at each scrip's latest sequence even when the scrip falls quiet."""
        while True:
            await asyncio.sleep(self.state_every)
            owed, self._owed = self._owed, set()
            if owed:
                self._pending |= owed
                self._wake.set()

    async def _publish(self, subject: str, payload: bytes) -> None:
        assert self.nc is not None
        try:
            await self.nc.publish(subject, payload)
        except (nats.errors.Error, OSError) as exc:
            self.stats.dropped += 1
            self.stats.last_error = self._scrub(f"{type(exc).__name__}: {exc}")

    # -- control --------------------------------------------------------------------------
    async def _on_snap(self, msg: Msg) -> None:
        try:
            snap = wire.snap_decoder.decode(msg.data)
        except Exception:  # noqa: BLE001 - a bad request is counted, never fatal
            self.stats.bad += 1
            return
        self.stats.snap_requests += 1
        for key in snap.k:
            s = self._scrips.get(key)
            if s is not None and s.l1 is not None:
                s.due1 = True
                self._pending.add(s)
        for key in snap.l:
            s = self._scrips.get(key)
            if s is not None and s.l2 is not None:
                s.due2 = True
                self._pending.add(s)
        self._wake.set()

    async def _on_want(self, msg: Msg) -> None:
        assert self.interest is not None
        try:
            want = wire.want_decoder.decode(msg.data)
        except Exception:  # noqa: BLE001
            self.stats.bad += 1
            return
        if not (want.id.isprintable() and 0 < len(want.id) <= 200):
            self.stats.bad += 1
            return
        self.interest.want(want.id, want.k, want.l, lease=want.lease)

    async def _on_bye(self, msg: Msg) -> None:
        assert self.interest is not None
        try:
            self.interest.bye(wire.bye_decoder.decode(msg.data).id)
        except Exception:  # noqa: BLE001
            self.stats.bad += 1

    async def _interest_ticker(self) -> None:
        assert self.interest is not None
        while True:
            await asyncio.sleep(0.25)
            self.interest.tick()

    async def _status_ticker(self) -> None:
        """A heartbeat with the upstream's state: a consumer knows a quiet scrip from a
        feed that is down, and a publisher that is gone from one that is quiet."""
        assert self.upstream is not None
        told = ""
        last = -1e18
        while True:
            await asyncio.sleep(min(0.25, self.status_every))
            up = self.upstream()
            now = self.clock()
            if (
                self.nc is not None
                and self.nc.is_connected
                and (up != told or now - last >= self.status_every)
            ):
                told, last = up, now
                await self._publish(sj.STATUS, wire.encode(wire.Status(e=self.epoch, up=up)))

    def _scrub(self, text: str) -> str:
        for secret in self.config.secrets():
            text = text.replace(secret, "<redacted>")
        return text[:300]
