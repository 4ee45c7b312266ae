"""The protocol server: one WebSocket server for the simulator, the relay and replays.

It owns everything docs/PROTOCOL.md says about connections: the three endpoints and
their access levels, auth in three modes (``Authorization: Bearer`` header, ``token``
query parameter, ``c`` connect message), the per-token session limit (counting only
sockets still open), the subscription registry, the fan-out of frames encoded once,
and the slow-reader resync.  What data exists is the :class:`~tui.server.backend.Backend`'s:
simulator = server + ``SimMarket``; relay = server + upstream client + cache.

Writes: every subscriber of a message queues the same framed bytes
(``tui.server.frames``) and each connection's queue is written in one call per clock turn.
The clock turns every ``tick`` while anything is queued (or the backend asks to turn),
and rests otherwise until something is queued or subscribed.

Client requests are handled in ``tui.server.requests``; one connection's queue is
``tui.server.session``.  Plain HTTP requests to other paths go to the ``http`` hook
(the relay's ``/health``); without one they get 404.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from types import TracebackType
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.http11 import Request, Response

from tui.server.backend import KINDS, Backend
from tui.server.config import LEVEL_OF_PATH, PATHS, ServerConfig
from tui.server.frames import Garbage, json_frame, text_frame
from tui.server.requests import Requests
from tui.server.session import MAX_QUEUED, Session
from tui.wire import dialects

#: seconds a connection's closing handshake may take (websockets' close_timeout)
_CLOSE_TIMEOUT = 2.0
#: seconds close() waits for every connection to close before it aborts the rest
_CLOSE_WITHIN = _CLOSE_TIMEOUT + 1.0

__all__ = ["HttpHook", "ProtocolServer", "route"]

#: ``http(connection, request)``: a response for a plain HTTP request (or an awaitable
#: of one), or None (404)
HttpHook = Callable[[ServerConnection, Request], Awaitable[Response | None] | Response | None]


def _no_debug(record: logging.LogRecord) -> bool:
    return record.levelno >= logging.INFO


class ProtocolServer:
    """``async with ProtocolServer(config, backend) as server:`` serves until the block ends."""

    def __init__(
        self, config: ServerConfig, backend: Backend, *, http: HttpHook | None = None
    ) -> None:
        self.server_config = config
        self.backend = backend
        self.http = http
        self.log = logging.getLogger(config.log_name)
        # websockets logs request headers (bearer tokens) at DEBUG: never pass those on.
        self._ws_log = logging.getLogger(config.log_name + ".ws")
        self._ws_log.addFilter(_no_debug)
        self._server: Server | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._wake = asyncio.Event()
        self.sessions: set[Session] = set()
        self._serial = 0
        #: kind ("t" "d" "l") -> key -> sessions subscribed
        self.subs: dict[str, dict[str, set[Session]]] = {kind: {} for kind in KINDS}
        self._max_held: dict[str, int] = {}
        #: the dialect's server half: requests parsed from it, messages written in it
        self.dialect = dialects.get(config.dialect).server()
        #: a market message framed in the dialect (None: not sent in it); backends frame
        #: with it, once per message for every subscriber
        self.frame_market: Callable[[dict[str, Any]], bytes | None] = (
            json_frame if config.dialect == dialects.DEFAULT else self._dialect_frame
        )
        self.requests = Requests(self)
        self.port = 0

    # -- lifecycle ------------------------------------------------------------------------
    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def start(self) -> None:
        cfg = self.server_config
        self._server = await serve(
            self._handler,
            cfg.host,
            cfg.port,
            process_request=self._process_request,
            compression=None,
            ping_interval=self.dialect.ping_interval,
            ping_timeout=10,
            close_timeout=_CLOSE_TIMEOUT,
            max_size=cfg.max_size,
            logger=self._ws_log,
            ssl=cfg.ssl,
        )
        self.port = self._server.sockets[0].getsockname()[1]
        self._tasks.append(asyncio.create_task(self._clock(), name="server-clock"))
        faults = cfg.faults
        if faults.drop_every:
            self._tasks.append(asyncio.create_task(self._every(faults.drop_every, self.drop_all)))
        if faults.stall_every:
            self._tasks.append(
                asyncio.create_task(
                    self._every(faults.stall_every, lambda: self.stall(faults.stall_seconds))
                )
            )
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
            try:  # a client that reads nothing never takes the close frame: do not wait on it
                await asyncio.wait_for(asyncio.shield(self._server.wait_closed()), _CLOSE_WITHIN)
            except TimeoutError:
                for s in list(self.sessions):
                    s.transport.abort()
                await self._server.wait_closed()
            self._server = None

    async def serve_forever(self) -> None:
        """Serve until cancelled."""
        await asyncio.Future()

    # -- the documented API ---------------------------------------------------------------
    @property
    def url(self) -> str:
        host = self.server_config.host
        if ":" in host:
            host = f"[{host}]"
        scheme = "wss" if self.server_config.ssl is not None else "ws"
        return f"{scheme}://{host}:{self.port}"

    def endpoint(self, level: str = "L1") -> str:
        """The URL of an access level's endpoint: ``"L0"``, ``"L1"`` or ``"L2"``."""
        return self.url + PATHS[level]

    def connections(self, token: str) -> int:
        """Authenticated connections of ``token`` whose client is still there.  A stalled
        session reads nothing, so it cannot see its client leave: :meth:`Session.alive`
        asks the socket, and a session found gone is aborted (its handler ends)."""
        held = 0
        for s in [s for s in self.sessions if s.authed and s.token == token]:
            if s.alive():
                held += 1
            elif s.open:
                s.transport.abort()
        return held

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
        tokens = {s.token for s in self.sessions if s.authed and s.token}
        return sum(self.kick(token) for token in tokens)

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
            pongs = self.server_config.faults.stall_pongs
        loop = asyncio.get_running_loop()
        victims = [s for s in self.sessions if s.open and not s.stalled]
        for s in victims:
            s.stalled = True
            s.drop_data()
            if not pongs:
                s.pause_reading()
            loop.call_later(seconds, self._end_stall, s)
        return len(victims)

    def publish(self, kind: str, key: str, frame: bytes) -> int:
        """Queue a framed market-data message on every subscriber of ``kind`` of ``key``;
        how many.  Written on the next clock turn."""
        subscribers = self.subs[kind].get(key)
        if not subscribers:
            return 0
        for s in subscribers:
            s.push(frame, key)
        if not self._wake.is_set():
            self._wake.set()
        return len(subscribers)

    # -- sessions (used by tui.server.requests) -------------------------------------------
    def user_of(self, token: str) -> str | None:
        """The user id of a good token (constant-time against every one), None if bad."""
        found: str | None = None
        if not token:
            return None
        for uid, good in self.server_config.users:
            if hmac.compare_digest(token.encode(), good.encode()) and found is None:
                found = uid
        return found

    def token_ok(self, token: str) -> bool:
        return self.user_of(token) is not None

    def uid_of(self, token: str) -> str:
        """A stable, non-secret user id for a token."""
        return self.user_of(token) or "?"

    def hold(self, s: Session, token: str) -> bool:
        """Count ``s`` against ``token``'s session limit; False if the limit is reached.
        Only open sockets count: one being torn down (dropped, kicked) frees its place."""
        held = self.connections(token)
        if held >= self.server_config.max_sessions:
            return False
        self._max_held[token] = max(self._max_held.get(token, 0), held + 1)
        s.token = token
        s.authed = True
        return True

    def release(self, s: Session) -> None:
        """Stop counting ``s`` (closed, kicked) and forget its subscriptions."""
        s.authed = False
        for kind, keys in s.subs.items():
            for key in list(keys):
                self.drop_subscriber(s, kind, key)
            keys.clear()

    def add_subscriber(self, s: Session, kind: str, key: str) -> None:
        """Register ``s`` for ``kind`` of ``key`` (the backend hears of a first one)."""
        s.subs[kind].add(key)
        registry = self.subs[kind]
        subscribers = registry.get(key)
        if subscribers is None:
            registry[key] = {s}
            self.backend.watch(kind, key)
        else:
            subscribers.add(s)

    def drop_subscriber(self, s: Session, kind: str, key: str) -> None:
        """Unregister ``s`` (the backend hears when the last one leaves)."""
        s.subs[kind].discard(key)
        registry = self.subs[kind]
        subscribers = registry.get(key)
        if subscribers is not None:
            subscribers.discard(s)
            if not subscribers:
                del registry[key]
                self.backend.unwatch(kind, key)

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
        """Something was queued or subscribed: the clock turns again."""
        self._wake.set()

    # -- websockets callbacks -------------------------------------------------------------
    async def _process_request(
        self, connection: ServerConnection, request: Request
    ) -> Response | None:
        """404 for an unknown path (unless the HTTP hook serves it), 401 for a bad
        header/query token (unless the dialect refuses it in a frame); else go on with
        the upgrade."""
        level, token = self.route(request)
        if level is None:
            response = self.http(connection, request) if self.http is not None else None
            if isinstance(response, Awaitable):
                response = await response
            return response or connection.respond(HTTPStatus.NOT_FOUND, "Not found\n")
        refused = token is not None and not self.token_ok(token)
        if refused and not self.dialect.refuse_in_band:
            return connection.respond(HTTPStatus.UNAUTHORIZED, "Invalid session key\n")
        return None

    def route(self, request: Request) -> tuple[str | None, str | None]:
        """:func:`route` as the dialect says: the level of the path (firstock-v2 adds
        ``/V2/ws``) and the token of the upgrade (firstock-v2: the ``jKey`` parameter)."""
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
        cfg = self.server_config
        ratio = cfg.faults.garbage_ratio
        garbage = (
            Garbage(f"{cfg.seed}:{self._serial}", ratio, dialect=cfg.dialect) if ratio > 0 else None
        )
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
                self.log.exception("server: connection #%d failed", s.serial)
        finally:
            self.release(s)
            self.sessions.discard(s)
            s.resume_reading()

    # -- the clock ------------------------------------------------------------------------
    async def _clock(self) -> None:
        loop = asyncio.get_running_loop()
        subs, backend, flush = self.subs, self.backend, self.flush
        tick = self.server_config.tick
        while True:
            active = bool(subs["d"] or subs["t"] or subs["l"])
            turning = backend.turn(loop.time(), active)
            waiting = False
            for s in list(self.sessions):
                flush(s)
                waiting = waiting or bool(s.parts) or s.resync
            if turning or waiting:
                await asyncio.sleep(tick)
            else:  # nothing to step, nothing to write: rest until something is queued
                self._wake.clear()
                await self._wake.wait()

    # -- faults ---------------------------------------------------------------------------
    async def _every(self, period: float, action: Callable[[], object]) -> None:
        while True:
            await asyncio.sleep(period)
            try:
                action()
            except Exception:
                self.log.exception("server: fault injection failed")

    def _end_stall(self, s: Session) -> None:
        if s.stalled:
            s.stalled = False
            s.resume_reading()
            s.resync = True
            self.flush(s)


def route(request: Request) -> tuple[str | None, str | None]:
    """The access level of the request's path (None: unknown) and the token it carries
    in its ``Authorization: Bearer`` header or ``token``/``access_token`` query parameter
    (None: none given, i.e. connect-message auth; ``""`` for a malformed header)."""
    parts = urlsplit(request.path)
    level = LEVEL_OF_PATH.get(parts.path.rstrip("/") or "/")
    header = request.headers.get("Authorization")
    if header is not None:
        scheme, _, value = header.strip().partition(" ")
        return level, value.strip() if scheme.lower() == "bearer" else ""
    query = parse_qs(parts.query, keep_blank_values=True)
    for name in ("token", "access_token"):
        if name in query:
            return level, query[name][0]
    return level, None
