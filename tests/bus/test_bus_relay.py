"""``marketdesk relay --publish``: the relay's merged stream onto a real nats-server.

The simulator behind the relay; NATS consumers and a WebSocket client of the relay side by
side; every NATS consumer ends exactly in the relay's own merged state; the interest of
both kinds of client keeps a scrip upstream; the relay restarted and NATS restarted."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest
from support.bus_consumer import Consumer, differences, until
from support.nats_server import NatsServer

from tui.bus.config import BusConfig
from tui.feed.client import FeedClient
from tui.feed.config import FeedConfig
from tui.market.store import Market
from tui.relay.bus import RelayBus
from tui.relay.server import Relay, RelayConfig
from tui.sim.config import SimConfig
from tui.sim.server import SimServer
from tui.wire.frames import DecodeErrors

pytestmark = pytest.mark.slow

UPSTREAM, CLIENT = "upstream-token-4d2e", "client-token-88aa"
KEYS = ["NSE|26000", "NSE|2885", "PSX|OGDC", "PSX|PPL"]


@contextlib.asynccontextmanager
async def relaying(sim: SimServer, nats_url: str) -> AsyncIterator[tuple[Relay, RelayBus]]:
    config = RelayConfig(
        upstream=FeedConfig(url=sim.endpoint("L2"), token=UPSTREAM),
        clients=(("CLIENT", CLIENT),),
        port=0,
        grace=0.5,
    )
    relay = Relay(config)
    bus = RelayBus(relay, BusConfig(url=nats_url))
    async with relay:
        await bus.start()
        try:
            yield relay, bus
        finally:
            await bus.stop()


async def settled(sim: SimServer, relay: Relay, consumers: list[Consumer], keys: list[str]) -> None:
    sim.set_rate(0)
    try:
        await until(
            lambda: (
                all(not differences(relay.cache, c.market, keys) for c in consumers)
                and relay.cache.scrips.keys() >= set(keys)
            ),
            timeout=30,
            what="exact",
        )
    except AssertionError:
        for c in consumers:
            print(differences(relay.cache, c.market, keys), c.source.stats, c.source.unsynced())
        raise
    sim.set_rate(1500)


async def test_relay_publishes_what_nats_consumers_want(nats_server: NatsServer) -> None:
    sim_config = SimConfig(seed=11, rate=1500.0, tokens=(UPSTREAM,))
    async with (
        SimServer(sim_config) as sim,
        Consumer(nats_server.url, KEYS, renew=1.0) as early,  # before the relay
        relaying(sim, nats_server.url) as (relay, bus),
    ):
        await until(lambda: bus.interest.active >= set(KEYS), what="interest reached")
        assert sim.connections(UPSTREAM) == 1  # one upstream whatever the clients
        # a WebSocket client of the relay shares a scrip with the bus
        market = Market(DecodeErrors())
        ws = FeedClient(FeedConfig(url=relay.endpoint("L2"), token=CLIENT), market)
        ws.subscribe(KEYS[:1], depth=True)
        ws_task = asyncio.create_task(ws.run())
        async with Consumer(nats_server.url, KEYS) as late:
            await asyncio.sleep(0.5)
            await settled(sim, relay, [early, late], KEYS)
            # the NATS consumers never saw the upstream token nor the client token
            assert early.market.errors.total == late.market.errors.total == 0
        await early.source.stop()  # every NATS consumer gone ...
        await until(lambda: not bus.interest.active, what="bus interest gone")
        await asyncio.sleep(1.0)  # ... past the relay's grace
        upstream = relay.upstream.subscriptions
        assert KEYS[0] in upstream.depth  # still wanted by the WebSocket client
        assert KEYS[1] not in upstream.depth  # wanted by nobody: dropped upstream
        await ws.stop()
        await ws_task


async def test_relay_and_nats_restarted(nats_server: NatsServer) -> None:
    sim_config = SimConfig(seed=12, rate=1500.0, tokens=(UPSTREAM,))
    async with SimServer(sim_config) as sim, Consumer(nats_server.url, KEYS, renew=1.0) as c:
        async with relaying(sim, nats_server.url) as (relay, bus):
            await until(lambda: bus.interest.active >= set(KEYS), what="interest reached")
            await settled(sim, relay, [c], KEYS)
            nats_server.kill()
            await asyncio.sleep(0.3)
            nats_server.start()
            await until(
                lambda: (
                    bus.publisher.stats.state == "live"
                    and bus.publisher.stats.store
                    and c.source.health.state == "live"
                ),
                timeout=30,
                what="reconnected",
            )
            await asyncio.sleep(0.3)
            await settled(sim, relay, [c], KEYS)
        async with relaying(sim, nats_server.url) as (relay2, bus2):  # a new relay run
            await until(lambda: bus2.interest.active >= set(KEYS), what="interest again")
            await asyncio.sleep(0.3)
            await settled(sim, relay2, [c], KEYS)
            assert bus2.publisher.epoch != bus.publisher.epoch
            assert c.source.upstream() == "live"


async def test_a_scrip_the_relay_already_holds_goes_onto_the_bus_from_its_cache(
    nats_server: NatsServer,
) -> None:
    """Only what NATS consumers want is published; a scrip a WebSocket client already
    holds starts on the bus from the relay's full state, not from mid-stream deltas."""
    sim_config = SimConfig(seed=13, rate=1500.0, tokens=(UPSTREAM,))
    async with SimServer(sim_config) as sim, relaying(sim, nats_server.url) as (relay, bus):
        market = Market(DecodeErrors())
        ws = FeedClient(FeedConfig(url=relay.endpoint("L2"), token=CLIENT), market)
        ws.subscribe(KEYS, depth=True, orders=True)
        ws_task = asyncio.create_task(ws.run())
        await until(lambda: market.scrips.keys() >= set(KEYS), what="the WebSocket client fed")
        await asyncio.sleep(0.5)
        assert bus.publisher.stats.messages == 0  # nobody on the bus wants anything yet
        async with Consumer(nats_server.url, KEYS[2:]) as consumer:
            await settled(sim, relay, [consumer], KEYS[2:])
            assert consumer.source.stats["gaps"] == 0
        assert set(bus._publishing) <= set(KEYS[2:])
        await ws.stop()
        await ws_task
