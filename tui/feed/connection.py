"""One WebSocket connection of the feed client: dialling, its state, closing, and what a
close means.  The reconnect policy lives in :mod:`tui.feed.client`.
"""

from __future__ import annotations

import asyncio
import re
import ssl
from dataclasses import dataclass
from typing import Any, Final

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHeaderValue, InvalidStatus

from tui.feed import health as hs
from tui.feed.config import FeedConfig, redact
from tui.feed.redacting import RedactingAdapter, describe

#: outcome kinds
STOPPED: Final = "stopped"
AUTH: Final = "auth"  # token refused: no retry
LIMIT: Final = "limit"  # session limit: slow retry
FAULT: Final = "fault"  # network fault: backoff
FAILED: Final = "failed"  # a fault retrying cannot cure: no retry (``Outcome.failure`` says which)

AUTH_CLOSE: Final = 4001
LIMIT_CLOSE: Final = 4029


class Counters:
    """What the hot path bumps (slots: the cheapest attribute stores).  Kept across
    connections: ``frames``/``bytes`` are totals."""

    __slots__ = ("bytes", "frames")

    def __init__(self) -> None:
        self.frames = 0
        self.bytes = 0


class Connection:
    """An open connection and what the watchdog knows about it.

    ``outbox`` feeds the single writer task, so requests go out in the order they were
    made.  ``fault`` is set when the client closes the connection on purpose (stall,
    acknowledgement timeout): the session then ends as a network fault whatever the close
    handshake says.
    """

    __slots__ = ("acked_at", "closer", "fault", "mark", "opened_at", "outbox", "progress_at",
                 "stall", "ws")  # fmt: skip

    def __init__(self, ws: ClientConnection, now: float, frames: int) -> None:
        self.ws = ws
        self.outbox: asyncio.Queue[bytes] = asyncio.Queue()
        self.opened_at = now
        self.acked_at: float | None = None  # clock time of ``ck OK``
        self.mark = frames  # frame count at the last sign of life
        self.progress_at = now
        self.fault = ""
        self.stall = False
        self.closer: asyncio.Task[None] | None = None

    def watch(self, now: float, frames: int, stall_timeout: float, ack_timeout: float) -> bool:
        """The watchdog, once a tick: abandon the connection if no frame at all came for
        ``stall_timeout`` (pings may still be answered) or no ``ck`` for ``ack_timeout``.
        True if it did.  ``frames`` is the client's running frame count."""
        if frames != self.mark:
            self.mark, self.progress_at = frames, now
        elif now - self.progress_at >= stall_timeout:
            self.abandon(f"no data for {now - self.progress_at:.1f} s", stall=True)
            return True
        if self.acked_at is None and now - self.opened_at >= ack_timeout:
            self.abandon(f"no acknowledgement in {ack_timeout:g} s")
            return True
        return False

    def abandon(self, reason: str, *, stall: bool = False) -> None:
        """Start closing; the session ends as a fault with ``reason``."""
        if self.closer is None:
            self.fault, self.stall = reason, stall
            self.closer = asyncio.create_task(self.ws.close(1000, "stall" if stall else reason))

    def close_soon(self) -> None:
        """Start a normal close (the client is stopping)."""
        if self.closer is None:
            self.closer = asyncio.create_task(self.ws.close(1000, "client stopped"))

    async def close_fully(self) -> None:
        """Closing handshake (aborted after ``close_timeout``) and TCP closed: only then may
        the client dial again.  Never raises on a socket that is already dead."""
        try:
            if self.closer is not None:
                await asyncio.shield(self.closer)
            await self.ws.close()
            await self.ws.wait_closed()
        except (TimeoutError, ConnectionClosed, OSError):
            pass
        finally:
            if self.ws.transport is not None and not self.ws.transport.is_closing():
                self.ws.transport.abort()

    def classify(self, exc: ConnectionClosed, secrets: tuple[str, ...]) -> tuple[str, str]:
        """(kind, reason) for a closed connection, by close code (docs/PROTOCOL.md)."""
        if self.fault:
            return FAULT, self.fault
        rcvd = exc.rcvd
        if rcvd is not None:
            reason = redact(rcvd.reason, secrets)
            if rcvd.code == AUTH_CLOSE:
                return AUTH, reason or "invalid session key"
            if rcvd.code == LIMIT_CLOSE:
                return LIMIT, reason or "maximum sessions limit"
            return FAULT, f"closed by the feed: {rcvd.code} {reason}".rstrip()
        if exc.sent is not None:  # e.g. 1011 keepalive ping timeout
            return FAULT, f"closed: {exc.sent.code} {exc.sent.reason}".rstrip()
        return FAULT, "connection lost"


class SessionEnded(Exception):
    """A control message ended the session (``ck NOT_OK``): kind ``auth`` or ``limit``."""

    def __init__(self, kind: str, reason: str) -> None:
        super().__init__(reason)
        self.kind, self.reason = kind, reason


@dataclass(frozen=True)
class Outcome:
    """How a session ended."""

    kind: str  # STOPPED | AUTH | LIMIT | FAULT
    reason: str  # redacted
    live_for: float | None = None  # seconds from ``ck OK`` to the end; None: never acked
    stall: bool = False
    failure: str = ""  # with AUTH and FAILED: health.AUTH | TOKEN | TLS | ENDPOINT


#: a token sent in ``Authorization: Bearer``: visible ASCII only (RFC 9110 field values
#: allow no control characters; a space or a non-ASCII byte is not a token either)
_HEADER_TOKEN: Final = re.compile(r"[\x21-\x7e]+")
_TOKEN_UNUSABLE: Final = (
    "the token cannot be sent in an HTTP header: it holds a space, a control character or "
    "a non-ASCII character (is the token file the right one?)"
)


def status_kind(status: int) -> str:
    """The outcome of an HTTP status refusing the upgrade: 401/403 the token, 429 the
    session limit, any other 4xx but 408 a wrong endpoint (retrying gets the same answer),
    anything else a network fault."""
    if status in (401, 403):
        return AUTH
    if status == 429:
        return LIMIT
    return FAILED if 400 <= status < 500 and status != 408 else FAULT


def status_outcome(status: int) -> Outcome:
    kind = status_kind(status)
    failure = {AUTH: hs.AUTH, FAILED: hs.ENDPOINT}.get(kind, "")
    reason = f"HTTP {status} on upgrade"
    if kind == FAILED:
        reason += (
            " (is the URL's path a feed endpoint?)"
            if status == 404
            else " (refused as a bad request)"
        )
    return Outcome(kind, reason, failure=failure)


def token_problem(config: FeedConfig) -> Outcome | None:
    """A token that cannot be presented at all: FAILED before dialling, else None."""
    token = config.effective_token
    if config.auth == "header" and token and not _HEADER_TOKEN.fullmatch(token):
        return Outcome(FAILED, _TOKEN_UNUSABLE, failure=hs.TOKEN)
    return None


def dial_outcome(exc: Exception, secrets: tuple[str, ...]) -> Outcome:
    """How a failed dial ends the session: a certificate that does not verify, a refused
    upgrade, a header websockets will not send are final; the rest are network faults."""
    if isinstance(exc, InvalidStatus):
        return status_outcome(exc.response.status_code)
    if isinstance(exc, ssl.SSLCertVerificationError):
        why = redact(str(exc.verify_message or exc.reason or "not verified"), secrets)
        return Outcome(
            FAILED,
            f"TLS certificate not trusted: {why} (a private CA: --ca-file or ca_file in [feed])",
            failure=hs.TLS,
        )
    if isinstance(exc, InvalidHeaderValue):  # never its text: it holds the header's value
        return Outcome(FAILED, _TOKEN_UNUSABLE, failure=hs.TOKEN)
    return Outcome(FAULT, describe(exc, secrets))


async def dial(
    config: FeedConfig,
    logger: RedactingAdapter,
    connection: type[ClientConnection] | None = None,
) -> ClientConnection:
    """Open the WebSocket: the dialect's URL and headers, no compression, pings on.
    ``connection``: websockets' connection class to use (a subclass; the relay's upstream
    takes its frames as they are parsed)."""
    headers = config.headers  # the dialect's (psx header mode: the bearer token)
    extra: dict[str, Any] = {"ssl": config.ssl} if config.ssl is not None else {}
    if connection is not None:
        extra["create_connection"] = connection
    return await connect(
        config.connect_url,
        additional_headers=headers,
        compression=None,  # permessage-deflate costs 25-50% on both ends (docs/PERF_NOTES.md)
        proxy=None if config.loopback else True,  # the embedded feed never goes via a proxy
        open_timeout=config.open_timeout,
        ping_interval=config.heartbeat,
        ping_timeout=config.ping_timeout,
        close_timeout=config.close_timeout,
        max_size=config.max_size,
        logger=logger,  # redacts: websockets logs upgrade paths and headers at DEBUG
        **extra,  # wss:// without it: the default context, certificates verified
    )
