"""Faults on the bus, end to end: the simulator behind ``marketdesk publish``'s engine
(FeedPublisher), a real nats-server, NATS feed sources.  Every consumer ends exactly in
the publisher's own market state; nothing blocks."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest
from nats.aio.msg import Msg
from support.bus_consumer import Consumer, differences, until
from support.nats_server import NatsServer

from tui.bus.config import BusConfig
from tui.bus.standalone import FeedPublisher
from tui.feed.config import FeedConfig
from tui.sim.server import SimConfig, SimServer

pytestmark = pytest.mark.slow

KEYS = ["NSE|26000", "NSE|2885", "NSE|1333", "PSX|OGDC", "PSX|PPL", "PSX|MARI"]


@contextlib.asynccontextmanager
async def publishing(
    sim: SimServer, url: str, token: str = "t1", **kw: object
) -> AsyncIterator[FeedPublisher]:
    feed = FeedConfig(url=sim.endpoint("L2"), token=token)
    exch = kw.pop("exchanges_accept", None)
    accept = None if exch is None else (lambda key: key.startswith(f"{exch}|"))
    fp = FeedPublisher(feed, BusConfig(url=url), grace=1.0, accept=accept, **kw)  # type: ignore[arg-type]
    task = asyncio.create_task(fp.run())
    try:
        yield fp
    finally:
        await fp.stop()
        await asyncio.wait_for(task, timeout=10)


async def settled(
    sim: SimServer,
    pairs: list[tuple[FeedPublisher, Consumer]],
    keys: list[str],
    timeout: float = 30.0,
) -> None:
    """Stop the market, then every consumer must equal its publisher's market exactly."""
    sim.set_rate(0)

    def exact() -> bool:
        return all(
            not differences(fp.market, c.market, keys) and fp.market.scrips.keys() >= set(keys)
            for fp, c in pairs
        )

    try:
        await until(exact, timeout=timeout, what="every consumer exact")
    except AssertionError:
        for fp, c in pairs:
            print(
                "differs:",
                differences(fp.market, c.market, keys),
                c.source.stats,
                "unsynced",
                c.source.unsynced(),
                fp.publisher.stats,
            )
        raise


def sim_config(**kw: object) -> SimConfig:
    return SimConfig(seed=7, rate=1500.0, tokens=("t1", "t2"), **kw)  # type: ignore[arg-type]


async def test_consumer_before_publisher_then_nats_and_publisher_restarted(
    nats_server: NatsServer,
) -> None:
    # a consumer first: nobody publishes yet, it waits without blocking anyone
    async with (
        SimServer(sim_config()) as sim,
        Consumer(nats_server.url, KEYS, renew=1.0) as consumer,
    ):
        await until(lambda: consumer.source.health.state == "live", what="consumer up")
        async with publishing(sim, nats_server.url) as fp:
            # its interest reaches the publisher, which subscribes upstream
            await until(lambda: fp.interest.active >= set(KEYS), what="interest upstream")
            await until(
                lambda: (
                    not differences(fp.market, consumer.market, KEYS[:1]) and consumer.market.scrips
                ),
                what="data flowing",
            )
            # NATS dies mid-flow and comes back on the same port (memory store lost)
            nats_server.kill()
            await until(lambda: consumer.source.health.state == "backoff", what="seen down")
            await asyncio.sleep(0.3)  # the market moves on while NATS is down
            nats_server.start()
            await until(
                lambda: (
                    fp.publisher.stats.state == "live" and consumer.source.health.state == "live"
                ),
                timeout=30,
                what="both reconnected",
            )
            await until(lambda: fp.publisher.stats.store, what="store recreated")
            sim.set_rate(1500)
            await asyncio.sleep(0.5)
            await settled(sim, [(fp, consumer)], KEYS)
            assert consumer.source.health.reconnects >= 1
        # the publisher restarts: a new run, new sequences, the same consumer follows
        sim.set_rate(1500)
        async with publishing(sim, nats_server.url) as fp2:
            await until(lambda: fp2.interest.active >= set(KEYS), what="interest again")
            await asyncio.sleep(0.5)
            await settled(sim, [(fp2, consumer)], KEYS)
            assert len(consumer.source.publishers) >= 2
            assert fp2.publisher.epoch != fp.publisher.epoch
        assert consumer.market.errors.total == 0


async def test_interest_is_dropped_upstream_after_the_grace(nats_server: NatsServer) -> None:
    async with (
        SimServer(sim_config()) as sim,
        publishing(sim, nats_server.url) as fp,
        Consumer(nats_server.url, KEYS[:2], renew=1.0) as a,
    ):
        async with Consumer(nats_server.url, KEYS[1:3], renew=1.0):
            await until(lambda: fp.interest.active >= set(KEYS[:3]), what="both upstream")
            assert fp.interest.refcount(KEYS[1]) == 2
        # b left (bye): its own scrip goes after the grace, the shared one stays
        await until(lambda: KEYS[2] not in fp.interest.active, timeout=10, what="dropped")
        assert KEYS[1] in fp.interest.active and fp.interest.refcount(KEYS[1]) == 1
        assert KEYS[2] not in fp.market.scrips  # unsubscribed upstream: forgotten
        await settled(sim, [(fp, a)], KEYS[:2])


async def test_two_publishers_one_bus_one_consumer_sees_both(nats_server: NatsServer) -> None:
    nse, psx = [k for k in KEYS if k.startswith("NSE")], [k for k in KEYS if k.startswith("PSX")]
    async with (
        SimServer(sim_config()) as sim,
        publishing(sim, nats_server.url, "t1", exchanges_accept="NSE") as a,
        publishing(sim, nats_server.url, "t2", exchanges_accept="PSX") as b,
        Consumer(nats_server.url, KEYS, renew=1.0) as consumer,
    ):
        await until(
            lambda: a.interest.active == set(nse) and b.interest.active == set(psx),
            what="each relay takes its own exchange",
        )
        await asyncio.sleep(0.5)
        await settled(sim, [(a, consumer)], nse)
        await settled(sim, [(b, consumer)], psx)
        assert len(consumer.source.publishers) == 2


async def test_the_feed_token_never_reaches_nats(nats_server: NatsServer) -> None:
    """Everything published on the bus, control subjects included, is searched for it."""
    import nats

    secret = "feed-token-zq81-never-on-the-bus"
    seen: list[bytes] = []
    spy = await nats.connect(nats_server.url)

    async def keep(msg: Msg) -> None:
        seen.append(msg.subject.encode() + msg.data)

    await spy.subscribe(">", cb=keep)
    await spy.flush()
    config = SimConfig(seed=7, rate=1500.0, tokens=(secret,))
    async with (
        SimServer(config) as sim,
        publishing(sim, nats_server.url, secret, keys=KEYS, orders=True) as fp,
        Consumer(nats_server.url, KEYS, renew=1.0) as consumer,
    ):
        await until(
            lambda: consumer.market.scrips.keys() >= set(KEYS) and len(seen) > 200,
            what="data on the bus",
        )
        await settled(sim, [(fp, consumer)], KEYS)
    await spy.close()
    blob = b"\n".join(seen)
    assert b"mdctl.want" in blob and b"md2." in blob  # the spy saw the whole conversation
    assert secret.encode() not in blob


async def test_consumers_are_told_the_upstream_state(
    nats_server: NatsServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A quiet scrip is not a feed that is down, nor a publisher that is gone."""
    import tui.bus.source as source_module

    monkeypatch.setattr(source_module, "STATUS_FRESH", 1.0)
    async with SimServer(sim_config()) as sim, Consumer(nats_server.url, KEYS[:1]) as consumer:
        assert consumer.source.upstream() == ""  # nobody heard from yet
        async with publishing(sim, nats_server.url) as fp:
            await until(lambda: consumer.source.upstream() == "live", what="live")
            sim.kick("t1")  # the feed throws the publisher out: a slow retry follows
            await until(
                lambda: consumer.source.upstream() == "session-limit",
                what="told of the session limit",
            )
            assert consumer.source.health.upstream == "session-limit"  # the health pane's
            assert fp.client.health.state == "session-limit"
        await until(lambda: consumer.source.upstream() == "silent", what="publisher gone")
