"""The simulator: the protocol server (``tui.server``) in front of a ``SimMarket``.

One shared market clock steps :class:`~tui.sim.market.SimMarket` ``rate`` times a second
and fans each step out to the connections subscribed to its scrip: the ``df``/``tf``/L2
messages are encoded and framed once, then every subscriber queues the same bytes and
each connection's queue is written in one call per clock turn.  The market is
deterministic by seed; which part of it a connection sees depends on when it subscribed.
The clock rests while nobody subscribes anything.

Auth, access levels' endpoints, the session limit, subscriptions, writes and faults are
the protocol server's; what may be subscribed and the snapshots are :class:`SimBackend`'s.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Final

from tui.server.frames import json_frame
from tui.server.server import ProtocolServer
from tui.server.session import Session
from tui.sim.config import Faults, SimConfig
from tui.sim.instruments import Instrument
from tui.sim.market import SimMarket

__all__ = ["Faults", "SimBackend", "SimConfig", "SimServer"]

#: Largest burst of steps one clock turn may catch up (seconds of ``rate``).
_MAX_BURST: Final = 0.25


class SimBackend:
    """The simulated market as a :class:`~tui.server.backend.Backend`: steps it on the
    server's clock and fans each step out through the server's registry."""

    def __init__(self, market: SimMarket, rate: float, wall: Callable[[], float]) -> None:
        self.market = market
        self.rate = rate
        self.server: ProtocolServer | None = None
        self._wall = wall
        self._last: float | None = None
        self._credit = 0.0

    # -- the Backend protocol -------------------------------------------------------------
    def refusal(self, level: str, kind: str, key: str) -> str:
        scrip = self.market.scrips.get(key)
        if scrip is None:
            return "unknown scrip"
        inst = scrip.inst
        if level == "L0":
            if kind != "t":
                return "depth not available at L0" if kind == "d" else "order-level data needs L2"
            if not inst.l0:
                return "scrip not available at L0"
        if kind == "l":
            if level != "L2":
                return "order-level data needs L2"
            if inst.index:
                return "no order book for an index"
        return ""

    def snapshot(self, kind: str, key: str) -> bytes | None:
        market = self.market
        frame = self.server.frame_market if self.server is not None else json_frame
        if kind == "d":
            return frame(market.depth_snapshot(key))
        if kind == "t":
            return frame(market.touch_snapshot(key))
        return frame(market.book_snapshot(key))

    def watch(self, kind: str, key: str) -> None:
        pass  # the clock steps every scrip whoever watches

    def unwatch(self, kind: str, key: str) -> None:
        pass

    def turn(self, now: float, active: bool) -> bool:
        """Step the market by the credit the elapsed time earned at ``rate``."""
        last, self._last = self._last, now
        if not active or self.rate <= 0:  # resting: the next active turn starts afresh
            self._credit = 0.0
            self._last = None
            return False
        if last is not None:
            rate = self.rate
            self._credit = min(self._credit + (now - last) * rate, rate * _MAX_BURST + 1)
        n = int(self._credit)
        if n:
            self._credit -= n
            self._produce(n, self._wall())
        return True

    def _produce(self, n: int, now: float) -> None:
        """``n`` market steps, each framed once and queued on its subscribers."""
        assert self.server is not None
        step = self.market.step
        subs = self.server.subs
        sub_d, sub_t, sub_l = subs["d"], subs["t"], subs["l"]
        frame = self.server.frame_market  # the dialect's (psx: json_frame)

        def fan_out(
            subs: dict[str, set[Session]], key: str, msgs: Iterable[dict[str, str]]
        ) -> None:
            subscribers = subs.get(key)
            if subscribers:
                for msg in msgs:
                    fr = frame(msg)  # framed once, shared by every subscriber
                    if fr is None:  # not sent in this dialect (no order level in V2)
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


class SimServer(ProtocolServer):
    """``async with SimServer(cfg) as sim:`` serves until the block ends."""

    def __init__(
        self, config: SimConfig | None = None, *, wall: Callable[[], float] = time.time
    ) -> None:
        self.config = config if config is not None else SimConfig()
        self.market = SimMarket(self.config.seed, self.config.instruments, start=wall())
        self.sim = SimBackend(self.market, float(self.config.rate), wall)
        super().__init__(self.config.server(), self.sim)
        self.sim.server = self

    @property
    def instruments(self) -> list[Instrument]:
        return self.market.instruments

    @property
    def rate(self) -> float:
        return self.sim.rate

    def set_rate(self, n: float) -> None:
        """Market events per second from now on."""
        self.sim.rate = max(float(n), 0.0)
        self.wake()
