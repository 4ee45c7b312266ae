"""The NATS feed source: a desk, ``snapshot`` or ``tail`` fed from the bus instead of a socket.

The same shape as the WebSocket client (``subscribe``, ``unsubscribe``, ``run``, ``stop``,
``health``, ``on_event``), writing the same market messages into the same sink
(``Market``).  For each scrip it subscribes the delta and state subjects, reads the
last-value store, splices the deltas after the state by sequence (:mod:`tui.bus.splice`)
and asks the publishers for a fresh state whenever a scrip is out of sync.  Its interest
goes to the relays on ``mdctl.want`` and is renewed while it runs, so a relay subscribes
upstream what it needs; ``mdctl.bye`` when it stops.  Nothing here blocks the caller: the
connection (and every reconnection) happens inside :meth:`run`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
from collections.abc import Callable, Iterable

import msgspec
import nats
import nats.errors
import nats.js.errors
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription

from tui.bus import subjects as sj
from tui.bus import wire
from tui.bus.config import BusConfig, verdict
from tui.bus.splice import Splice
from tui.feed import health as hs
from tui.feed.sink import MarketSink
from tui.wire.frames import BAD_MESSAGE, NOT_JSON

log = logging.getLogger("marketdesk.bus")

L1_DELTA, L1_STATE, L2_DELTA, L2_STATE = 0, 1, 2, 3
#: a publisher's heartbeat older than this (seconds) no longer counts
STATUS_FRESH = 3.0
_PREFIXES = (sj.L1_DELTAS, sj.L1_STATES, sj.L2_DELTAS, sj.L2_STATES)
_ALLOWED = (wire.L1_TYPES, frozenset(("tk", "dk")), wire.L2_TYPES, frozenset(("lk",)))


class NatsSource:
    def __init__(
        self,
        config: BusConfig,
        market: MarketSink,
        *,
        consumer_id: str | None = None,
        renew: float = 5.0,
        lease: float = 15.0,
        snapshot_retry: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self.market = market
        self.errors = market.errors
        self.errors.add_secret(*config.secrets())
        self.id = consumer_id or f"{socket.gethostname()}:{os.getpid()}:{os.urandom(3).hex()}"
        self.renew, self.lease, self.snapshot_retry = renew, lease, snapshot_retry
        self.clock, self.wall = clock, wall
        self.on_event: Callable[[str, str], None] | None = None
        self.nc: Client | None = None
        self._health = hs.Health(endpoint=",".join(config.servers), level="L2", auth="nats")
        self._rates = (hs.RateMeter(), hs.RateMeter())
        self._keys: dict[str, bool] = {}  # key -> order level wanted
        self._subs: dict[str, list[Subscription]] = {}
        self._route: dict[str, tuple[int, Splice]] = {}
        self._splices: dict[str, tuple[Splice, Splice]] = {}
        self._asked: dict[tuple[int, str], float] = {}  # (family, key) -> when a state was asked
        self._changed = asyncio.Event()
        self._stop = asyncio.Event()
        self._renewed = -1e18
        self._ask_all = False  # a reconnect or a hello: ask every state once
        self._newest: float | None = None  # the newest feed time seen (lag)
        #: publisher runs (epochs) in the order first heard (a hello or a delta batch)
        self._epochs: dict[str, int] = {}
        #: epoch -> (its upstream's state, when heard), from the publishers' heartbeats
        self._upstreams: dict[str, tuple[str, float]] = {}
        #: gaps: NATS messages lost in flight (healed); stale: a state older than the stream
        #: it had to lead to, found when joining (healed, nothing lost)
        self.stats = {"gaps": 0, "stale": 0, "states": 0, "batches": 0, "snap_requests": 0}

    # -- the seam ---------------------------------------------------------------------------
    def subscribe(self, keys: Iterable[str], *, depth: bool = True, orders: bool = False) -> None:
        for key in keys:
            self._keys[key] = self._keys.get(key, False) or orders
        self._health.subscriptions = len(self._keys)
        self._changed.set()

    def unsubscribe(self, keys: Iterable[str]) -> None:
        for key in keys:
            if self._keys.pop(key, None) is not None:
                self.market.forget(key)
        self._health.subscriptions = len(self._keys)
        self._changed.set()

    @property
    def health(self) -> hs.Health:
        h = self._health
        now = self.clock()
        h.msg_rate = self._rates[0].sample(now, h.messages)
        h.byte_rate = self._rates[1].sample(now, h.bytes)
        self._newest = self.market.newest_feed_time(self._newest)
        h.lag = None if self._newest is None else max(0.0, self.wall() - self._newest)
        h.errors = self.errors.as_dict()
        h.upstream = self.upstream()  # the health pane: "via relay · upstream reconnecting"
        return h

    def unsynced(self) -> list[str]:
        """Keys with a family out of sync and data waiting (catching up: a state is on
        its way).  A family nothing was ever published for (L2 of an index) is not."""
        return sorted(k for k, (a, b) in self._splices.items() if a.behind or b.behind)

    async def run(self) -> None:
        """Connect (retrying for ever), follow the subscriptions, until :meth:`stop`."""
        self._stop.clear()
        self._health.state = hs.CONNECTING
        connect = asyncio.create_task(self._connect())
        stop = asyncio.create_task(self._stop.wait())
        try:
            await asyncio.wait([connect, stop], return_when=asyncio.FIRST_COMPLETED)
            if not connect.done():
                connect.cancel()
                await asyncio.gather(connect, return_exceptions=True)
                return
            exc = connect.exception()
            if exc is not None:  # not a network fault (those are retried inside): a verdict
                self._error(f"{type(exc).__name__}: {exc}")
                return
            while not self._stop.is_set():
                try:
                    await self._sync_subscriptions()
                    await self._control()
                except Exception as exc:  # noqa: BLE001 - reported; the next turn tries again
                    self._error(f"{type(exc).__name__}: {exc}")
                    log.warning("bus: %s", self._health.last_error)
                    await asyncio.sleep(0.5)
                self._changed.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), timeout=0.1)
        finally:
            stop.cancel()
            await self._close()

    async def stop(self) -> None:
        self._stop.set()
        self._changed.set()

    # -- connection -------------------------------------------------------------------------
    async def _connect(self) -> None:
        async def error_cb(exc: Exception) -> None:
            if self._health.state in hs.VERDICTS:
                return  # the reason stays (the server's close that follows says less)
            self._error(f"{type(exc).__name__}: {exc}")
            why = verdict(exc)
            if why:  # retrying cannot cure it: stop, as the WebSocket client does
                h = self._health
                h.state, h.failure = (
                    (hs.AUTH_FAILED, hs.AUTH) if why == "auth" else (hs.FAILED, hs.TLS)
                )
                self._event(h.state, f"bus: {h.last_error}")
                self._stop.set()
                self._changed.set()

        async def disconnected_cb() -> None:
            if not self._stop.is_set():
                self._health.state = hs.BACKOFF
                self._event("reconnect", "bus connection lost; reconnecting")

        async def reconnected_cb() -> None:
            self._health.state = hs.LIVE
            self._health.reconnects += 1
            self._health.sessions += 1
            self._health.connected_since = self.wall()
            self._event("reconnected", "bus reconnected")
            self._verify_all()

        self.nc = await nats.connect(
            **self.config.connect_options(),
            error_cb=error_cb,
            disconnected_cb=disconnected_cb,
            reconnected_cb=reconnected_cb,
        )
        await self.nc.subscribe(sj.HELLO, cb=self._on_hello)
        await self.nc.subscribe(sj.STATUS, cb=self._on_status)
        self._health.state = hs.LIVE
        self._health.sessions += 1
        self._health.connected_since = self.wall()
        self._event("connected", f"bus {self._health.endpoint}")

    async def _close(self) -> None:
        nc, self.nc = self.nc, None
        if nc is not None:
            with contextlib.suppress(Exception):
                if nc.is_connected:
                    await nc.publish(sj.BYE, wire.encode(wire.Bye(id=self.id)))
                    await nc.flush(timeout=1)
            with contextlib.suppress(Exception):
                await nc.close()
        self._subs.clear()
        self._route.clear()
        h = self._health
        h.stopped_in = h.state
        if h.state not in hs.VERDICTS:  # a verdict stays until the user acts
            h.state = hs.STOPPED

    # -- subscriptions and interest ---------------------------------------------------------
    async def _sync_subscriptions(self) -> None:
        nc = self.nc
        assert nc is not None
        fresh: list[str] = []
        for key in [k for k in self._subs if k not in self._keys]:
            for sub in self._subs.pop(key):
                with contextlib.suppress(Exception):
                    await sub.unsubscribe()
                self._route.pop(sub.subject, None)
            self._splices.pop(key, None)
            self._interest_changed()
        for key, orders in list(self._keys.items()):
            have = len(self._subs.get(key, ()))
            want = 4 if orders else 2
            if have >= want:
                continue
            try:
                subjects = [sj.key_subject(p, key) for p in _PREFIXES[have:want]]
            except ValueError:
                self.errors.add(BAD_MESSAGE, f"not a scrip key: {key!r}")
                self._keys.pop(key)
                continue
            splices = self._splices.get(key)
            if splices is None:
                splices = self._splices[key] = (
                    Splice(key, self.market.apply, self._newer),
                    Splice(key, self.market.apply, self._newer),
                )
            subs = self._subs.setdefault(key, [])
            for family, subject in enumerate(subjects, start=have):
                self._route[subject] = (family, splices[family // 2])
                subs.append(await nc.subscribe(subject, cb=self._on_msg))
            fresh.append(key)
            self._interest_changed()
        if fresh:
            with contextlib.suppress(Exception):
                await nc.flush(timeout=2)  # subscribed before the store is read: no hole
            await self._read_store(fresh)

    def _interest_changed(self) -> None:
        self._renewed = -1e18

    async def _control(self) -> None:
        """Renew the interest; ask for states of what is out of sync (not too often)."""
        nc = self.nc
        if nc is None or not nc.is_connected:
            return
        now = self.clock()
        if now - self._renewed >= self.renew:
            self._renewed = now
            orders = [k for k, o in self._keys.items() if o]
            await self._send(
                sj.WANT, wire.Want(id=self.id, k=list(self._keys), l=orders, lease=self.lease)
            )
        if self._ask_all:
            self._ask_all = False
            orders = [k for k, o in self._keys.items() if o]
            await self._send(sj.SNAP, wire.Snap(k=list(self._keys), l=orders))
        for key in self.market.resync:  # the book's own sq check found a hole
            splices = self._splices.get(key)
            if splices is not None:
                splices[1].synced = False
        self.market.resync.clear()
        ask_k: list[str] = []
        ask_l: list[str] = []
        for key, (l1, l2) in self._splices.items():
            for family, splice, out in ((0, l1, ask_k), (1, l2, ask_l)):
                if splice.synced or (family and not self._keys.get(key)):
                    continue
                # nothing heard yet (perhaps nothing published, like L2 of an index): ask less
                retry = self.snapshot_retry * (1 if splice.behind or splice.seq else 5)
                if now - self._asked.get((family, key), -1e18) >= retry:
                    self._asked[(family, key)] = now
                    out.append(key)
        if ask_k or ask_l:
            self.stats["snap_requests"] += 1
            await self._send(sj.SNAP, wire.Snap(k=ask_k, l=ask_l))

    def _verify_all(self) -> None:
        """After a reconnect anything may have been lost: ask every state again (a newer
        one is adopted, an equal one confirms) and re-send the interest."""
        self._renewed = -1e18
        for key in self._splices:
            self._asked.pop((0, key), None)
            self._asked.pop((1, key), None)
        self._ask_all = True
        self._changed.set()

    async def _send(self, subject: str, struct: msgspec.Struct) -> None:
        if self.nc is None:
            return
        try:
            await self.nc.publish(subject, wire.encode(struct))
        except (nats.errors.Error, OSError) as exc:
            self._error(f"{type(exc).__name__}: {exc}")

    async def _read_store(self, keys: list[str]) -> None:
        """The last-value store's state of each new scrip (direct gets, a few at a time)."""
        assert self.nc is not None
        jsm = self.nc.jsm()
        gate = asyncio.Semaphore(32)

        async def one(subject: str) -> None:
            async with gate:
                try:
                    raw = await jsm.get_last_msg(sj.STREAM, subject, direct=True)
                except nats.js.errors.NotFoundError:
                    return
                except Exception as exc:  # noqa: BLE001 - no store: snapshots come on request
                    self._error(f"last-value store: {type(exc).__name__}")
                    return
                if raw.data:
                    self._deliver(subject, raw.data)

        subjects = []
        for key in keys:
            subjects.append(sj.key_subject(sj.L1_STATES, key))
            if self._keys.get(key):
                subjects.append(sj.key_subject(sj.L2_STATES, key))
        await asyncio.gather(*(one(s) for s in subjects))

    # -- the hot path -----------------------------------------------------------------------
    async def _on_msg(self, msg: Msg) -> None:
        self._deliver(msg.subject, msg.data)

    def _deliver(self, subject: str, data: bytes) -> None:
        route = self._route.get(subject)
        if route is None:
            return  # unsubscribed meanwhile
        family, splice = route
        h = self._health
        h.messages += 1
        h.bytes += len(data)
        try:
            b = wire.batch_decoder.decode(data)
        except msgspec.DecodeError:
            self.errors.add(NOT_JSON if data[:1] != b"{" else BAD_MESSAGE, data[:120])
            return
        allowed = _ALLOWED[family]
        exch, token = splice.parts
        for m in b.m:  # every message of this scrip and of this subject's family
            if m.get("t") not in allowed or m.get("tk") != token or m.get("e") != exch:
                self.errors.add(BAD_MESSAGE, f"{subject}: {str(m)[:100]}")
                return
        if not b.m:
            self.errors.add(BAD_MESSAGE, f"{subject}: an empty batch")
            return
        if family == L1_DELTA or family == L2_DELTA:
            self._epochs.setdefault(b.e, len(self._epochs))
            self.stats["batches"] += 1
            gaps = splice.gaps
            if splice.batch(b.e, b.q, b.m):
                if splice.gaps != gaps:
                    self.stats["gaps"] += 1
                else:
                    self.stats["stale"] += 1
                self._changed.set()  # ask a state now
        else:
            self.stats["states"] += 1
            if len(b.m) != 1:
                self.errors.add(BAD_MESSAGE, f"{subject}: a state of {len(b.m)} messages")
                return
            splice.state(b.e, b.q, b.m[0])

    async def _on_hello(self, msg: Msg) -> None:
        try:
            epoch = wire.hello_decoder.decode(msg.data).e
            self._epochs.setdefault(epoch, len(self._epochs))
        except msgspec.DecodeError:
            self.errors.add(BAD_MESSAGE, f"{sj.HELLO}: {msg.data[:100]!r}")
            return
        self._verify_all()  # a publisher (re)started: tell it what we want, now

    async def _on_status(self, msg: Msg) -> None:
        try:
            status = wire.status_decoder.decode(msg.data)
        except msgspec.DecodeError:
            self.errors.add(BAD_MESSAGE, f"{sj.STATUS}: {msg.data[:100]!r}")
            return
        self._upstreams[status.e] = (status.up[:40], self.clock())

    def upstream(self) -> str:
        """The publishers' upstream as one word: ``live`` when every publisher heard from
        in the last ``3 x`` its heartbeat says so, else the first other word (e.g.
        ``reconnecting``); ``silent`` when publishers were heard before but none lately
        (a relay gone), ``""`` when none ever was."""
        if not self._upstreams:
            return ""
        now = self.clock()
        recent = [up for up, at in self._upstreams.values() if now - at <= STATUS_FRESH]
        if not recent:
            return "silent"
        return next((up for up in recent if up != "live"), "live")

    # -- small things -----------------------------------------------------------------------
    @property
    def publishers(self) -> set[str]:
        """The publisher runs (epochs) heard from."""
        return set(self._epochs)

    def _newer(self, epoch: str, than: str) -> bool:
        """Run ``epoch`` was first heard after run ``than`` (an unheard one is not newer)."""
        return self._epochs.get(epoch, -1) > self._epochs.get(than, -1)

    def _event(self, kind: str, text: str) -> None:
        log.info("bus: %s", text)
        if self.on_event is not None:
            with contextlib.suppress(Exception):
                self.on_event(kind, text)

    def _error(self, text: str) -> None:
        self._health.last_error = self._scrub(text)
        self._health.last_error_at = self.wall()

    def _scrub(self, text: str) -> str:
        for secret in self.config.secrets():
            text = text.replace(secret, "<redacted>")
        return text[:300]
