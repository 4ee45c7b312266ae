"""``Relay``: the protocol server (``tui.server``) in front of one upstream connection.

relay = server + upstream client + cache.  The upstream ``FeedClient`` (one per token,
with its backoff, watchdog and resubscription) merges into :class:`RelayCache`; every
merged message goes to :class:`Fanout`, which queues it for the clients; the server
serves any number of clients on the same three paths with the relay's own client
tokens (the upstream token never leaves this process), and plain HTTP on the same port
(``tui.relay.http``).  docs/RELAY.md says what a user sees.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Final
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import ServerConnection
from websockets.http11 import Request, Response

from tui.feed.config import FeedConfig
from tui.relay.backend import RelayBackend
from tui.relay.cache import RelayCache
from tui.relay.fanout import FAST_WRITE_BUDGET, SLOW_WRITE_BUDGET, Fanout, status_frame
from tui.relay.http import RelayHttp
from tui.relay.stream import Stream
from tui.relay.upstream import Interest, UpstreamClient
from tui.server.config import ServerConfig
from tui.server.server import ProtocolServer
from tui.server.session import Session
from tui.wire.frames import DecodeErrors

log = logging.getLogger("tui.relay")

#: the most a client may ask for with ``?conflate=HZ``
MAX_CONFLATE_HZ: Final = 1000.0
#: bytes a client's socket may hold before the relay stops writing to it: what waits
#: beyond stays in the relay's queue, where a slow client's deltas are merged, so the
#: pongs websockets writes for the client's keepalive pings wait behind little (a slow
#: reader is not killed by its own pings; also ``fanout.SLOW_WRITE_BUDGET``) ...
CLIENT_HIGH_WATER: Final = 128 * 1024
#: ... and the kernel's send buffer of a client's socket (Linux doubles it: 512 KB, room
#: for 10 MB/s at 50 ms of round trip), instead of autotuned up to 4 MB: 4 MB of frames
#: ahead of a pong take a client reading 150 KB/s half a minute
CLIENT_SNDBUF: Final = 256 * 1024


@dataclass(frozen=True)
class RelayConfig:
    """The relay.  ``clients`` pairs a name (shown in ``/health``; the CLI uses the
    environment variable's name) with each client token."""

    upstream: FeedConfig = field(repr=False)
    clients: tuple[tuple[str, str], ...] = field(repr=False)
    host: str = "127.0.0.1"
    port: int = 8770
    ssl: ssl.SSLContext | None = field(default=None, repr=False)
    #: seconds a scrip stays subscribed upstream after its last client left
    grace: float = 5.0
    #: connections allowed at once per client token
    max_sessions: int = 16
    tick: float = 0.005
    #: seconds between two looks at the upstream's state (told to clients on a change)
    status_every: float = 0.25

    def __post_init__(self) -> None:
        if not self.clients:
            raise ValueError("the relay needs at least one client token")
        upstream = self.upstream.effective_token
        for name, token in self.clients:
            if not token:
                raise ValueError(f"client token {name} is empty")
            if upstream and token == upstream:
                raise ValueError(
                    f"client token {name} is the upstream token: give clients "
                    "tokens of their own (the upstream token never leaves the relay)"
                )


def upstream_word(state: str, sessions: int) -> str:
    """The upstream state as clients are told it (``st``'s ``up``): ``live``, ``connecting``
    (never live yet), ``reconnecting``, ``session-limit``, ``auth-failed``, ``failed``,
    ``stopped``."""
    if state in ("idle", "connecting", "authenticating", "backoff"):
        return "reconnecting" if sessions else "connecting"
    return state


def conflate_hz(request: Request) -> float | None:
    """``?conflate=HZ`` of the upgrade request (None: tick by tick); ValueError if bad."""
    values = parse_qs(urlsplit(request.path).query).get("conflate")
    if not values:
        return None
    hz = float(values[0])
    if not 0 <= hz <= MAX_CONFLATE_HZ:  # NaN fails it too
        raise ValueError(hz)
    return hz or None


class Relay(ProtocolServer):
    """``async with Relay(config) as relay:`` relays until the block ends."""

    def __init__(self, config: RelayConfig) -> None:
        self.config = config
        self.cache = RelayCache(DecodeErrors(redact=config.upstream.secrets()))
        self.upstream = UpstreamClient(config.upstream, self.cache)
        server_config = ServerConfig(
            host=config.host,
            port=config.port,
            users=config.clients,
            max_sessions=config.max_sessions,
            tick=config.tick,
            ssl=config.ssl,
            log_name="tui.relay",
        )
        #: other holders of interest (``tui.relay.bus``: the NATS consumers): a scrip any of
        #: them wants stays upstream, as one a client of this server wants does
        self.also_wanted: list[Callable[[str], bool]] = []
        self.interest = Interest(self.upstream, self._wanted, config.grace)
        backend = RelayBackend(self.cache, self.interest, None, config.upstream.level)  # type: ignore[arg-type]
        super().__init__(server_config, backend, http=None)
        self.fanout = Fanout(self, self.cache)
        backend.fanout = self.fanout
        backend.server = self
        self.backend: RelayBackend = backend
        self.http = RelayHttp(self)
        self.cache.listeners.append(self.fanout.on_message)
        self.upstream.on_refused = backend.on_refused
        self._told: str = ""
        self._sessions_seen = 0
        self._runner: asyncio.Task[None] | None = None
        self._watcher: asyncio.Task[None] | None = None

    # -- lifecycle ------------------------------------------------------------------------
    async def start(self) -> None:
        await super().start()
        self._runner = asyncio.create_task(self.upstream.run(), name="relay-upstream")
        self._watcher = asyncio.create_task(self._watch(), name="relay-status")

    async def close(self) -> None:
        if self._watcher is not None:
            self._watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watcher
        await self.upstream.stop()
        if self._runner is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._runner, 5)
        self.interest.close()
        await super().close()

    # -- the server's hooks ---------------------------------------------------------------
    async def _process_request(
        self, connection: ServerConnection, request: Request
    ) -> Response | None:
        try:
            conflate_hz(request)
        except ValueError:
            return connection.respond(
                HTTPStatus.BAD_REQUEST, f"conflate must be a rate from 0 to {MAX_CONFLATE_HZ:g}\n"
            )
        return await super()._process_request(connection, request)

    def hold(self, s: Session, token: str) -> bool:
        if not super().hold(s, token):
            return False
        if s.stream is None:
            request = s.ws.request
            s.stream = Stream(conflate_hz(request) if request is not None else None)
            s.high_water = CLIENT_HIGH_WATER
            period = s.stream.period
            s.write_budget = FAST_WRITE_BUDGET if period is None else SLOW_WRITE_BUDGET
            if period is not None:  # conflated: held with the others of its rate
                s.stream.cohort = self.fanout.cohort(period)
                s.stream.cohort.members.add(s)
            sock = s.transport.get_extra_info("socket")
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, CLIENT_SNDBUF)
            asyncio.get_running_loop().call_soon(self._tell, s, self._status())
        return True

    def add_subscriber(self, s: Session, kind: str, key: str) -> None:
        """As the server's; the client is about to get a snapshot of ``key`` (in the same
        step), so what it held of that stream is forgotten and its L2 ``sq`` is the lk's."""
        st = s.stream
        if st is not None:
            if st.cohort is not None:
                if kind == "l":
                    st.fresh.add(key)  # the cohort's netting starts before its lk
            else:
                self.fanout.forget(st, kind, key)
            if kind == "l":
                self.fanout.joined(st, key)
        super().add_subscriber(s, kind, key)

    def release(self, s: Session) -> None:
        """As the server's; a conflated client leaves its cohort."""
        super().release(s)
        if s.stream is not None and s.stream.cohort is not None:
            s.stream.cohort.members.discard(s)

    def flush(self, s: Session) -> None:
        """As the server's; a connection with a resync pending (it dropped data) gets
        fresh snapshots of everything when next written, so what it held is forgotten
        first: a held delta released after them would repeat what they already hold."""
        resync = s.resync and s.stream is not None
        if resync:
            s.stream.clear()
        super().flush(s)
        if resync and not s.resync:  # the snapshots were taken: the lk's sq from now
            for key in s.subs["l"]:
                self.fanout.joined(s.stream, key)
            s.stream.fresh.update(s.subs["l"])

    def _wanted(self, key: str) -> bool:
        subs = self.subs
        return (
            key in subs["d"]
            or key in subs["t"]
            or key in subs["l"]
            or any(wanted(key) for wanted in self.also_wanted)
        )

    # -- the upstream's state, told to every client ---------------------------------------
    def _status(self) -> bytes:
        h = self.upstream.health
        fields = {
            "s": "upstream",
            "up": upstream_word(h.state, h.sessions),
            "lv": self.backend.level,
        }
        if h.state != "live" and h.last_error:
            fields["emsg"] = h.last_error[:200]
        return status_frame(**fields)

    def _tell(self, s: Session, frame: bytes) -> None:
        if s.authed and not s.closing:
            s.push_control(frame)
            self.wake()

    async def _watch(self) -> None:
        """Tell clients when the upstream's state changes; a new upstream session clears
        remembered refusals; the cache's dirty set is drained (nothing else reads it)."""
        sessions_seen = 0
        while True:
            await asyncio.sleep(self.config.status_every)
            try:
                h = self.upstream.health
                if h.sessions != sessions_seen:
                    sessions_seen = h.sessions
                    self.backend.forgive()
                word = upstream_word(h.state, h.sessions)
                if word != self._told:
                    self._told = word
                    log.info("relay: upstream %s", h.state)
                    frame = self._status()
                    for s in list(self.sessions):
                        self._tell(s, frame)
                self.cache.flush(0.0)
            except Exception:
                log.exception("relay: status check failed")
