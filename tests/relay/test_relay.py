"""The relay end to end: the simulator behind it, real clients in front (docs/RELAY.md).

Exactness is checked against a direct client of the same simulator: once the market
stops, every relay client must hold exactly what the direct one holds.
"""

from __future__ import annotations

import asyncio
import json
import logging

import pytest
from support.relay_stack import CLIENTS, DIRECT, UP, Client, differences, picture, relay_url, stack
from support.sim_client import Replica
from support.waiting import until
from websockets.asyncio.client import connect

from tui.relay import fanout

pytestmark = pytest.mark.slow
T = [token for _, token in CLIENTS]


def stocks(sim, n: int) -> list[str]:
    return [i.key for i in sim.instruments if not i.index][:n]


async def settle(sim, *clients: Client, direct: Client) -> None:
    """Stop the market and wait until every client holds exactly the direct one's picture."""
    await asyncio.sleep(0.3)
    sim.set_rate(0)
    keys = list(direct.client.subscriptions.depth)

    def same() -> bool:
        want = picture(direct.market, keys)
        return all(not differences(picture(c.market, keys), want) for c in clients)

    try:
        await until(same, 15, "every relay client to match the direct one")
    except AssertionError:
        want = picture(direct.market, keys)
        for c in clients:
            print(differences(picture(c.market, keys), want)[:5])
        raise


async def test_clients_joining_and_leaving_mid_stream_end_exactly_as_a_direct_client() -> None:
    async with stack(rate=3000.0) as (sim, relay):
        keys = stocks(sim, 12)
        direct = Client(sim.endpoint("L2"), DIRECT)
        direct.subscribe(keys, orders=True)
        first = Client(relay_url(relay), T[0])
        first.subscribe(keys, orders=True)
        conflated = Client(relay_url(relay, conflate=20), T[1])
        conflated.subscribe(keys, orders=True)
        await until(lambda: first.client.health.messages > 300, 10)
        late = Client(relay_url(relay), T[2])  # joins mid-flood
        late.subscribe(keys, orders=True)
        leaver = Client(relay_url(relay), T[3])
        leaver.subscribe(keys[:6], orders=True)
        await until(lambda: late.client.health.messages > 300, 10)
        leaver.client.unsubscribe(keys[:6])  # one client's unsubscribe ...
        await asyncio.sleep(0.2)
        leaver.subscribe(keys, orders=True)  # ... and it comes back to all of them
        await asyncio.sleep(0.5)
        assert first.client.health.refused == 0
        await settle(sim, first, conflated, late, leaver, direct=direct)
        assert sim.max_connections(UP) == 1
        # (not the leaver: messages in flight when it unsubscribed meet a forgotten book)
        for name, c in (
            ("first", first),
            ("conflated", conflated),
            ("late", late),
            ("direct", direct),
        ):
            assert c.market.errors.total == 0, (name, c.market.errors.samples)
        for c in (first, conflated, late, leaver, direct):
            await c.stop()


async def test_a_touchline_client_of_a_scrip_others_take_as_depth_gets_the_touchline() -> None:
    async with stack(rate=3000.0) as (sim, relay):
        keys = stocks(sim, 6)
        direct = Client(sim.endpoint("L2"), DIRECT)
        direct.subscribe(keys)
        deep = Client(relay_url(relay), T[0])
        deep.subscribe(keys)
        touch = Client(relay_url(relay, "L1"), T[1])
        touch.subscribe(keys, depth=False)
        await until(lambda: touch.client.health.messages > 200, 10)
        sim.set_rate(0)

        def same() -> bool:
            want = picture(direct.market, keys, touch=True)
            return not differences(picture(touch.market, keys), want)

        await until(same, 15, "the touchline client to match")
        assert all(
            set(v) and not any(n.startswith(("bp2", "sp5")) for n in v)
            for v, _ in picture(touch.market, keys).values()
        )
        for c in (direct, deep, touch):
            await c.stop()


async def test_one_upstream_connection_whatever_the_clients_and_the_union_of_subscriptions() -> (
    None
):
    async with stack() as (sim, relay):
        keys = stocks(sim, 4)
        clients = [Client(relay_url(relay), token) for token in T[:6]]
        for i, c in enumerate(clients):
            c.subscribe(keys[i % 4 : i % 4 + 1], orders=i % 2 == 0)
        await until(lambda: all(c.client.health.messages > 5 for c in clients), 10)
        assert sim.connections(UP) == 1 and sim.max_connections(UP) == 1
        assert set(keys) <= sim.subs["d"].keys()
        assert {keys[0], keys[2]} <= sim.subs["l"].keys()
        assert relay.upstream.health.connections_used == 1
        for c in clients:
            await c.stop()


async def test_an_unsubscribe_never_removes_another_clients_data_and_the_last_one_out_leaves_after_the_grace() -> (
    None
):
    async with stack(grace=0.5) as (sim, relay):
        key = stocks(sim, 1)[0]
        a, b = Client(relay_url(relay), T[0]), Client(relay_url(relay), T[1])
        a.subscribe([key])
        b.subscribe([key])
        await until(lambda: b.client.health.messages > 10, 10)
        a.client.unsubscribe([key])
        seen = b.client.health.messages
        await until(lambda: b.client.health.messages > seen + 20, 10, "b keeps its data")
        await asyncio.sleep(0.8)  # past the grace: b still wants it
        assert key in sim.subs["d"]
        b.client.unsubscribe([key])
        await until(lambda: key not in sim.subs["d"], 5, "the upstream unsubscribed")
        assert relay.interest.unsubscribed == 1
        for c in (a, b):
            await c.stop()


async def test_upstream_drop_and_kick_while_clients_are_attached() -> None:
    async with stack(rate=2000.0) as (sim, relay):
        keys = stocks(sim, 6)
        direct = Client(sim.endpoint("L2"), DIRECT)
        direct.subscribe(keys, orders=True)
        desk = Client(relay_url(relay), T[0])
        desk.subscribe(keys, orders=True)
        conflated = Client(relay_url(relay, conflate=5), T[1])
        conflated.subscribe(keys, orders=True)
        await until(lambda: desk.client.health.upstream == "live", 10)
        sessions = relay.upstream.health.sessions
        assert sim.drop_all() >= 2  # the relay's upstream and the direct client
        await until(
            lambda: (
                desk.client.health.upstream == "reconnecting"
                or relay.upstream.health.sessions > sessions
            ),
            10,
        )
        await until(lambda: relay.upstream.health.sessions > sessions, 10, "upstream back")
        await until(lambda: desk.client.health.upstream == "live", 10)
        assert desk.client.health.reconnects == 0  # the desk stayed attached to the relay
        sessions = relay.upstream.health.sessions
        assert sim.kick(UP) == 1  # the upstream session taken over: the clients stay
        await until(lambda: desk.client.health.upstream == "session-limit", 10)
        assert desk.client.health.state == "live"
        await until(lambda: relay.upstream.health.sessions > sessions, 10, "upstream back")
        await until(lambda: desk.client.health.upstream == "live", 10)
        await settle(sim, desk, conflated, direct=direct)
        assert sim.max_connections(UP) == 1
        for c in (desk, conflated):
            assert c.market.errors.total == 0, c.market.errors.samples
            await c.stop()
        await direct.stop()


async def test_a_slow_client_is_told_merged_and_bounded_while_the_others_are_unaffected(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(fanout, "BEHIND_BYTES", 32 * 1024)
    monkeypatch.setattr(fanout, "CAUGHT_UP_BYTES", 8 * 1024)
    async with stack(rate=20000.0) as (sim, relay):
        keys = stocks(sim, 20)
        direct = Client(sim.endpoint("L2"), DIRECT)
        direct.subscribe(keys, orders=True)
        fast_one = Client(relay_url(relay), T[0])
        fast_one.subscribe(keys, orders=True)
        slow = await connect(
            relay_url(relay), additional_headers={"Authorization": f"Bearer {T[1]}"}, max_queue=1
        )
        replica = Replica()
        replica.feed(await slow.recv())
        await slow.send(json.dumps({"t": "d", "k": "#".join(keys)}))
        await slow.send(json.dumps({"t": "l", "k": "#".join(keys)}))
        await until(
            lambda: any(s.stream and s.stream.behind for s in relay.sessions),
            20,
            "the slow client to fall behind",
        )
        stream = next(s.stream for s in relay.sessions if s.stream and s.stream.behind)
        held = len(stream.prices.keys() | stream.l2.keys())
        assert held <= len(keys)
        moving = fast_one.client.health.messages
        await until(lambda: fast_one.client.health.messages > moving + 1000, 10, "fast keeps going")
        # a loaded machine may reach "behind" before a second delta of one scrip arrives
        await until(lambda: stream.merged > 0, 30, "the slow client's deltas merged per scrip")
        told = []
        sim.set_rate(2000)
        async with asyncio.timeout(30):  # read it all: behind, then caught-up
            while "caught-up" not in told:
                msg = replica.feed(await slow.recv())
                if msg is not None and msg["t"] == "st":
                    told.append(msg["s"])
        assert told[:2] == ["upstream", "behind"] or told.index("behind") < told.index("caught-up")
        assert stream.merged > 0
        sim.set_rate(0)
        await until(
            lambda: not differences(picture(fast_one.market, keys), picture(direct.market, keys)),
            15,
            "the fast client to match the direct one",
        )
        async with asyncio.timeout(60):  # read until the slow one holds the same picture
            while differences(picture(replica.market, keys), picture(direct.market, keys)):
                replica.feed(await slow.recv())
        assert not differences(picture(replica.market, keys), picture(direct.market, keys))
        assert replica.errors.total == 0, replica.errors.samples
        await slow.close()
        await fast_one.stop()
        await direct.stop()


async def test_the_upstream_token_never_reaches_a_client_a_page_or_the_log(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    async with stack() as (sim, relay):
        keys = stocks(sim, 3)
        ws = await connect(relay_url(relay), additional_headers={"Authorization": f"Bearer {T[0]}"})
        frames = [await ws.recv()]
        await ws.send(json.dumps({"t": "d", "k": "#".join(keys) + "#NOPE|1"}))
        # the upstream token is no client token
        other = await connect(relay_url(relay))
        await other.send(json.dumps({"t": "c", "uid": "x", "actid": "x", "susertoken": UP}))
        refused = json.loads(await other.recv())
        assert refused["s"] == "NOT_OK" and UP not in json.dumps(refused)
        for _ in range(100):
            frames.append(await ws.recv())
        sim.kick(UP)
        await asyncio.sleep(0.5)
        frames += [await ws.recv() for _ in range(5)]
        http = relay.http
        pages = [json.dumps(http.health())]
        from prometheus_client import generate_latest

        pages.append(generate_latest(http.registry).decode())
        errors = [m for m in map(json.loads, frames) if m["t"] == "er"]
        assert {"t": "er", "emsg": "unknown scrip", "k": "NOPE|1"} in errors  # the feed's own
        assert all(UP not in str(f) for f in frames)
        assert all(UP not in p for p in pages)
        assert UP not in caplog.text
        ours = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("tui"))
        assert T[0] not in ours  # nor a client's (websockets logs headers at DEBUG)
        assert UP not in repr(relay.config) and UP not in repr(relay.upstream)
        await ws.close()


async def test_a_held_backlog_is_never_released_ahead_of_a_resync() -> None:
    """A stalled connection drops its queued data and starts again from fresh snapshots;
    a conflated client's backlog released meanwhile must not go out before them (its
    deltas would meet a book that never had their orders: "cancel of unknown order")."""
    async with stack(rate=3000.0) as (sim, relay):
        keys = stocks(sim, 12)
        direct = Client(sim.endpoint("L2"), DIRECT)
        direct.subscribe(keys, orders=True)
        conflated = Client(relay_url(relay, conflate=20), T[0])
        conflated.subscribe(keys, orders=True)
        behind = Client(relay_url(relay), T[1])
        behind.subscribe(keys, orders=True)
        await until(lambda: conflated.client.health.messages > 300, 10)
        for s in relay.sessions:  # the tick-by-tick one held too, as when it falls behind
            if s.stream is not None and s.stream.period is None:
                s.stream.held = s.stream.behind = True
        assert relay.stall(1.0, pongs=True) == 2
        seen = conflated.client.health.messages
        await until(
            lambda: conflated.client.health.messages > seen + 300, 15, "data after the stall"
        )
        await settle(sim, conflated, behind, direct=direct)
        for name, c in (("conflated", conflated), ("behind", behind)):
            assert c.market.errors.total == 0, (name, list(c.market.errors.samples)[:3])
        for c in (conflated, behind, direct):
            await c.stop()


async def test_conflated_clients_of_one_rate_share_a_backlog_and_a_stalled_one_catches_up_with_snapshots(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """One merge per rate, not per client (``tui.relay.cohort``); a member whose socket is
    full at a release misses it and gets fresh snapshots at the next it can take."""
    monkeypatch.setattr(fanout, "BEHIND_BYTES", 16 * 1024)
    async with stack(rate=20000.0) as (sim, relay):
        keys = stocks(sim, 20)
        direct = Client(sim.endpoint("L2"), DIRECT)
        direct.subscribe(keys, orders=True)
        reader = Client(relay_url(relay, conflate=10), T[0])
        reader.subscribe(keys, orders=True)
        stalled = await connect(
            relay_url(relay, conflate=10),
            max_queue=1,
            additional_headers={"Authorization": f"Bearer {T[1]}"},
        )
        replica = Replica()
        replica.feed(await stalled.recv())
        await stalled.send(json.dumps({"t": "d", "k": "#".join(keys)}))
        await stalled.send(json.dumps({"t": "l", "k": "#".join(keys)}))
        await until(
            lambda: (
                len(relay.fanout.cohorts) == 1
                and len(next(iter(relay.fanout.cohorts.values())).members) == 2
            ),
            10,
        )
        # it reads nothing: its socket fills and it misses releases
        await until(
            lambda: any(s.stream and s.stream.stale for s in relay.sessions),
            30,
            "the stalled member to miss a release",
        )
        moving = reader.client.health.messages
        await until(
            lambda: reader.client.health.messages > moving + 200, 15, "the other keeps going"
        )
        sim.set_rate(0)
        await until(
            lambda: not differences(picture(reader.market, keys), picture(direct.market, keys)),
            15,
            "the reading member to match the direct client",
        )
        async with asyncio.timeout(60):  # it reads again: snapshots, then the same picture
            while differences(picture(replica.market, keys), picture(direct.market, keys)):
                replica.feed(await stalled.recv())
        assert replica.errors.total == 0, replica.errors.samples
        assert reader.market.errors.total == 0, reader.market.errors.samples
        [s] = [s for s in relay.sessions if s.authed and s.token == T[1]]
        assert s.stream.resynced >= 1 and not s.stream.stale
        await stalled.close()
        await reader.stop()
        await direct.stop()
