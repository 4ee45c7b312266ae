"""Connection health: plain figures the UI and the CLI read (never the token).

Rates and lag are not computed on the hot path: the client samples its counters on a
periodic tick (:class:`RateMeter`) and asks its sink for the newest ``ft`` when ``health`` is
read.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any, Final

IDLE: Final = "idle"
CONNECTING: Final = "connecting"
AUTHENTICATING: Final = "authenticating"
LIVE: Final = "live"
BACKOFF: Final = "backoff"
AUTH_FAILED: Final = "auth-failed"
FAILED: Final = "failed"  # a fault retrying cannot cure (TLS, HTTP 404, an unusable token)
SESSION_LIMIT: Final = "session-limit"
STOPPED: Final = "stopped"
STATES: Final = (IDLE, CONNECTING, AUTHENTICATING, LIVE, BACKOFF, AUTH_FAILED, FAILED,
                 SESSION_LIMIT, STOPPED)  # fmt: skip
#: verdicts: the client gave up and waits to be run again; stopping keeps them
VERDICTS: Final = (AUTH_FAILED, FAILED)

#: ``Health.failure``: why the client gave up (with ``auth-failed`` or ``failed``)
AUTH: Final = "auth"  # the feed refused the token (401/403, ck NOT_OK, close 4001)
TOKEN: Final = "token"  # the token cannot be sent (not a valid HTTP header value)
TLS: Final = "tls"  # the server's certificate did not verify
ENDPOINT: Final = "endpoint"  # the upgrade was refused as a bad request (HTTP 400, 404...)


@dataclass
class Health:
    """One feed client's figures.  Clock times: ``connected_since`` is wall clock (epoch
    seconds of the current session's ``ck OK``); ``next_retry_at`` is the client's
    monotonic clock."""

    state: str = IDLE
    endpoint: str = ""  # the dialled URL, token redacted
    level: str = ""  # "L0" | "L1" | "L2" from the path ("" if unknown)
    connected_since: float | None = None
    reconnects: int = 0  # connection attempts after the first
    next_retry_at: float | None = None
    messages: int = 0  # frames received, all sessions
    bytes: int = 0  # their payload bytes
    msg_rate: float = 0.0  # per second, smoothed
    byte_rate: float = 0.0
    lag: float | None = None  # wall now - ft of the latest market message, seconds
    last_error: str = ""  # redacted; history once the feed is live again (error_current)
    subscriptions: int = 0  # distinct keys wanted
    connections_used: int = 0  # connections this process holds for the token (0 or 1)
    # -- beyond docs/ARCHITECTURE.md ----------------------------------------------------
    auth: str = ""  # "header" | "query" | "connect"
    errors: dict[str, int] = field(default_factory=dict)  # bad frames by kind
    stalls: int = 0  # connections closed by the data-stall watchdog
    refused: int = 0  # ``er`` answers (access level, unknown scrip, ...)
    last_refusal: str = ""  # the latest ``er`` text: information about a request, not a fault
    sessions: int = 0  # acknowledged (``ck OK``) sessions so far
    stopped_in: str = ""  # the state the client was in when it stopped (e.g. session-limit)
    dialect: str = "psx"  # tui.wire.dialects
    order_updates: int = 0  # order updates received on the feed socket (kept, not market data)
    notes: dict[str, int] = field(default_factory=dict)  # values the dialect adjusted, by kind
    last_error_at: float | None = None  # wall clock (epoch seconds) of ``last_error``
    failure: str = ""  # AUTH | TOKEN | TLS | ENDPOINT while ``auth-failed``/``failed``
    #: behind a relay (``marketdesk relay``): its upstream's state ("" if not via a relay)
    upstream: str = ""

    @property
    def error_current(self) -> bool:
        """``last_error`` says what is wrong now: the feed has not been live since."""
        if not self.last_error:
            return False
        if self.state == LIVE:
            return False
        return not (self.state == STOPPED and self.stopped_in == LIVE)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready (plain numbers, strings, None, a dict of ints)."""
        return {**asdict(self), "error_current": self.error_current}


class RateMeter:
    """A per-second rate from a monotonically growing counter, smoothed exponentially.

    ``tau`` is the time constant: a step in the real rate shows ~63% after ``tau`` seconds.
    Sampling irregularly is fine (the weight follows the elapsed time).
    """

    def __init__(self, tau: float = 2.0) -> None:
        self.tau = tau
        self.rate = 0.0
        self._at: float | None = None
        self._count = 0

    def sample(self, now: float, count: int) -> float:
        if self._at is None:
            self._at, self._count = now, count
            return self.rate
        dt = now - self._at
        if dt <= 0:
            return self.rate
        instant = max(0, count - self._count) / dt
        weight = 1.0 - math.exp(-dt / self.tau)
        self.rate += (instant - self.rate) * weight
        self._at, self._count = now, count
        return self.rate

    def reset(self) -> None:
        self.rate = 0.0
        self._at = None
