"""Settings of the protocol server and of the faults it can inject (docs/PROTOCOL.md)."""

from __future__ import annotations

import ssl
from dataclasses import dataclass, field
from typing import Final

#: Endpoint path of each access level (docs/PROTOCOL.md, "Endpoints and access levels").
PATHS: Final = {
    "L0": "/2.0/market/feed",
    "L1": "/2.0/market/feed/full",
    "L2": "/2.0/market/feed/l2",
}
LEVEL_OF_PATH: Final = {path: level for level, path in PATHS.items()}
LEVELS: Final = ("L0", "L1", "L2")


@dataclass(frozen=True)
class Faults:
    """Fault injection.  Periods are seconds (None: never); all apply to every connection.

    - ``drop_every``: abort every connection's TCP stream (no close frame), a network fault.
    - ``stall_every`` / ``stall_seconds``: hold back every frame while the socket stays
      open; the stalled connection reads nothing either, so websocket pings and ``h``
      heartbeats go unanswered, unless ``stall_pongs`` (then pings still get pongs but
      no data frame is sent).  After a stall the connection gets fresh snapshots.
    - ``garbage_ratio``: after each market-data message, with this probability, a bad
      frame (not JSON, not an object, unknown ``t``, missing key, a bad number).
    - ``kick_every``: every authenticated connection gets ``ck NOT_OK`` "Maximum
      sessions limit" and close 4029, as when a session is taken over elsewhere.
    """

    drop_every: float | None = None
    stall_every: float | None = None
    stall_seconds: float = 5.0
    garbage_ratio: float = 0.0
    kick_every: float | None = None
    stall_pongs: bool = False


@dataclass(frozen=True)
class ServerConfig:
    """One protocol server: where it listens, whom it lets in, how it paces its writes.

    ``users`` pairs a non-secret user id with each accepted token (the ``uid`` of the
    ``ck`` answer, the name in logs and ``/health``).  ``port=0`` picks a free port.
    ``seed`` only seeds the garbage frames of fault injection.
    """

    host: str = "127.0.0.1"
    port: int = 0
    users: tuple[tuple[str, str], ...] = field(default=(), repr=False)  # (uid, token): secrets
    #: authenticated connections allowed at once per token
    max_sessions: int = 2
    #: seconds between two turns of the server's clock (each turn writes one batch)
    tick: float = 0.005
    faults: Faults = field(default_factory=Faults)
    seed: int | str = 1
    #: serve ``wss://`` with this context (None: plain ``ws://``)
    ssl: ssl.SSLContext | None = field(default=None, repr=False)
    #: the largest client frame accepted
    max_size: int = 2**20
    #: logger name (``tui.sim``, ``tui.relay``): where this server's warnings go
    log_name: str = "tui.server"
    #: the dialect spoken (``tui.wire.dialects``: psx noren noren-token firstock-v2)
    dialect: str = "psx"
