"""The market behind a protocol server: what the server asks of it.

The server (``tui.server.server.ProtocolServer``) owns the connections, auth, access
levels, the session limit, the subscription registry and the writes.  What data exists
and where it comes from is the backend's: the simulator's market (``tui.sim.server``),
the relay's upstream cache (``tui.relay``), a recording.  A backend pushes market data
with :meth:`ProtocolServer.publish` (or straight into ``server.subs`` on a hot path) and
answers these questions:
"""

from __future__ import annotations

from typing import Protocol

#: Subscription kinds: touchline, depth, order level (the client's request tags).
KINDS = ("t", "d", "l")


class Backend(Protocol):
    def refusal(self, level: str, kind: str, key: str) -> str:
        """Why a connection at ``level`` may not subscribe ``kind`` of ``key`` ("" if it
        may): "unknown scrip", "order-level data needs L2"...  Sent to the client as ``er``."""
        ...

    def snapshot(self, kind: str, key: str) -> bytes | None:
        """The framed ``tk`` / ``dk`` / ``lk`` of ``key`` now (``tui.server.frames``), or
        None if the backend has none yet: it will publish one when it has."""
        ...

    def watch(self, kind: str, key: str) -> None:
        """The first connection subscribed ``kind`` of ``key``."""
        ...

    def unwatch(self, kind: str, key: str) -> None:
        """The last connection subscribed to ``kind`` of ``key`` left (or unsubscribed)."""
        ...

    def turn(self, now: float, active: bool) -> bool:
        """One turn of the server's clock (``now``: the loop's monotonic time), before the
        queued frames are written; ``active`` is whether anything is subscribed.  Return
        True to be called again next turn, False to let the clock rest until something
        new is queued or subscribed."""
        ...
