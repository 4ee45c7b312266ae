"""A fast upstream for benchmarks: the simulator's market, pre-generated, sent without simulating.

The simulator spends ~45 µs of Python on each market step (order flow, matching, the
``df`` delta), so one connection gets at most ~22,000 ``df``/s from it, whatever the
rate asked (docs/BENCHMARKS.md).  This source runs ``SimMarket`` *before* serving: it
frames ``--messages`` messages (``df`` and L2, in market order) once, then writes them
at ``--rate`` a second, in one write per 5 ms clock turn, through the same protocol
server (``tui.server``) the simulator uses.  When it reaches the end it starts again
with fresh snapshots (``dk``/``lk`` of the starting state), so every client's picture
stays exact across the loop.  Every 20 ms it also sends a ``df`` of the scrip
``BENCH|0`` whose ``ltt`` is the wall time it was written at: the feed lag a client sees.

Run: ``.venv/bin/python bench/fastfeed.py --rate 50000`` (prints ``ENDPOINT <url>``); a
line ``pause`` on its stdin stops the stream (the market holds still), end of input ends it.
"""

from __future__ import annotations

import os
import sys

_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(_HERE))

import argparse
import asyncio
import time
from typing import Any

from tui.server.config import ServerConfig
from tui.server.frames import json_frame
from tui.server.server import ProtocolServer
from tui.sim.market import SimMarket

TOKEN = "bench-upstream-token"
MARKER = "BENCH|0"


class FastFeed:
    """A Backend serving pre-framed market messages at a fixed rate."""

    def __init__(self, messages: int, rate: float, seed: int = 1) -> None:
        market = SimMarket(seed, start=time.time())
        self.keys = market.keys
        start = market.snapshot_messages(orders=True)
        self.snapshots = {(m["t"][0], f"{m['e']}|{m['tk']}"): json_frame(m) for m in start}
        self.restart = b"".join(json_frame(m) for m in start)
        self.restart_prices = b"".join(json_frame(m) for m in start if m["t"] != "lk")
        frames: list[bytes] = []
        #: per frame: True for an L2 message (sent only to sessions that subscribed ``l``)
        self.l2: list[bool] = []
        now = time.time()
        while len(frames) < messages:
            st = market.step(now)
            frames.extend(json_frame(m) for m in st.l2)
            self.l2.extend(True for _ in st.l2)
            if st.df is not None:
                frames.append(json_frame(st.df))
                self.l2.append(False)
        self.frames = frames
        self.rate = rate
        self.server: ProtocolServer | None = None
        self.sent = 0
        self._i = 0
        #: a subscription asked for the starting state: everyone restarts on the next turn
        self._restart = False
        self._credit = 0.0
        self._last: float | None = None
        self._marker_at = 0.0

    # -- Backend --------------------------------------------------------------------------
    def refusal(self, level: str, kind: str, key: str) -> str:
        return ""

    def snapshot(self, kind: str, key: str) -> bytes | None:
        """The starting state of ``key``: the stream starts over from it, for every session
        and every scrip (before this fix only the subscribed scrip restarted, so the others
        got events of orders from the start of the stream: "cancel of unknown order")."""
        if key == MARKER:  # the lag stamp has no state: nothing to restart
            return json_frame(self._marker("dk"))
        self._restart = True
        self._i = 0
        return self.snapshots.get(({"t": "t", "d": "d", "l": "l"}[kind], key))

    def watch(self, kind: str, key: str) -> None:
        pass

    def unwatch(self, kind: str, key: str) -> None:
        pass

    def turn(self, now: float, active: bool) -> bool:
        last, self._last = self._last, now
        if not active or last is None:
            return active
        self._credit = min(self._credit + (now - last) * self.rate, self.rate * 0.25)
        n = int(self._credit)
        self._credit -= n
        chunk: list[bytes] = []
        prices: list[bytes] = []  # the same without L2, for a session without ``l``
        if self._restart:
            self._restart = False
            self._i = 0
            chunk.append(self.restart)
            prices.append(self.restart_prices)
        frames, l2 = self.frames, self.l2
        while n > 0:
            take = min(n, len(frames) - self._i)
            part = frames[self._i : self._i + take]
            chunk.extend(part)
            prices.extend(f for f, is_l2 in zip(part, l2[self._i : self._i + take]) if not is_l2)
            self._i += take
            n -= take
            self.sent += take
            if self._i == len(frames):  # again from the start: fresh snapshots first
                self._i = 0
                chunk.append(self.restart)
                prices.append(self.restart_prices)
        wall = time.time()
        marker = b""
        if self.rate and wall - self._marker_at >= 0.02:  # (paused: the market holds still)
            self._marker_at = wall
            marker = json_frame(self._marker("df"))
        data, price_data = b"".join(chunk), b"".join(prices)
        assert self.server is not None
        for s in self.server.sessions:
            if s.authed and s.subs["d"]:
                s.parts.append(data if s.subs["l"] else price_data)
                if marker and MARKER in s.subs["d"]:  # only to who asked (else: unsolicited)
                    s.parts.append(marker)
        return True

    @staticmethod
    def _marker(t: str) -> dict[str, Any]:
        return {"t": t, "e": "BENCH", "tk": "0", "ltt": f"{time.time():.4f}"}


async def serve(messages: int, rate: float) -> None:
    feed = FastFeed(messages, rate)
    config = ServerConfig(users=(("BENCH", TOKEN),), max_sessions=4)
    async with ProtocolServer(config, feed) as server:
        feed.server = server
        print("ENDPOINT", server.endpoint("L2"), len(feed.frames), flush=True)
        loop = asyncio.get_running_loop()
        while line := await loop.run_in_executor(None, sys.stdin.readline):
            if line.strip() == "pause":  # quiet: clients settle on the final state
                feed.rate = 0.0
                feed._credit = 0.0
        print("SENT", feed.sent, flush=True)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rate", type=float, default=50_000.0)
    p.add_argument("--messages", type=int, default=300_000)
    args = p.parse_args()
    asyncio.run(serve(args.messages, args.rate))


if __name__ == "__main__":
    main()
