"""The WebSocket feed client: connect, authenticate, heartbeat, watchdog, backoff, replay.

One :class:`FeedClient` keeps one connection to one endpoint for one token and feeds every
market message straight into its sink's ``apply`` (a :class:`~tui.feed.sink.MarketSink`,
normally ``Market``; the hot path: decode, count, apply -- no clock calls, nothing
allocated of our own).  Everything periodic (rates, lag, the
data-stall watchdog, the acknowledgement timeout, L2 resync) runs on a tick.

What the end of a session means (a verdict, or a retry and when): :mod:`tui.feed.reactions`.
Both backoffs reset only after a session stayed up ``stable_after`` seconds past its
``ck OK``: a server that accepts and drops at once never causes a reconnect storm.
The read loop (a socket read's frames decoded and merged at once): :mod:`tui.feed.reading`.

Secrets: the token never reaches logs, :class:`Health`, events or error samples.  The
client adds its secrets to ``market.errors``' redaction itself, so the caller may pass a
``Market`` built with a plain ``DecodeErrors``.

Only one client per token runs in a process: :meth:`run` raises
:class:`~tui.feed.sessions.SessionInUse` otherwise (construction never does).
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable, Iterable
from typing import Any, Final

from msgspec import Struct
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from tui.feed import connection as conn_
from tui.feed import health as hs
from tui.feed import sessions
from tui.feed.backoff import Backoff
from tui.feed.config import FeedConfig, redact
from tui.feed.connection import Connection, Counters, Outcome, SessionEnded
from tui.feed.health import Health, RateMeter
from tui.feed.reactions import (
    CONNECTED,
    EVENTS,
    RECONNECTED,
    REFUSED,
    react,
)
from tui.feed.reading import BatchConnection, feed_many_of, read_batches, read_each
from tui.feed.redacting import RedactingAdapter, describe, describe_traceback, protect
from tui.feed.sessions import SessionInUse
from tui.feed.sink import MarketSink
from tui.feed.subscriptions import Subscriptions
from tui.feed.tap import FrameTap, tapped
from tui.wire import dialects
from tui.wire import frames as fr
from tui.wire import protocol as p

__all__ = ["EVENTS", "FeedClient", "SessionInUse"]

log = logging.getLogger("marketdesk.feed")

_RESYNC_EVERY: Final = 5.0  # seconds before the same scrip's ``l`` is requested again
_REFUSED_EVERY: Final = 1.0  # at most one "refused" event (and warning) a second


class FeedClient:
    """See the module docstring.  ``clock`` is monotonic (timeouts, ``next_retry_at``),
    ``wall`` is epoch seconds (``connected_since``, lag); ``rng`` seeds the jitter."""

    #: websockets' connection class (None: its own, read with ``recv()``); the default
    #: hands over the frames of each socket read at once; a subclass may read its way
    connection_class: type[ClientConnection] | None = BatchConnection

    def __init__(
        self,
        config: FeedConfig,
        market: MarketSink,
        *,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
        rng: random.Random | None = None,
    ) -> None:
        self.config = config
        self.market = market
        self.on_event: Callable[[str, str], None] | None = None
        #: a recorder (tui.record): every frame, request and connection event; None: off
        self.tap: FrameTap | None = None
        self._clock, self._wall = clock, wall
        self._secrets = config.secrets()
        protect(market.errors, self._secrets)
        market.expect(())  # keep only what is subscribed: anything else is "unsolicited"
        self._reader = fr.FrameReader(market.errors, sink=market.apply)  # validates control
        self.dialect = dialects.get(config.dialect)
        #: the dialect's translation: frames in, requests out (tui/wire/dialects/)
        self.codec = self.dialect.client(market.errors, market.apply)
        self._key = sessions.fingerprint(config.effective_token, config.url)
        rng = rng if rng is not None else random.Random()
        lo, hi, limit = config.backoff_min, config.backoff_max, config.session_limit_retry
        self._backoff = Backoff(lo, hi, jitter=config.jitter, rng=rng, floor=lo / 5)
        self._limit_backoff = Backoff(
            limit, max(limit, config.session_limit_max), jitter="equal", rng=rng, floor=limit
        )
        self._subs = Subscriptions()
        self._stats = Counters()
        self._conn: Connection | None = None
        self._opening: asyncio.Task[ClientConnection] | None = None
        self._stop = asyncio.Event()
        self._done = asyncio.Event()
        self._stopped = False
        self._running = False
        self._last_ft: float | None = None
        self._resync_sent: dict[str, float] = {}
        self._refused_at = -_REFUSED_EVERY
        self._msg_meter, self._byte_meter = RateMeter(), RateMeter()
        self._health = Health(
            endpoint=config.endpoint,
            level=config.level,
            auth=self.dialect.auth_label(config.credentials),
            dialect=self.dialect.name,
        )
        self._ws_log = RedactingAdapter(logging.getLogger("marketdesk.feed.ws"), self._secrets)

    def __repr__(self) -> str:
        return f"FeedClient({self.config!r}, state={self._health.state!r})"

    # -- public ---------------------------------------------------------------------
    @property
    def errors(self) -> fr.DecodeErrors:
        return self.market.errors

    @property
    def subscriptions(self) -> Subscriptions:
        """What is wanted (read it; change it with subscribe/unsubscribe)."""
        return self._subs

    @property
    def health(self) -> Health:
        """The figures, refreshed on read (rates on the tick)."""
        h, stats = self._health, self._stats
        h.messages, h.bytes = stats.frames, stats.bytes
        self._last_ft = self.market.newest_feed_time(self._last_ft)
        h.lag = None if self._last_ft is None else self._wall() - self._last_ft
        h.errors = self.market.errors.as_dict()
        h.subscriptions = len(self._subs)
        h.connections_used = sessions.open_connections(self._key)
        h.order_updates = self.codec.order_updates.total
        h.notes = dict(self.codec.notes)
        return h

    @property
    def order_updates(self) -> list[dict[str, Any]]:
        """Order updates that came on the feed socket (Noren ``om``/``ok``, Firstock order
        frames), the newest last: the account's, never the market's (the CLI's JSON)."""
        return self.codec.order_updates.as_list()

    def subscribe(self, keys: Iterable[str], *, depth: bool = True, orders: bool = False) -> None:
        """Want ``keys`` (``EXCH|TOKEN``): depth (``d``) or touchline (``t``), plus order
        level (``l``) if ``orders``.  Sent now if live, else on the next ``ck OK``."""
        keys = list(keys)
        self._send(self._subs.add(keys, depth=depth, orders=orders))
        self.market.expect(key.strip() for key in keys)

    def unsubscribe(self, keys: Iterable[str]) -> None:
        """Stop wanting ``keys`` (every stream): send ``ud``/``u``/``ul``, drop their state."""
        requests, removed = self._subs.remove(keys)
        self._send(requests)
        for key in removed:
            self.market.forget(key)
            self._resync_sent.pop(key, None)

    async def run(self) -> None:
        """Connect and reconnect until :meth:`stop` (or ``auth-failed``/``failed``: then
        return).

        Never raises on network or protocol faults.  Raises :class:`SessionInUse` at once if
        another client of this process runs for the same token.  A stopped client returns
        immediately; after a failure ``run()`` may be called again (a fresh start).
        """
        if self._stopped:
            return
        sessions.claim(self._key, self)
        if self._health.state in hs.VERDICTS:  # tried again: from the start
            self._health.failure = ""
            self._backoff.reset()
            self._limit_backoff.reset()
        self._running = True
        self._done.clear()
        ticker = asyncio.create_task(self._ticker(), name="marketdesk-feed-tick")
        try:
            await self._loop()
        finally:
            ticker.cancel()
            sessions.release(self._key, self)
            self._running = False
            self._health.next_retry_at = None
            self._set_state(hs.STOPPED)
            self._done.set()

    async def stop(self) -> None:
        """Close the connection and end :meth:`run` (waits for it).  Final: a stopped
        client never runs again (make a new one).  State ``stopped`` (``auth-failed`` and
        ``failed`` stay)."""
        self._stopped = True
        self._stop.set()
        if self._opening is not None:
            self._opening.cancel()
        if self._conn is not None:
            self._conn.close_soon()
        if self._running:
            await self._done.wait()
        self._set_state(hs.STOPPED)

    # -- the connection loop ----------------------------------------------------------
    async def _loop(self) -> None:
        cfg, h = self.config, self._health
        first = True
        while not self._stop.is_set():
            if not first:
                h.reconnects += 1
            first = False
            out = await self._session()
            if out.live_for is not None and out.live_for >= cfg.stable_after:
                self._backoff.reset()
                self._limit_backoff.reset()
            if out.kind == conn_.STOPPED or self._stop.is_set():
                return
            h.last_error, h.last_error_at = out.reason, self._wall()
            then = react(out, self._backoff, self._limit_backoff)
            if then.delay is None:  # a verdict: the state keeps the reason, no retry
                h.failure = then.failure
                self._set_state(then.state, out.reason)
                self._event(then.event, then.text)
                return
            delay, text = then.delay, then.text
            h.next_retry_at = self._clock() + delay
            self._set_state(then.state, text)
            self._event(then.event, text)
            try:
                await asyncio.wait_for(self._stop.wait(), delay)
                return
            except TimeoutError:
                h.next_retry_at = None

    async def _session(self) -> Outcome:
        """One connection from dial to close; never leaves a socket open behind it."""
        unusable = conn_.token_problem(self.config)
        if unusable is not None:
            return unusable
        self._set_state(hs.CONNECTING)
        try:
            self._opening = asyncio.create_task(
                conn_.dial(self.config, self._ws_log, self.connection_class)
            )
            ws = await self._opening
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if self._stop.is_set() and (task is None or not task.cancelling()):
                return Outcome(conn_.STOPPED, "stopped")
            raise
        except Exception as exc:  # noqa: BLE001 - refused, DNS, TLS, timeout, HTTP status
            return conn_.dial_outcome(exc, self._secrets)
        finally:
            self._opening = None
        if self._stop.is_set():  # stop() came as the upgrade completed
            await ws.close()
            return Outcome(conn_.STOPPED, "stopped")
        conn = self._conn = Connection(ws, self._clock(), self._stats.frames)
        self.codec.reset()
        if self.tap is not None:
            self.tap.opened(self.config.endpoint, self.config.level)
        if sessions.opened(self._key) > 1:  # cannot happen: the claim and this loop prevent it
            log.error("feed: more than one connection open for one token")
        helpers: list[asyncio.Task[None]] = []
        try:
            self._set_state(hs.AUTHENTICATING)
            helpers = [asyncio.create_task(self._writer(conn))]
            if self.dialect.heartbeat is not None:
                helpers.append(asyncio.create_task(self._heartbeats(conn, self.dialect.heartbeat)))
            if self.dialect.live_on_upgrade(self.config.credentials):
                self._acknowledged(p.ConnectAck(s="OK"))  # a later ``ck`` is honoured too
            kind, reason = await self._read(conn)
        finally:
            for task in helpers:
                task.cancel()
            try:
                await conn.close_fully()
            finally:
                self._conn = None
                sessions.closed(self._key)
                self._health.connected_since = None
        live_for = None if conn.acked_at is None else self._clock() - conn.acked_at
        if self._stop.is_set():
            kind = conn_.STOPPED
        if self.tap is not None:
            self.tap.closed(conn.ws.close_code, reason)
        return Outcome(kind, reason, live_for, conn.stall)

    async def _read(self, conn: Connection) -> tuple[str, str]:
        """Authenticate if needed, then pump frames until the session ends: (kind, reason)."""
        try:
            hello = self.dialect.hello(self.config.credentials)
            if hello is not None:
                await conn.ws.send(hello, text=True)
                if self.tap is not None:  # every secret removed: never in a recording
                    self.tap.sent(self._scrub(hello.decode()))
            await self._pump(conn.ws)
        except ConnectionClosed as exc:
            kind, reason = conn.classify(exc, self._secrets)
            rcvd = exc.rcvd
            if (
                kind == conn_.FAULT
                and not conn.fault
                and rcvd is not None
                and rcvd.code in self.dialect.auth_close_codes
            ):  # e.g. Noren's 1008
                kind = conn_.AUTH
            return kind, reason
        except SessionEnded as end:
            return end.kind, end.reason
        except Exception as exc:  # noqa: BLE001 - a bug of ours: log it, reconnect
            log.warning("feed: session failed: %s", self._scrub(describe_traceback(exc)))
            return conn_.FAULT, describe(exc, self._secrets)
        return conn_.FAULT, "reader ended"  # pragma: no cover - _pump only ends by raising

    def _frame_feed(self) -> Callable[[bytes], dict[str, Any] | None]:
        """A per-frame handler, chosen once a connection: the dialect's ``feed``, or,
        while recording, the same behind the tap (tui/feed/tap.py)."""
        feed = self.codec.feed  # the dialect's reader (psx: the FrameReader)
        return feed if self.tap is None else tapped(feed, self.tap.received)

    async def _pump(self, ws: ClientConnection) -> None:
        """The hot path (tui/feed/reading.py): the frames of each socket read decoded and
        merged in one call (``FrameReader.feed_many`` -> ``Market.apply.frames``);
        only control messages come back here.  On a connection class of another kind,
        websockets' ``recv()`` frame by frame."""
        errors = self.market.errors
        if isinstance(ws, BatchConnection):
            many = feed_many_of(self.codec, self.tap, errors)
            await read_batches(ws, many, self._control, self._stats, errors)
        else:
            await read_each(ws, self._frame_feed(), self._control, self._stats, errors)

    # -- control messages -------------------------------------------------------------
    def _control(self, msg: dict[str, Any]) -> None:
        normal = self.codec.control(msg)  # the dialect's variants in the seed's shape
        if normal is None:  # consumed (order updates)
            return
        ctl = self._reader.control(normal)
        if isinstance(ctl, p.ConnectAck):
            self._acknowledged(ctl)
        elif isinstance(ctl, p.Error):
            h = self._health
            h.refused += 1
            where = f" ({ctl.k})" if isinstance(ctl.k, str) else ""
            h.last_refusal = self._scrub(f"{ctl.emsg}{where}")
            now = self._clock()
            if now - self._refused_at < _REFUSED_EVERY:  # a burst (e.g. 500 scrips at L0)
                log.debug("feed: request refused: %s", h.last_refusal)
                return
            self._refused_at = now
            log.warning("feed: request refused: %s", h.last_refusal)
            self._event(REFUSED, h.last_refusal)
        elif isinstance(ctl, p.Status):  # from a relay: its upstream's state, or our lag
            if ctl.s == "upstream" and isinstance(ctl.up, str):
                self._health.upstream = ctl.up[:32]
            elif ctl.s in ("behind", "caught-up"):
                log.info("feed: the relay says this client is %s", ctl.s)
        elif isinstance(ctl, p.TouchlineUnsubscribed | p.DepthUnsubscribed | p.OrdersUnsubscribed):
            # in-flight messages may have re-created the scrip after unsubscribe(): drop again
            keys = p.split_keys(ctl.k) if isinstance(ctl.k, str) else []
            for key in keys:
                if not self._subs.wants(key):
                    self.market.forget(key)

    def _acknowledged(self, ack: p.ConnectAck) -> None:
        conn = self._conn
        if conn is None:
            return
        if ack.s != "OK":
            emsg = ack.emsg if isinstance(ack.emsg, str) else ""
            lowered = emsg.lower()
            kind = conn_.LIMIT if "session" in lowered and "limit" in lowered else conn_.AUTH
            raise SessionEnded(kind, self._scrub(emsg) or "connection refused")
        if conn.acked_at is not None:
            return
        h = self._health
        conn.acked_at = self._clock()
        if self.tap is not None:
            self.tap.acknowledged()
        h.connected_since = self._wall()
        h.sessions += 1
        h.upstream = ""  # a relay says again (``st``) right after its ck
        self.market.resync.clear()  # the replayed ``l`` brings a fresh ``lk`` for every book
        self._resync_sent.clear()
        for frame in self.codec.encode(self._subs.replay()):
            conn.outbox.put_nowait(frame)
        self._set_state(hs.LIVE, f"{len(self._subs)} subscriptions replayed")
        kind = CONNECTED if h.sessions == 1 else RECONNECTED
        self._event(kind, f"Feed live ({h.level or 'feed'}, {len(self._subs)} scrips)")

    def _send(self, requests: list[Struct]) -> None:
        conn = self._conn
        if conn is None or conn.acked_at is None or conn.closer is not None:
            return  # remembered: replayed after the next ck OK
        for frame in self.codec.encode(requests):
            conn.outbox.put_nowait(frame)

    async def _writer(self, conn: Connection) -> None:
        """The only sender after authentication: keeps requests in order."""
        ws, outbox = conn.ws, conn.outbox
        try:
            while True:
                data = await outbox.get()
                await ws.send(data, text=True)
                if self.tap is not None:
                    self.tap.sent(self._scrub(data.decode()))
        except ConnectionClosed:
            pass  # the reader sees the close and ends the session

    async def _heartbeats(self, conn: Connection, frame: bytes) -> None:
        while True:
            await asyncio.sleep(self.config.heartbeat)
            conn.outbox.put_nowait(frame)

    # -- the tick: rates, watchdog, resync -----------------------------------------------
    async def _ticker(self) -> None:
        cfg = self.config
        period = min(cfg.tick, cfg.stall_timeout / 4, cfg.ack_timeout / 4)
        while True:
            await asyncio.sleep(period)
            try:
                self._tick()
            except Exception as exc:  # noqa: BLE001 - a bug of ours must not stop the watchdog
                log.error("feed: tick failed: %s", self._scrub(describe_traceback(exc)))

    def _tick(self) -> None:
        cfg, h, stats = self.config, self._health, self._stats
        now = self._clock()
        h.msg_rate = self._msg_meter.sample(now, stats.frames)
        h.byte_rate = self._byte_meter.sample(now, stats.bytes)
        self._last_ft = self.market.newest_feed_time(self._last_ft)
        conn = self._conn
        if conn is None or conn.closer is not None:
            return
        if conn.watch(now, stats.frames, cfg.stall_timeout, cfg.ack_timeout):
            h.stalls += conn.stall
            log.warning("feed: closing the connection: %s", conn.fault)
        elif conn.acked_at is not None and self.market.resync:
            self._resync(now)

    def _resync(self, now: float) -> None:
        """L2 sequence gaps: ``ul`` + ``l`` for a fresh ``lk`` (at most every few seconds)."""
        sent = self._resync_sent
        keys = [k for k in self.market.resync if now - sent.get(k, -_RESYNC_EVERY) >= _RESYNC_EVERY]
        self.market.resync.clear()
        requests = self._subs.resubscribe_orders(keys)
        if requests:
            log.info("feed: L2 resync of %d scrip(s)", len(keys))
            sent.update(dict.fromkeys(keys, now))
            self._send(requests)

    # -- bookkeeping -------------------------------------------------------------------
    def _scrub(self, text: str) -> str:
        return redact(text, self._secrets)

    def _set_state(self, state: str, detail: str = "") -> None:
        """Log a change.  ``auth-failed`` and ``failed`` are verdicts, not activities:
        stopping keeps them (a CLI reads them after stop() for its exit code); other states
        become ``stopped`` with ``stopped_in`` saying what the client was doing."""
        h = self._health
        if h.state == state or (state == hs.STOPPED and h.state in hs.VERDICTS):
            return
        if state == hs.STOPPED:
            h.stopped_in = h.state
        h.state = state
        level = logging.ERROR if state in hs.VERDICTS else logging.INFO
        log.log(level, "feed %s: %s%s", state, h.endpoint, f" ({detail})" if detail else "")

    def _event(self, kind: str, text: str) -> None:
        callback = self.on_event
        if callback is None:
            return
        try:
            callback(kind, text)
        except Exception as exc:  # noqa: BLE001 - a toast must not take the feed down
            log.error("feed: on_event failed: %s", describe(exc, self._secrets))
