"""FeedClient against a small in-test Noren-style server (websockets.asyncio.server).

Covers the auth modes, close codes, ck handling, replay, one-connection-per-token and
secrets.  The reconnect policy is in test_client_retry.py; the end-to-end tests against
the real simulator are in test_client_sim.py.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time

import pytest
from support.fake_feed import FakeFeed, Harness, client_for, new_token, running
from support.waiting import PATIENCE, until

from tui.feed import sessions
from tui.feed.client import FeedClient, SessionInUse
from tui.feed.config import FeedConfig
from tui.market.store import Market


@pytest.mark.parametrize("auth", ["header", "query", "connect"])
async def test_auth_modes_go_live_and_replay_remembered_subscriptions(auth):
    feed = FakeFeed(new_token())
    async with feed.running():
        client = client_for(feed, auth=auth)
        client.subscribe(["NSE|1", "NSE|2"])  # before run: remembered
        client.subscribe(["NSE|3"], depth=False, orders=True)
        async with running(client) as h:
            await until(lambda: h.state == "live" and "NSE|3" in client.market.books)
            assert feed.got("d") == ["NSE|1", "NSE|2"]
            assert feed.got("t") == ["NSE|3"] and feed.got("l") == ["NSE|3"]
            assert set(client.market.scrips) == {"NSE|1", "NSE|2", "NSE|3"}
            health = client.health
            assert health.level == "L1" and health.connections_used == 1
            assert health.connected_since is not None and health.subscriptions == 3
            assert feed.token not in health.endpoint
            if auth == "query":
                assert health.endpoint.endswith("?token=<redacted>")
            if auth == "connect":
                hello = feed.received[0]
                assert hello["t"] == "c" and hello["susertoken"] == feed.token
                assert hello["uid"] == "marketdesk"
            client.subscribe(["NSE|4"])  # while live: sent at once
            await until(lambda: "NSE|4" in feed.got("d"))
            assert h.kinds() == ["connected"]
        assert client.health.state == "stopped" and client.health.connections_used == 0


# ------------------------------------------------------------------------- auth failure


@pytest.mark.parametrize("status", [401, 403])
async def test_rejected_upgrade_is_auth_failed_without_retry(status):
    feed = FakeFeed(new_token())
    feed.reject_status = status
    async with feed.running():
        client = client_for(feed)
        h = Harness(client)
        await asyncio.wait_for(h.task, PATIENCE)  # run() returns
        assert h.state == "auth-failed" and h.kinds() == ["auth-failed"]
        assert client.health.last_error == f"HTTP {status} on upgrade"
        await asyncio.sleep(0.3)
        assert feed.upgrades == 1
        assert not sessions.claimed(client._key)


@pytest.mark.parametrize("auth", ["header", "connect"])
async def test_wrong_token_is_auth_failed(auth):
    feed = FakeFeed(new_token())
    async with feed.running():
        client = client_for(feed, auth=auth, token="wrong-token-value")
        h = Harness(client)
        await asyncio.wait_for(h.task, PATIENCE)
        assert h.state == "auth-failed"
        assert feed.upgrades == 1
        assert "wrong-token-value" not in repr(h.events) + repr(client.health)


async def test_close_4001_is_auth_failed():
    feed = FakeFeed(new_token())
    feed.script = ["close4001"]
    async with feed.running():
        client = client_for(feed)
        h = Harness(client)
        await asyncio.wait_for(h.task, PATIENCE)
        assert h.state == "auth-failed" and "Invalid session key" in client.health.last_error
        await client.stop()
        assert h.state == "auth-failed"  # a verdict: stopping keeps it


# ------------------------------------------------------------------------ session limit


async def test_second_client_for_the_same_token_raises_when_it_runs():
    feed = FakeFeed(new_token())
    async with feed.running():
        first = client_for(feed)
        second = client_for(feed)  # construction is fine
        async with running(first) as h:
            await until(lambda: h.state == "live")
            with pytest.raises(SessionInUse) as info:
                await second.run()
            assert feed.token not in str(info.value)
            with pytest.raises(SessionInUse):
                await first.run()  # nor twice the same client
            other = client_for(feed, token=new_token())  # another token: fine
            other_task = asyncio.create_task(other.run())
            await until(lambda: other.health.state == "auth-failed")  # the fake knows one
            await other_task
        async with running(second) as h2:  # free again once the first stopped
            await until(lambda: h2.state == "live")
        assert feed.peak == 1


async def test_stopped_client_never_runs_again():
    feed = FakeFeed(new_token())
    async with feed.running():
        client = client_for(feed)
        await client.stop()
        await asyncio.wait_for(client.run(), PATIENCE)
        assert feed.upgrades == 0 and client.health.state == "stopped"


# ----------------------------------------------------------------- control and requests


async def test_unsubscribe_sends_and_forgets():
    feed = FakeFeed(new_token())
    async with feed.running():
        client = client_for(feed)
        client.subscribe(["NSE|1", "NSE|2"], orders=True)
        client.subscribe(["BSE|3"], depth=False)
        async with running(client) as h:
            await until(lambda: h.state == "live" and len(client.market.books) == 2)
            client.unsubscribe(["NSE|1", "BSE|3"])
            assert "NSE|1" not in client.market.scrips and "NSE|1" not in client.market.books
            await until(lambda: feed.got("ud") == ["NSE|1"] and feed.got("u") == ["BSE|3"])
            await until(lambda: feed.got("ul") == ["NSE|1"])
            assert client.health.subscriptions == 1
            # late frames re-create a forgotten scrip; its ``udk`` drops it again
            await feed.broadcast({"t": "df", "e": "NSE", "tk": "1", "lp": "1"})
            await feed.broadcast({"t": "udk", "k": "NSE|1"})
            await until(lambda: client.health.messages >= 8)
            await asyncio.sleep(0.05)
            assert "NSE|1" not in client.market.scrips
        client.unsubscribe(["NSE|2"])  # not live: just forgotten
        assert len(client.subscriptions) == 0


async def test_l2_gap_resubscribes_orders():
    feed = FakeFeed(new_token())
    async with feed.running():
        client = client_for(feed)
        client.subscribe(["NSE|1"], orders=True)
        async with running(client) as h:
            await until(lambda: h.state == "live" and "NSE|1" in client.market.books)
            gap = {"t": "lo", "e": "NSE", "tk": "1", "sq": "5", "oid": "2", "sd": "B", "ac": "A",
                   "pr": "99.00", "q": "1"}  # fmt: skip
            await feed.broadcast(gap)  # sq 1 -> 5: a gap
            await until(lambda: feed.got("ul") == ["NSE|1"] and feed.got("l") == ["NSE|1"] * 2)
            await until(lambda: not client.market.books["NSE|1"].gap)
            assert not client.market.resync


async def test_garbage_is_counted_and_the_session_stays_up():
    feed = FakeFeed(new_token())
    async with feed.running():
        client = client_for(feed)
        async with running(client) as h:
            await until(lambda: h.state == "live" and len(feed.live) == 1)  # the server too
            for frame in ["not json", "[1,2]", '{"t":"zz"}', '{"t":"df","e":"NSE"}',
                          '{"t":"ck"}', f"junk {feed.token}"]:  # fmt: skip
                await feed.broadcast(frame)
            await until(lambda: client.errors.total == 6)
            assert client.health.errors == {"not-json": 2, "not-object": 1, "unknown-type": 1,
                                            "missing-key": 1, "bad-message": 1}  # fmt: skip
            assert h.state == "live" and client.health.reconnects == 0
            assert all(feed.token not in text for _, text in client.errors.samples)


async def test_refusal_is_an_event_and_heartbeats_flow():
    feed = FakeFeed(new_token())
    async with feed.running():
        client = client_for(feed)
        async with running(client) as h:
            await until(lambda: h.state == "live" and len(feed.live) == 1)  # the server too
            await feed.broadcast({"t": "er", "emsg": "not allowed at L0", "k": "NSE|1"})
            await until(lambda: "refused" in h.kinds())
            assert client.health.last_refusal == "not allowed at L0 (NSE|1)"
            assert client.health.last_error == ""  # a refusal is not a fault
            assert client.health.refused == 1
            await until(lambda: feed.received.count({"t": "h"}) >= 3)


async def test_rates_and_lag():
    feed = FakeFeed(new_token())
    feed.ft = str(int(time.time()) - 3)
    async with feed.running():
        client = client_for(feed)
        client.subscribe(["NSE|1"])
        async with running(client):
            await until(lambda: "NSE|1" in client.market.scrips)
            for i in range(200):
                await feed.broadcast({"t": "df", "e": "NSE", "tk": "1", "v": str(i)})
            await until(lambda: client.health.messages >= 201)
            await until(lambda: client.health.msg_rate > 0)  # sampled on the next tick
            health = client.health
            assert health.msg_rate > 0 and health.byte_rate > health.msg_rate
            assert health.bytes > 200 * 30
            assert 2.0 <= health.lag <= 3.0 + PATIENCE


async def test_a_crashing_event_callback_does_not_stop_the_feed():
    feed = FakeFeed(new_token())
    async with feed.running():
        client = client_for(feed)
        task = asyncio.create_task(client.run())

        def boom(kind: str, text: str) -> None:
            raise RuntimeError("toast failed")

        client.on_event = boom
        await until(lambda: client.health.state == "live")
        feed.drop_all()
        await until(lambda: client.health.reconnects == 1 and client.health.state == "live")
        await client.stop()
        await task


# ------------------------------------------------------------------------------ secrets


async def test_the_token_never_reaches_logs_health_events_or_samples(caplog):
    caplog.set_level(logging.DEBUG)
    feed = FakeFeed(new_token())
    async with feed.running():
        texts: list[str] = []
        for auth in ("header", "query", "connect"):
            client = client_for(feed, auth=auth)
            async with running(client) as h:
                await until(lambda: h.state == "live" and len(feed.live) == 1)  # the server too
                await feed.broadcast(f"garbage with {feed.token} inside")
                await until(lambda c=client: c.errors.total >= 1)
                feed.drop_all()
                await until(lambda c=client, h=h: c.health.reconnects == 1 and h.state == "live")
            texts += [repr(client), repr(client.config), json.dumps(client.health.as_dict()),
                      repr(h.events), repr(list(client.errors.samples))]  # fmt: skip
        bad = client_for(feed, auth="query", token="a-wrong-token-123")
        await Harness(bad).task
        texts += [repr(bad.health), repr(bad)]
    # ours only: the fake server's own websockets logger shows what it received
    logged = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("marketdesk"))
    assert "Authorization" in logged  # websockets' DEBUG upgrade log did run through ours
    for text in [logged, *texts]:
        assert feed.token not in text and "a-wrong-token-123" not in text


async def test_stop_while_the_upgrade_hangs_is_prompt():
    """A server that accepts TCP and never answers the upgrade: stop() cancels the dial."""
    accepted: list[asyncio.StreamWriter] = []

    async def mute(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.append(writer)

    server = await asyncio.start_server(mute, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        cfg = FeedConfig(url=f"ws://127.0.0.1:{port}/2.0/market/feed", token=new_token())
        client = FeedClient(cfg, Market())
        task = asyncio.create_task(client.run())
        await until(lambda: client.health.state == "connecting" and accepted)
        started = time.monotonic()
        await asyncio.wait_for(client.stop(), PATIENCE)
        await asyncio.wait_for(task, PATIENCE)
        assert time.monotonic() - started < 5.0  # not the 10 s open_timeout
        assert client.health.state == "stopped" and client.health.stopped_in == "connecting"
        assert not sessions.claimed(client._key)
    finally:
        for writer in accepted:
            writer.close()
        server.close()
        await server.wait_closed()


async def test_cancelling_run_closes_the_connection_and_frees_the_token():
    feed = FakeFeed(new_token())
    async with feed.running():
        client = client_for(feed)
        task = asyncio.create_task(client.run())
        await until(lambda: client.health.state == "live")
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await until(lambda: not feed.live)
        assert client.health.state == "stopped" and client.health.connections_used == 0
        assert not sessions.claimed(client._key)
