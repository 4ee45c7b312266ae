"""The relay behind ``bench/fastfeed.py`` (the 50,000 msgs/s upstream of ``bench/relay.py``):
the stream stays exact when a subscription arrives mid-stream and when it loops, for a
tick-by-tick client and a conflated one."""

from __future__ import annotations

import asyncio
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from support.relay_stack import CLIENTS, Client, differences, fast, picture, relay_url
from support.waiting import until

from tui.relay.server import Relay, RelayConfig
from tui.server.config import ServerConfig
from tui.server.server import ProtocolServer

T = [token for _, token in CLIENTS]


def fastfeed() -> ModuleType:
    """``bench/fastfeed.py`` as a module (bench/ is no package)."""
    name = "bench_fastfeed"
    if name not in sys.modules:
        path = Path(__file__).resolve().parents[2] / "bench" / "fastfeed.py"
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


async def test_a_subscription_mid_stream_and_the_loop_keep_every_client_exact() -> None:
    ff = fastfeed()
    feed = ff.FastFeed(messages=6000, rate=4000.0)
    config = ServerConfig(users=(("BENCH", ff.TOKEN),), max_sessions=4)
    async with ProtocolServer(config, feed) as source:
        feed.server = source
        relay_config = RelayConfig(
            upstream=fast(source.endpoint("L2"), ff.TOKEN), clients=CLIENTS, port=0, grace=30
        )
        async with Relay(relay_config) as relay:
            keys = list(feed.keys)
            tick = Client(relay_url(relay), T[0])
            tick.subscribe(keys, orders=True)
            desk = Client(relay_url(relay, conflate=20), T[1])
            desk.subscribe(keys, orders=True)
            await until(lambda: tick.client.health.messages > 3000, 60, "the stream going")
            # a scrip nobody held yet: a new upstream subscription, mid-stream
            late = Client(relay_url(relay, conflate=10), T[2])
            late.subscribe([ff.MARKER, *keys[:5]], orders=True)
            sent = feed.sent
            await until(lambda: feed.sent > sent + len(feed.frames), 60, "the stream to loop")
            feed.rate = 0  # quiet: every client must now hold the relay's picture
            want = picture(relay.cache, keys)

            def exact(c: Client, ks: list[str]) -> bool:
                nonlocal want
                want = picture(relay.cache, keys)
                return not differences(picture(c.market, ks), {k: want[k] for k in ks})

            for c, ks in ((tick, keys), (desk, keys), (late, keys[:5])):
                await until(
                    lambda c=c, ks=ks: exact(c, ks), 30, "a client to hold the relay's picture"
                )
            for market in (relay.cache, tick.market, desk.market, late.market):
                assert market.errors.total == 0, list(market.errors.samples)[:3]
                assert not any(book.gap for book in market.books.values())
            assert all(want[k][1] for k in keys if k in relay.cache.books)  # books, not empty
            for c in (tick, desk, late):
                await c.stop()
            await asyncio.sleep(0)
