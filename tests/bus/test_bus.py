"""The bus end to end on a real nats-server: a publisher fed a seeded market, consumers
(NATS feed sources with their own markets) ending exactly in the state of a market fed
the same messages directly."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from support.bus_consumer import Consumer, differences, stream, until
from support.nats_server import NatsServer, running_nats

from tui.bus import subjects as sj
from tui.bus import wire
from tui.bus.config import BusConfig
from tui.bus.interest import Interest
from tui.bus.publisher import Publisher
from tui.bus.source import NatsSource
from tui.market.store import Market
from tui.sim.market import SimMarket
from tui.wire.frames import DecodeErrors


class Feed:
    """A seeded market feeding a publisher and a reference market alike."""

    def __init__(self, publisher: Publisher, seed: int = 5) -> None:
        self.sim = SimMarket(seed=seed)
        self.keys = self.sim.keys
        self.reference = Market(DecodeErrors())
        self.publisher = publisher
        self.steps = 0

    def send(self, msgs: list[dict[str, Any]]) -> None:
        for msg in msgs:
            self.reference.apply(msg)
            self.publisher.add(msg)

    def snapshot(self) -> None:
        self.send(self.sim.snapshot_messages(self.keys, orders=True))

    async def run(self, steps: int, chunk: int = 50) -> None:
        """``steps`` market steps, a chunk at a time with the loop let run in between."""
        for _ in range(0, steps, chunk):
            self.send(list(stream(self.sim, chunk, start=self.steps)))
            self.steps += chunk
            await asyncio.sleep(0.002)


async def exact(
    consumers: list[Consumer], feed: Feed, timeout: float = 20.0, keys: list[str] | None = None
) -> None:
    keys = keys or feed.keys
    try:
        await until(
            lambda: all(not differences(feed.reference, c.market, keys) for c in consumers),
            timeout=timeout,
            what="every consumer exact",
        )
    except AssertionError:
        for c in consumers:
            diff = differences(feed.reference, c.market, keys)
            print(c.source.id, "differs on", diff, "unsynced", c.source.unsynced(), c.source.stats)
        raise


async def test_late_joiner_is_exact(nats_server: NatsServer) -> None:
    pub = Publisher(BusConfig(url=nats_server.url), state_every=0.2)
    feed = Feed(pub)
    await pub.start()
    await until(lambda: pub.stats.store, what="the last-value store")
    async with Consumer(nats_server.url, feed.keys) as early:
        await until(lambda: len(early.source._subs) == len(feed.keys), what="subscribed")
        feed.snapshot()
        await feed.run(1500)
        async with Consumer(nats_server.url, feed.keys) as late:  # joins mid-flow
            await feed.run(1500)
            await exact([early, late], feed)
            assert late.source.stats["states"] > 0  # it started from the store/snapshots
            assert early.market.errors.total == late.market.errors.total == 0
        # a consumer joining when the flow has stopped reads the store alone
        async with Consumer(nats_server.url, feed.keys) as quiet:
            await exact([quiet], feed)
            assert quiet.source.stats["batches"] == 0
    await pub.stop()


async def test_a_lost_batch_is_healed_by_a_fresh_snapshot(nats_server: NatsServer) -> None:
    # states at most once a second: the heal of a gap comes from the consumer's request
    pub = Publisher(BusConfig(url=nats_server.url), state_every=1.0)
    feed = Feed(pub)
    real_publish = pub._publish
    lost: list[str] = []

    async def lossy(subject: str, payload: bytes) -> None:
        # lose every 40th delta batch once the consumer is in sync: NATS is at-most-once
        if subject.startswith(("md.", "md2.")) and pub.stats.batches % 40 == 39:
            lost.append(subject)
            return
        await real_publish(subject, payload)

    await pub.start()
    async with Consumer(nats_server.url, feed.keys) as consumer:
        await until(lambda: len(consumer.source._subs) == len(feed.keys), what="subscribed")
        feed.snapshot()
        await until(lambda: not consumer.source.unsynced(), what="in sync")
        pub._publish = lossy  # type: ignore[method-assign]
        await feed.run(2000)
        pub._publish = real_publish  # type: ignore[method-assign]
        await exact([consumer], feed)
        assert lost and consumer.source.stats["gaps"] > 0
        assert consumer.source.stats["snap_requests"] > 0
    await pub.stop()


async def test_without_jetstream_snapshots_come_on_request() -> None:
    with running_nats(jetstream=False) as server:
        pub = Publisher(BusConfig(url=server.url), state_every=60.0)
        feed = Feed(pub)
        await pub.start()
        await until(lambda: pub.stats.state == "live", what="connected")
        feed.snapshot()
        await feed.run(300)
        async with Consumer(server.url, feed.keys) as consumer:
            await feed.run(300)
            await exact([consumer], feed)
        assert not pub.stats.store
        await pub.stop()


def _certificates(tmp: Path) -> tuple[Path, Path, Path]:
    """A throw-away CA and a server certificate for 127.0.0.1 (trustme)."""
    import trustme

    ca = trustme.CA()
    server = ca.issue_cert("127.0.0.1")
    paths = tmp / "ca.pem", tmp / "server.pem", tmp / "server.key"
    ca.cert_pem.write_to_path(str(paths[0]))
    server.cert_chain_pems[0].write_to_path(str(paths[1]))
    server.private_key_pem.write_to_path(str(paths[2]))
    return paths


async def test_tls_to_nats(tmp_path: Path) -> None:
    ca, cert, key = _certificates(tmp_path)
    with running_nats(args=("--tls", "--tlscert", str(cert), "--tlskey", str(key))) as server:
        url = f"tls://127.0.0.1:{server.port}"
        pub = Publisher(BusConfig(url=url, ca_file=str(ca)), state_every=0.2)
        feed = Feed(pub)
        await pub.start()
        await until(lambda: pub.stats.state == "live", what="publisher over TLS")
        feed.snapshot()
        await feed.run(200)
        market = Market(DecodeErrors())
        async with Consumer(url, feed.keys, ca_file=str(ca)) as consumer:
            await exact([consumer], feed)
        # a server the client cannot verify is never talked to
        untrusting = NatsSource(BusConfig(url=url), market)
        task = asyncio.create_task(untrusting.run())
        await asyncio.wait_for(task, timeout=20)  # a verdict: not retried
        assert "CERTIFICATE" in untrusting.health.last_error.upper()
        assert untrusting.health.state == "failed" and untrusting.health.failure == "tls"
        await pub.stop()


async def test_garbage_on_the_bus_is_counted_and_changes_nothing(nats_server: NatsServer) -> None:
    import nats

    wanted: list[list[str]] = []
    interest = Interest(lambda keys, orders: wanted.append(keys), lambda keys: None)
    pub = Publisher(BusConfig(url=nats_server.url), state_every=0.2, interest=interest)
    feed = Feed(pub)
    await pub.start()
    async with Consumer(nats_server.url, feed.keys[:5]) as consumer:
        await until(lambda: len(consumer.source._subs) == 5, what="subscribed")
        feed.snapshot()
        await feed.run(200)
        await exact([consumer], feed, keys=feed.keys[:5])
        key = feed.keys[3]
        subject = sj.key_subject(sj.L1_DELTAS, key)
        nc = await nats.connect(nats_server.url)
        junk = [
            b"not json",
            b"[1,2]",
            b'{"e": "x", "q": "one", "m": []}',
            b'{"e": "x", "q": 1, "m": []}',
            wire.encode(wire.Batch("x", 1, [{"t": "df", "e": "OTHER", "tk": "1", "lp": "1"}])),
            wire.encode(
                wire.Batch("x", 1, [{"t": "lo", "e": key.split("|")[0], "tk": key.split("|")[1]}])
            ),  # L2 on the L1 subject
            b"\xff" * 100,
        ]
        for payload in junk:
            await nc.publish(subject, payload)
        for payload in (b"{", b'{"id": 5}', b'{"id": "\\u0000pinned", "k": ["A|1"]}'):
            await nc.publish(sj.WANT, payload)
        await nc.publish(sj.SNAP, b"[]")
        await nc.flush()
        await until(lambda: consumer.market.errors.total >= len(junk), what="all counted")
        await until(lambda: pub.stats.bad >= 4, what="control junk counted")
        assert "A|1" not in interest.active and set(feed.keys[:5]) <= interest.active
        await feed.run(200)
        await exact([consumer], feed, keys=feed.keys[:5])  # nothing good was lost
        await nc.close()
    await pub.stop()
