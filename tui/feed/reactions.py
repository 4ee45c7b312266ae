"""What the end of a feed session means: a verdict (stop trying) or a retry, and when.

Reactions (docs/PROTOCOL.md, "Close codes"):

- HTTP 401/403 on the upgrade, ``ck NOT_OK`` (other than the session limit), close 4001:
  state ``auth-failed``; nothing retries until the client is run again.
- A fault retrying cannot cure -- a TLS certificate that does not verify, any other 4xx on
  the upgrade (404, 400...), a token that is not a valid header value: state ``failed``
  with one reason (``Health.failure`` says which).
- Close 4029, ``ck NOT_OK "Maximum sessions limit"``, HTTP 429: state ``session-limit``;
  retry after ``session_limit_retry``, then back off (jittered) up to ``session_limit_max``.
- Anything else (refused TCP, timeouts, drops, unanswered pings, a data stall, 1000/1001,
  no ``ck`` within ``ack_timeout``): state ``backoff``, capped exponential backoff + jitter.

:func:`react` is that table, with no I/O; the client (:mod:`tui.feed.client`) applies it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from tui.feed import connection as conn_
from tui.feed import health as hs
from tui.feed.backoff import Backoff
from tui.feed.connection import Outcome
from tui.feed.health import AUTH_FAILED, FAILED, SESSION_LIMIT
from tui.wire.times import seconds_text

#: ``on_event`` kinds (for toasts); AUTH_FAILED and SESSION_LIMIT are the state names
CONNECTED: Final = "connected"  # first acknowledged session
RECONNECTED: Final = "reconnected"  # a later one
RECONNECT: Final = "reconnect"  # connection lost or failed; the text says when the next try is
STALL: Final = "stall"  # the watchdog closed a silent connection; reconnecting
REFUSED: Final = "refused"  # an ``er`` answer to a request (at most one event a second)
EVENTS: Final = (CONNECTED, RECONNECTED, RECONNECT, STALL, AUTH_FAILED, FAILED, SESSION_LIMIT,
                 REFUSED)  # fmt: skip


@dataclass(frozen=True)
class Reaction:
    """The client's next state, the event it tells, and the wait before the next try
    (None: a verdict, no retry; ``failure`` then says which kind)."""

    state: str
    event: str
    text: str
    delay: float | None
    failure: str = ""


def react(out: Outcome, backoff: Backoff, limit_backoff: Backoff) -> Reaction:
    """The reaction to a session that ended with ``out`` (not stopped); takes the next
    delay from the backoff that applies."""
    if out.kind == conn_.AUTH:
        text = f"Feed refused the token ({out.reason}); not retrying"
        return Reaction(AUTH_FAILED, AUTH_FAILED, text, None, hs.AUTH)
    if out.kind == conn_.FAILED:
        return Reaction(
            FAILED, FAILED, f"Feed failed: {out.reason}; not retrying", None, out.failure
        )
    if out.kind == conn_.LIMIT:
        delay = limit_backoff.next()
        text = f"Session limit ({out.reason}); retrying in {seconds_text(delay)}"
        return Reaction(SESSION_LIMIT, SESSION_LIMIT, text, delay)
    delay = backoff.next()
    text = f"Feed connection lost ({out.reason}); retrying in {seconds_text(delay)}"
    return Reaction(hs.BACKOFF, STALL if out.stall else RECONNECT, text, delay)
