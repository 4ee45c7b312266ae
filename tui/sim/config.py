"""Settings of the simulator server (docs/ARCHITECTURE.md); the faults and the endpoint
paths are the protocol server's (``tui.server.config``), re-exported here."""

from __future__ import annotations

from dataclasses import dataclass, field

from tui.server.config import LEVEL_OF_PATH, PATHS, Faults, ServerConfig
from tui.sim.instruments import Instrument

__all__ = ["LEVEL_OF_PATH", "PATHS", "Faults", "SimConfig"]


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

    def server(self) -> ServerConfig:
        """The protocol server's part: token ``i`` is user ``SIM{i+1}``."""
        return ServerConfig(
            host=self.host,
            port=self.port,
            users=tuple((f"SIM{i + 1}", token) for i, token in enumerate(self.tokens)),
            max_sessions=self.max_sessions,
            tick=self.tick,
            faults=self.faults,
            seed=self.seed,
            log_name="tui.sim",
            dialect=self.dialect,
        )
