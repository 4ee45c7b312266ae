"""The simulator behind a relay, and clients of both, for the relay's tests (a module)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterable
from typing import Any

from support.waiting import PATIENCE
from tui.feed.client import FeedClient
from tui.feed.config import FeedConfig
from tui.market.store import Market
from tui.relay.cache import DEPTH_ONLY
from tui.relay.server import Relay, RelayConfig
from tui.sim.server import Faults, SimConfig, SimServer
from tui.wire.frames import DecodeErrors

UP = "upstream-secret-7f3a9c"  # the upstream token: must never reach a client
DIRECT = "direct-token"
CLIENTS = tuple((f"CLIENT{i}", f"client-token-{i}") for i in range(8))


def fast(url: str, token: str, **kwargs: Any) -> FeedConfig:
    """A feed config with quick retries (the tests drop and kick connections)."""
    settings: dict[str, Any] = {
        "backoff_min": 0.05,
        "backoff_max": 0.3,
        "heartbeat": 1.0,
        "session_limit_retry": 0.3,
        "session_limit_max": 0.6,
        "ping_timeout": 3.0,
    }
    settings.update(kwargs)
    return FeedConfig(url=url, token=token, **settings)


@contextlib.asynccontextmanager
async def stack(
    rate: float = 2000.0, grace: float = 0.3, level: str = "L2", **faults: Any
) -> AsyncIterator[tuple[SimServer, Relay]]:
    config = SimConfig(rate=rate, tokens=(UP, DIRECT), faults=Faults(**faults))
    async with SimServer(config) as sim:
        relay_config = RelayConfig(
            upstream=fast(sim.endpoint(level), UP), clients=CLIENTS, port=0, grace=grace
        )
        async with Relay(relay_config) as relay:
            yield sim, relay


class Client:
    """A FeedClient and its Market, running until :meth:`stop`."""

    def __init__(self, url: str, token: str) -> None:
        self.market = Market(DecodeErrors())
        self.client = FeedClient(fast(url, token), self.market)
        self.task = asyncio.create_task(self.client.run())

    def subscribe(self, keys: Iterable[str], *, depth: bool = True, orders: bool = False) -> None:
        self.client.subscribe(keys, depth=depth, orders=orders)

    async def stop(self) -> None:
        await self.client.stop()
        await asyncio.wait_for(self.task, PATIENCE)


def relay_url(relay: Relay, level: str = "L2", conflate: float | None = None) -> str:
    url = relay.endpoint(level)
    return url if conflate is None else f"{url}?conflate={conflate:g}"


def picture(market: Market, keys: Iterable[str], *, touch: bool = False) -> dict[str, Any]:
    """Every key's typed values and order book: what a client ends up with."""
    market.sweep()
    out: dict[str, Any] = {}
    for key in keys:
        scrip = market.scrips.get(key)
        values = {} if scrip is None else dict(scrip.values)
        if touch:
            values = {k: v for k, v in values.items() if k not in DEPTH_ONLY}
        book = market.books.get(key)
        orders = {} if book is None else {oid: list(o) for oid, o in book.orders.items()}
        out[key] = (values, orders)
    return out


def differences(a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    """Human-readable differences between two pictures (empty: exactly the same)."""
    out = []
    for key in a.keys() | b.keys():
        va, oa = a.get(key, ({}, {}))
        vb, ob = b.get(key, ({}, {}))
        fields = sorted(n for n in va.keys() | vb.keys() if va.get(n) != vb.get(n))
        if fields:
            out.append(f"{key}: {[(n, va.get(n), vb.get(n)) for n in fields[:4]]}")
        if oa != ob:
            out.append(f"{key}: books differ ({len(oa)} vs {len(ob)} orders)")
    return out
