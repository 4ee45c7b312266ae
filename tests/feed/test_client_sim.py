"""FeedClient end to end against the real simulator (tui.sim.server.SimServer).

Every fault the simulator injects (drop, stall, garbage, bad token, session-limit kick)
must be survived: the client recovers, resubscribes, counts bad frames and never holds
more than one connection for its token.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import random
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from support.waiting import PATIENCE, until
from websockets.asyncio.client import connect

from tui.feed import sessions
from tui.feed.client import FeedClient
from tui.feed.config import FeedConfig
from tui.market.store import Market
from tui.sim.server import Faults, SimConfig, SimServer

#: end to end: real processes, servers and clients (deselect with -m "not slow")
pytestmark = pytest.mark.slow

_ids = itertools.count()


def new_token() -> str:
    return f"sim-{next(_ids)}-Kx7pSeCrEt"


@contextlib.asynccontextmanager
async def simulator(token: str, **faults: Any) -> AsyncIterator[SimServer]:
    cfg = SimConfig(seed=3, rate=800.0, tokens=(token,), faults=Faults(**faults))
    async with SimServer(cfg) as sim:
        yield sim


def stocks(sim: SimServer, n: int = 6) -> list[str]:
    return [inst.key for inst in sim.instruments if not inst.index][:n]


class Run:
    """A client running in the background, its events recorded."""

    def __init__(self, sim: SimServer, token: str, level: str = "L2", **kw: Any) -> None:
        args: dict[str, Any] = {
            "heartbeat": 0.1, "ping_timeout": 2.0, "stall_timeout": 0.4, "backoff_min": 0.05,
            "backoff_max": 0.2, "stable_after": 0.5, "session_limit_retry": 0.3,
            "session_limit_max": 0.6, "ack_timeout": 1.0, "close_timeout": 0.2, "tick": 0.05,
        }  # fmt: skip
        cfg = FeedConfig(url=sim.endpoint(level), token=token, **(args | kw))
        self.sim, self.token = sim, token
        self.client = FeedClient(cfg, Market(), rng=random.Random(5))
        self.events: list[tuple[str, str]] = []
        self.client.on_event = lambda kind, text: self.events.append((kind, text))
        self.task: asyncio.Task[None] | None = None

    def start(self) -> Run:
        self.task = asyncio.create_task(self.client.run())
        return self

    async def stop(self) -> None:
        await asyncio.wait_for(self.client.stop(), 5)
        if self.task is not None:
            await asyncio.wait_for(self.task, 5)

    def kinds(self) -> list[str]:
        return [k for k, _ in self.events]

    @property
    def state(self) -> str:
        return self.client.health.state

    def flowing(self, after: int) -> Callable[[], bool]:
        """Live and receiving market data past ``after`` messages."""
        return lambda: self.state == "live" and self.client.health.messages > after

    def one_connection(self) -> None:
        assert sessions.peak_connections(self.client._key) == 1
        assert self.client.health.connections_used <= 1


@contextlib.asynccontextmanager
async def running(sim: SimServer, token: str, **kw: Any) -> AsyncIterator[Run]:
    run = Run(sim, token, **kw).start()
    try:
        yield run
    finally:
        await run.stop()


@pytest.mark.parametrize("auth", ["header", "query", "connect"])
async def test_live_l2_in_every_auth_mode(auth):
    token = new_token()
    async with simulator(token) as sim, running(sim, token, auth=auth) as run:
        keys = stocks(sim)
        run.client.subscribe(keys, orders=True)
        market = run.client.market
        await until(lambda: set(keys) <= market.books.keys() and set(keys) <= market.scrips.keys())
        await until(run.flowing(100))
        health = run.client.health
        assert health.level == "L2" and health.subscriptions == len(keys)
        assert health.errors == {} and run.kinds() == ["connected"]
        assert sim.connections(token) == 1
        assert token not in health.endpoint
    assert sim.max_connections(token) == 1


async def test_drops_reconnect_and_resubscribe():
    token = new_token()
    async with simulator(token, drop_every=0.3) as sim, running(sim, token) as run:
        keys = stocks(sim, 4)
        run.client.subscribe(keys[:2], orders=True)
        run.client.subscribe(keys[2:], depth=False)
        await until(lambda: run.client.health.reconnects >= 3)
        seen = run.client.health.messages
        await until(run.flowing(seen + 50))

        def resubscribed() -> bool:  # true between two drops (the next one wipes it)
            subs = sim.subs
            depth_and_orders = set(keys[:2]) <= subs["d"].keys() & subs["l"].keys()
            return depth_and_orders and set(keys[2:]) <= subs["t"].keys()

        await until(resubscribed)
        assert run.kinds().count("reconnect") >= 3
        run.one_connection()
    assert sim.max_connections(token) == 1


async def test_stall_with_pongs_is_caught_by_the_watchdog():
    token = new_token()
    async with simulator(token) as sim, running(sim, token) as run:
        run.client.subscribe(stocks(sim), orders=True)
        await until(run.flowing(100))
        sim.stall(2.0, pongs=True)  # pings answered, no frame: only the watchdog notices
        await until(lambda: "stall" in run.kinds())
        assert run.client.health.stalls == 1
        seen = run.client.health.messages
        await until(run.flowing(seen + 100))
        assert run.kinds()[-1] == "reconnected"
        run.one_connection()
    assert sim.max_connections(token) == 1


async def test_frozen_server_is_caught_by_ping_timeout():
    """A stalled connection that reads nothing either: websockets' ping times out first.

    The simulator's handler cannot see our close while it reads nothing; it counts only
    sessions whose socket is still open, so the dead one never counts with the new one.
    """
    token = new_token()
    async with (
        simulator(token) as sim,
        running(sim, token, ping_timeout=0.2, stall_timeout=5) as run,
    ):
        run.client.subscribe(stocks(sim))
        await until(run.flowing(100))
        sim.stall(1.5)
        await until(lambda: "reconnect" in run.kinds())
        assert "1011" in run.client.health.last_error  # keepalive ping timeout
        await until(lambda: run.state == "live")
        run.one_connection()
        assert sim.max_connections(token) == 1


async def test_a_short_stall_is_ridden_out():
    token = new_token()
    async with simulator(token) as sim, running(sim, token, stall_timeout=5.0) as run:
        run.client.subscribe(stocks(sim), orders=True)
        await until(run.flowing(100))
        stalled = sim.stall(0.3, pongs=True)
        assert stalled == 1
        await until(lambda: not any(s.stalled for s in sim.sessions))
        seen = run.client.health.messages
        await until(run.flowing(seen + 100))
        assert run.client.health.reconnects == 0 and run.kinds() == ["connected"]


async def test_garbage_is_counted_and_survived():
    token = new_token()
    async with simulator(token, garbage_ratio=0.05) as sim, running(sim, token) as run:
        run.client.subscribe(stocks(sim), orders=True)
        kinds = {"not-json", "not-object", "unknown-type", "missing-key", "bad-message"}
        await until(lambda: kinds <= run.client.health.errors.keys())
        assert run.state == "live" and run.client.health.reconnects == 0
        assert all(token not in text for _, text in run.client.errors.samples)


@pytest.mark.parametrize("auth", ["header", "query", "connect"])
async def test_bad_token_fails_once_and_stays_failed(auth):
    token = new_token()
    async with simulator(token) as sim:
        run = Run(sim, "not-the-token-777", auth=auth).start()
        assert run.task is not None
        await asyncio.wait_for(run.task, PATIENCE)  # run() returns: no retry
        assert run.state == "auth-failed" and run.kinds() == ["auth-failed"]
        assert run.client.health.reconnects == 0
        assert sim.max_connections("not-the-token-777") == 0
        assert "not-the-token-777" not in repr(run.events) + repr(run.client.health)


async def test_kick_means_a_slow_retry_then_resubscribe():
    token = new_token()
    async with simulator(token) as sim, running(sim, token) as run:
        keys = stocks(sim, 3)
        run.client.subscribe(keys, orders=True)
        await until(run.flowing(50))
        kicked = time.monotonic()
        assert sim.kick(token) == 1
        await until(lambda: run.state == "session-limit")
        assert run.client.health.next_retry_at is not None
        await until(lambda: run.state == "live" and sim.connections(token) == 1)
        assert time.monotonic() - kicked >= 0.25  # session_limit_retry, not backoff_min
        await until(lambda: set(keys) <= sim.subs["l"].keys())
        assert run.kinds() == ["connected", "session-limit", "reconnected"]
        run.one_connection()
    assert sim.max_connections(token) == 1


async def test_repeated_kicks_never_storm():
    token = new_token()
    async with simulator(token, kick_every=0.15) as sim, running(sim, token) as run:
        run.client.subscribe(stocks(sim, 2))
        started = time.monotonic()
        await until(lambda: run.client.health.sessions >= 3)
        elapsed = time.monotonic() - started
        # each kick waits >= session_limit_retry (0.3 s) before the next try
        assert run.client.health.sessions <= elapsed / 0.3 + 1
        assert run.client.health.reconnects <= elapsed / 0.3 + 1
        run.one_connection()
    assert sim.max_connections(token) == 1


async def test_limit_held_by_others_waits_until_a_slot_frees():
    token = new_token()
    async with simulator(token) as sim:
        headers = {"Authorization": f"Bearer {token}"}
        others = [await connect(sim.endpoint("L1"), additional_headers=headers) for _ in range(2)]
        await until(lambda: sim.connections(token) == 2)
        async with running(sim, token) as run:
            run.client.subscribe(stocks(sim, 2))
            await until(lambda: run.state == "session-limit")
            assert "Maximum sessions limit" in run.client.health.last_error
            await others.pop().close()
            await until(lambda: run.state == "live")
            run.one_connection()
        await others[0].close()
    assert sim.max_connections(token) == 2


async def test_refused_requests_are_events_and_the_session_stays():
    token = new_token()
    async with simulator(token) as sim, running(sim, token, level="L0") as run:
        l0 = [inst.key for inst in sim.instruments if inst.l0 and not inst.index][:2]
        run.client.subscribe(l0, depth=False)  # touchline at L0: served
        run.client.subscribe(["NSE|26000"])  # depth at L0: refused
        await until(lambda: "refused" in run.kinds())
        assert "depth not available at L0" in run.client.health.last_refusal
        await until(lambda: set(l0) <= run.client.market.scrips.keys())
        assert run.state == "live" and run.client.health.level == "L0"
