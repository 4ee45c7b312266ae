"""Settings of the simulator server and of the faults it injects (docs/ARCHITECTURE.md)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

from tui.sim.instruments import Instrument

#: Endpoint path of each access level (docs/PROTOCOL.md, "Endpoints and access levels").
PATHS: Final = {
    "L0": "/2.0/market/feed",
    "L1": "/2.0/market/feed/full",
    "L2": "/2.0/market/feed/l2",
}
LEVEL_OF_PATH: Final = {path: level for level, path in PATHS.items()}


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
class SimConfig:
    """The simulator server.

    ``rate`` is market events per second: a connection subscribed to the depth (or the
    touchline) of every instrument receives about ``rate`` ``df`` (``tf``) messages a
    second; one subscribed to fewer scrips receives their share, and ``l`` adds the
    order-level messages (1-3 per event).  ``port=0`` picks a free port.
    """

    seed: int = 1
    rate: float = 2000.0
    tokens: tuple[str, ...] = field(default=("demo-token",), repr=False)  # secrets
    host: str = "127.0.0.1"
    port: int = 0
    faults: Faults = field(default_factory=Faults)
    #: authenticated connections allowed at once per token
    max_sessions: int = 2
    #: the instrument list (None: ``tui.sim.instruments.INSTRUMENTS``)
    instruments: tuple[Instrument, ...] | None = field(default=None, repr=False)
    #: seconds between two turns of the market clock (each turn sends one batch)
    tick: float = 0.005
    #: the dialect spoken (tui.wire.dialects: psx noren noren-token firstock-v2)
    dialect: str = "psx"
