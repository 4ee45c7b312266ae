"""The simulator as a real WebSocket server on loopback (docs/PROTOCOL.md, binding).

One shared market clock steps :class:`~tui.sim.market.SimMarket` ``rate`` times a second
and fans each step out to the connections subscribed to its scrip: the ``df``/``tf``/L2
messages are encoded and framed once, then every subscriber queues the same bytes and
each connection's queue is written in one call per clock turn (see ``tui.sim.frames``).
The market is deterministic by seed; which part of it a connection sees depends on
when it subscribed.  The clock rests while nobody subscribes anything.

Auth, access levels, the per-token session limit and the client requests live in
``tui.sim.requests``; this module owns the lifecycle, the clock and the faults.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import time
from collections.abc import Callable, Iterable
from http import HTTPStatus
from types import TracebackType
from typing import Any, Final, Self
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.http11 import Request, Response

from tui.sim.config import LEVEL_OF_PATH, PATHS, Faults, SimConfig
from tui.sim.frames import Garbage, json_frame, text_frame
from tui.sim.instruments import Instrument
from tui.sim.market import SimMarket
from tui.sim.requests import Requests
from tui.sim.session import MAX_QUEUED, Session
from tui.wire import dialects

__all__ = ["Faults", "SimConfig", "SimServer"]

log = logging.getLogger("tui.sim")
# websockets logs request headers (the bearer token) at DEBUG: its logger stays at INFO.
_ws_log = logging.getLogger("tui.sim.ws")
_ws_log.setLevel(logging.INFO)

#: Largest burst of steps one clock turn may catch up (seconds of ``rate``).
_MAX_BURST: Final = 0.25


class SimServer:
    """``async with SimServer(cfg) as sim:`` serves until the block ends."""

    def __init__(self, config: SimConfig | None = None, *, wall: Callable[[], float] = time.time) -> None:
        self.config = config if config is not None else SimConfig()
        self._wall = wall
        self.market = SimMarket(self.config.seed, self.config.instruments, start=wall())
        self._rate = float(self.config.rate)
        self._server: Server | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._wake = asyncio.Event()
        self.sessions: set[Session] = set()
        self._serial = 0
        #: kind ("t" "d" "l") -> key -> sessions subscribed
        self.subs: dict[str, dict[str, set[Session]]] = {"t": {}, "d": {}, "l": {}}
        self._held: dict[str, int] = {}
        self._max_held: dict[str, int] = {}
        #: the dialect's server half: requests parsed from it, messages written in it
        self.dialect = dialects.get(self.config.dialect).server()
        #: a market message framed in the dialect (None: not sent in it)
        self.frame_market: Callable[[dict[str, Any]], bytes | None] = (
            json_frame if self.config.dialect == dialects.DEFAULT else self._dialect_frame
        )
        self.requests = Requests(self)
        self.port = 0

    # -- lifecycle ------------------------------------------------------------------------
    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def start(self) -> None:
        cfg = self.config
        self._server = await serve(
            self._handler, cfg.host, cfg.port, process_request=self._process_request,
            compression=None, ping_interval=self.dialect.ping_interval, ping_timeout=10,
            close_timeout=2, max_size=2**20,
            logger=_ws_log,
        )
        self.port = self._server.sockets[0].getsockname()[1]
        self._tasks.append(asyncio.create_task(self._clock(), name="sim-clock"))
        faults = cfg.faults
        if faults.drop_every:
            self._tasks.append(asyncio.create_task(self._every(faults.drop_every, self.drop_all)))
        if faults.stall_every:
            self._tasks.append(asyncio.create_task(
                self._every(faults.stall_every, lambda: self.stall(faults.stall_seconds))))
        if faults.kick_every:
            self._tasks.append(asyncio.create_task(self._every(faults.kick_every, self.kick_all)))

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        for s in list(self.sessions):
            s.resume_reading()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def serve_forever(self) -> None:
        """Serve until cancelled."""
        await asyncio.Future()

    # -- the documented API ---------------------------------------------------------------
    @property
    def url(self) -> str:
        host = self.config.host
        if ":" in host:
            host = f"[{host}]"
        return f"ws://{host}:{self.port}"

    def endpoint(self, level: str = "L1") -> str:
        """The URL of an access level's endpoint: ``"L0"``, ``"L1"`` or ``"L2"``."""
        return self.url + PATHS[level]

    @property
    def instruments(self) -> list[Instrument]:
        return self.market.instruments

    @property
    def rate(self) -> float:
        return self._rate

    def connections(self, token: str) -> int:
        """Authenticated connections of ``token`` now."""
        return self._held.get(token, 0)

    def max_connections(self, token: str) -> int:
        """The most authenticated connections ``token`` ever held at once."""
        return self._max_held.get(token, 0)

    def kick(self, token: str) -> int:
        """Close every connection of ``token`` as a session taken over (4029); how many."""
        victims = [s for s in self.sessions if s.authed and s.token == token]
        for s in victims:
            self.requests.refuse_session(s)
        return len(victims)

    def kick_all(self) -> int:
        return sum(self.kick(token) for token in {s.token for s in self.sessions if s.authed and s.token})

    def drop_all(self) -> int:
        """Abort every connection's TCP stream without a close frame; how many."""
        victims = list(self.sessions)
        for s in victims:
            s.transport.abort()
        return len(victims)

    def stall(self, seconds: float, *, pongs: bool | None = None) -> int:
        """Hold back every frame of every connection for ``seconds``; how many stalled.

        Unless ``pongs`` (default: ``Faults.stall_pongs``), a stalled connection reads
        nothing either, so pings and ``h`` go unanswered until it ends.
        """
        if pongs is None:
            pongs = self.config.faults.stall_pongs
        loop = asyncio.get_running_loop()
        victims = [s for s in self.sessions if s.open and not s.stalled]
        for s in victims:
            s.stalled = True
            s.drop_data()
            if not pongs:
                s.pause_reading()
            loop.call_later(seconds, self._end_stall, s)
        return len(victims)

    def set_rate(self, n: float) -> None:
        """Market events per second from now on."""
        self._rate = max(float(n), 0.0)
        self._wake.set()

    # -- sessions (used by tui.sim.requests) ----------------------------------------------
    def token_ok(self, token: str) -> bool:
        """Constant-time check against every configured token."""
        ok = False
        for good in self.config.tokens:
            ok |= hmac.compare_digest(token.encode(), good.encode())
        return ok and bool(token)

    def uid_of(self, token: str) -> str:
        """A stable, non-secret user id for a token (``SIM1``, ``SIM2``...)."""
        for i, good in enumerate(self.config.tokens):
            if hmac.compare_digest(token.encode(), good.encode()):
                return f"SIM{i + 1}"
        return "SIM"

    def hold(self, s: Session, token: str) -> bool:
        """Count ``s`` against ``token``'s session limit; False if the limit is reached."""
        held = self._held.get(token, 0)
        if held >= self.config.max_sessions:
            return False
        self._held[token] = held + 1
        self._max_held[token] = max(self._max_held.get(token, 0), held + 1)
        s.token = token
        s.authed = True
        return True

    def release(self, s: Session) -> None:
        """Stop counting ``s`` (closed, kicked) and forget its subscriptions."""
        if s.authed and s.token is not None:
            self._held[s.token] = max(self._held.get(s.token, 0) - 1, 0)
        s.authed = False
        for kind, keys in s.subs.items():
            registry = self.subs[kind]
            for key in keys:
                subscribers = registry.get(key)
                if subscribers is not None:
                    subscribers.discard(s)
                    if not subscribers:
                        del registry[key]
            keys.clear()

    def flush(self, s: Session) -> None:
        """Write what ``s`` has queued, unless it is stalled or its socket is full (then
        the clock keeps turning and tries again)."""
        if not s.parts and not s.resync:
            return
        if s.stalled:
            self._wake.set()
            return
        if not s.open:
            s.parts.clear()
            s.control.clear()
            return
        if not s.writable():
            if len(s.parts) > MAX_QUEUED:
                s.drop_data()
            self._wake.set()
            return
        if s.resync:
            s.resync = False
            self.requests.snapshots(s)
        s.write()

    def wake(self) -> None:
        """A subscription arrived: the clock runs again."""
        self._wake.set()

    # -- websockets callbacks -------------------------------------------------------------
    def _process_request(self, connection: ServerConnection, request: Request) -> Response | None:
        """404 for an unknown path, 401 for a bad header/query token (unless the dialect
        refuses it in a frame); else go on."""
        level, token = self.route(request)
        if level is None:
            return connection.respond(HTTPStatus.NOT_FOUND, "Not found\n")
        refused = token is not None and not self.token_ok(token)
        if refused and not self.dialect.refuse_in_band:
            return connection.respond(HTTPStatus.UNAUTHORIZED, "Invalid session key\n")
        return None

    def route(self, request: Request) -> tuple[str | None, str | None]:
        """The access level of the request's path (None: unknown) and the token the
        upgrade carries (None: none, it comes in the first frame), as the dialect says:
        ``Authorization: Bearer`` or ``token``/``access_token`` query (psx, noren), ``jKey``
        query (firstock-v2)."""
        parts = urlsplit(request.path)
        query = parse_qs(parts.query, keep_blank_values=True)
        header = request.headers.get("Authorization")
        return self.dialect.route(parts.path, query, header, LEVEL_OF_PATH)

    def _dialect_frame(self, msg: dict[str, Any]) -> bytes | None:
        payload = self.dialect.market(msg)
        return None if payload is None else text_frame(payload)

    async def _handler(self, ws: ServerConnection) -> None:
        level, token = self.route(ws.request) if ws.request is not None else (None, None)
        self._serial += 1
        ratio = self.config.faults.garbage_ratio
        garbage = Garbage(f"{self.config.seed}:{self._serial}", ratio) if ratio > 0 else None
        s = Session(ws, level or "L1", self._serial, garbage)
        self.sessions.add(s)
        try:
            if token is not None and not self.token_ok(token):  # refused in a frame
                self.requests.refuse_token(s)
            elif token is not None:
                self.requests.login(s, token, self.uid_of(token))
            async for raw in ws:
                self.requests.handle(s, raw)
                if s.closing:
                    break
            if s.closing:
                await ws.wait_closed()
        except Exception:
            if s.open:
                log.exception("sim: connection #%d failed", s.serial)
        finally:
            self.release(s)
            self.sessions.discard(s)
            s.resume_reading()

    # -- the market clock -----------------------------------------------------------------
    async def _clock(self) -> None:
        loop = asyncio.get_running_loop()
        subs = self.subs
        tick = self.config.tick
        last = loop.time()
        credit = 0.0
        while True:
            active = bool(subs["d"] or subs["t"] or subs["l"]) and self._rate > 0
            now = loop.time()
            if active:
                credit = min(credit + (now - last) * self._rate, self._rate * _MAX_BURST + 1)
                n = int(credit)
                if n:
                    credit -= n
                    self._produce(n, self._wall())
            last = now
            waiting = False
            for s in list(self.sessions):
                self.flush(s)
                waiting = waiting or bool(s.parts) or s.resync
            if active or waiting:
                await asyncio.sleep(tick)
            else:  # nothing to step, nothing to write: rest until a subscription
                self._wake.clear()
                await self._wake.wait()
                last = loop.time()
                credit = 0.0

    def _produce(self, n: int, now: float) -> None:
        """``n`` market steps, each framed once and queued on its subscribers."""
        step = self.market.step
        sub_d, sub_t, sub_l = self.subs["d"], self.subs["t"], self.subs["l"]
        frame = self.frame_market

        def fan_out(subs: dict[str, set[Session]], key: str, msgs: Iterable[dict[str, str]]) -> None:
            subscribers = subs.get(key)
            if subscribers:
                for msg in msgs:
                    fr = frame(msg)  # framed once, shared by every subscriber
                    if fr is None:
                        continue
                    for s in subscribers:
                        s.push(fr, key)

        for _ in range(n):
            st = step(now)
            key = st.key
            if st.l2:
                fan_out(sub_l, key, st.l2)
            if st.df is not None:
                fan_out(sub_d, key, (st.df,))
                if st.tf is not None:
                    fan_out(sub_t, key, (st.tf,))

    # -- faults ---------------------------------------------------------------------------
    async def _every(self, period: float, action: Callable[[], object]) -> None:
        while True:
            await asyncio.sleep(period)
            try:
                action()
            except Exception:
                log.exception("sim: fault injection failed")

    def _end_stall(self, s: Session) -> None:
        if s.stalled:
            s.stalled = False
            s.resume_reading()
            s.resync = True
            self.flush(s)


