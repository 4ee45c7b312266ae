"""FeedClient against a small in-test Noren-style server (websockets.asyncio.server).

Covers the auth modes, close codes, ck handling, replay, backoff policy, the stall
watchdog, one-connection-per-token and secrets.  The end-to-end tests against the real
simulator are in test_client_sim.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import random
import time
from collections.abc import AsyncIterator
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from helpers import until
from websockets.asyncio.server import ServerConnection, serve
from websockets.http11 import Request, Response

from tui.feed import sessions
from tui.feed.client import FeedClient, SessionInUse
from tui.feed.config import FeedConfig
from tui.feed.protocol import split_keys
from tui.market.store import Market

_ids = itertools.count()


def new_token() -> str:
    """A fresh token per client: a failing test never leaves a claim behind for the next."""
    return f"tok-{next(_ids)}-Zq9sEcReT"



class FakeFeed:
    """Speaks enough of docs/PROTOCOL.md: header/query auth checked at the upgrade (401),
    ``c`` answered with ck; ``d``/``t``/``l`` answered with one snapshot per key.

    ``script`` is a list of what to do with each new connection (then ``default``):
    ``ok``, ``kick`` (ck NOT_OK session limit + 4029), ``close4001``, ``drop`` (abort),
    ``noack`` (never send ck), ``close`` (1000 right after the upgrade).
    """

    def __init__(self, token: str) -> None:
        self.token = token
        self.script: list[str] = []
        self.default = "ok"
        self.received: list[dict[str, Any]] = []
        self.upgrades = 0  # upgrade requests seen
        self.live: set[ServerConnection] = set()
        self.peak = 0
        self.stalled = False
        self.reject_status: int | None = None
        self.ft = str(int(time.time()))

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[FakeFeed]:
        async with serve(
            self.handler, "127.0.0.1", 0, process_request=self.check, compression=None
        ) as server:
            self.port = server.sockets[0].getsockname()[1]
            yield self

    def url(self, path: str = "/2.0/market/feed/full") -> str:
        return f"ws://127.0.0.1:{self.port}{path}"

    def got(self, t: str) -> list[str]:
        """The ``k`` of every received request of type ``t`` (one entry per key)."""
        return [k for m in self.received if m["t"] == t for k in split_keys(m.get("k", ""))]

    def check(self, conn: ServerConnection, request: Request) -> Response | None:
        self.upgrades += 1
        if self.reject_status is not None:
            return conn.respond(HTTPStatus(self.reject_status), "no\n")
        auth = request.headers.get("Authorization")
        query = parse_qs(urlsplit(request.path).query).get("token", [None])[0]
        presented = auth.removeprefix("Bearer ") if auth else query
        conn.mode = "connect" if presented is None else "upgrade"  # type: ignore[attr-defined]
        if presented is not None and presented != self.token:
            return conn.respond(HTTPStatus.UNAUTHORIZED, "bad token\n")
        return None

    async def send(self, ws: ServerConnection, msg: dict[str, Any] | str) -> None:
        await ws.send(msg if isinstance(msg, str) else json.dumps(msg))

    async def broadcast(self, msg: dict[str, Any] | str) -> None:
        for ws in list(self.live):
            await self.send(ws, msg)

    def drop_all(self) -> None:
        for ws in list(self.live):
            ws.transport.abort()

    async def close_all(self, code: int, reason: str = "") -> None:
        for ws in list(self.live):
            await ws.close(code, reason)

    async def handler(self, ws: ServerConnection) -> None:
        self.live.add(ws)
        self.peak = max(self.peak, len(self.live))
        try:
            action = self.script.pop(0) if self.script else self.default
            if action == "drop":
                ws.transport.abort()
                return
            if action == "close":
                await ws.close(1000, "bye")
                return
            if action == "kick":
                await self.send(ws, {"t": "ck", "s": "NOT_OK", "emsg": "Maximum sessions limit"})
                await ws.close(4029, "Maximum sessions limit")
                return
            if action == "close4001":
                await ws.close(4001, "Invalid session key")
                return
            if ws.mode == "upgrade" and action == "ok":  # type: ignore[attr-defined]
                await self.send(ws, {"t": "ck", "s": "OK", "uid": "u1"})
            async for raw in ws:
                await self.answer(ws, json.loads(raw), action)
        finally:
            self.live.discard(ws)

    async def answer(self, ws: ServerConnection, msg: dict[str, Any], action: str) -> None:
        self.received.append(msg)
        t = msg["t"]
        if self.stalled:
            return
        if t == "c":
            if msg.get("susertoken") != self.token:
                await self.send(ws, {"t": "ck", "s": "NOT_OK", "emsg": "Invalid session key"})
                await ws.close(4001, "Invalid session key")
            elif action == "ok":
                await self.send(ws, {"t": "ck", "s": "OK", "uid": msg.get("uid")})
        elif t == "h":
            await self.send(ws, {"t": "h"})
        elif t in ("d", "t"):
            for key in split_keys(msg["k"]):
                e, _, tk = key.partition("|")
                snap = {"t": t + "k", "e": e, "tk": tk, "pp": "2", "lp": "100.05", "ft": self.ft}
                await self.send(ws, snap)
        elif t == "l":
            for key in split_keys(msg["k"]):
                e, _, tk = key.partition("|")
                await self.send(ws, {"t": "lk", "e": e, "tk": tk, "sq": "1", "ft": self.ft,
                                     "b": [["1", "100.00", "5"]], "s": []})  # fmt: skip
        elif t in ("u", "ud", "ul"):
            await self.send(ws, {"t": t + "k", "k": msg["k"]})


def config(feed: FakeFeed, token: str | None = None, **kw: Any) -> FeedConfig:
    """Short timeouts so every path runs in well under a second."""
    args: dict[str, Any] = {
        "heartbeat": 0.1, "ping_timeout": 1.0, "stall_timeout": 0.4, "backoff_min": 0.05,
        "backoff_max": 0.2, "stable_after": 0.4, "session_limit_retry": 0.3,
        "session_limit_max": 0.6, "ack_timeout": 0.5, "close_timeout": 0.3, "tick": 0.05,
        "jitter": "none",
    }  # fmt: skip
    token = feed.token if token is None else token
    return FeedConfig(**({"url": feed.url(), "token": token} | args | kw))


class Harness:
    def __init__(self, client: FeedClient) -> None:
        self.client = client
        self.events: list[tuple[str, str]] = []
        client.on_event = lambda kind, text: self.events.append((kind, text))
        self.task = asyncio.create_task(client.run())

    def kinds(self) -> list[str]:
        return [k for k, _ in self.events]

    @property
    def state(self) -> str:
        return self.client.health.state


@contextlib.asynccontextmanager
async def running(client: FeedClient) -> AsyncIterator[Harness]:
    h = Harness(client)
    try:
        yield h
    finally:
        await asyncio.wait_for(client.stop(), 5)
        await asyncio.wait_for(h.task, 5)


def client_for(feed: FakeFeed, **kw: Any) -> FeedClient:
    token = kw.pop("token", None)
    return FeedClient(config(feed, token, **kw), Market(), rng=random.Random(1))


# ---------------------------------------------------------------------------- auth modes


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
        await asyncio.wait_for(h.task, 3)  # run() returns
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
        await asyncio.wait_for(h.task, 3)
        assert h.state == "auth-failed"
        assert feed.upgrades == 1
        assert "wrong-token-value" not in repr(h.events) + repr(client.health)


async def test_close_4001_is_auth_failed():
    feed = FakeFeed(new_token())
    feed.script = ["close4001"]
    async with feed.running():
        client = client_for(feed)
        h = Harness(client)
        await asyncio.wait_for(h.task, 3)
        assert h.state == "auth-failed" and "Invalid session key" in client.health.last_error
        await client.stop()
        assert h.state == "auth-failed"  # a verdict: stopping keeps it


# ------------------------------------------------------------------------ session limit


async def test_session_limit_retries_slowly_and_never_storms():
    feed = FakeFeed(new_token())
    feed.default = "kick"
    async with feed.running():
        client = client_for(feed)
        retries: list[float] = []
        async with running(client) as h:
            client.on_event = lambda kind, text: retries.append(
                client.health.next_retry_at - time.monotonic()
            )
            await until(lambda: h.state == "session-limit")
            assert retries[0] == pytest.approx(0.3, abs=0.02)  # session_limit_retry
            await asyncio.sleep(1.2)
            # 0.3 s, then 0.3-0.6 s, then 0.3-0.6 s ...: at most 4 more attempts in 1.2 s
            assert 2 <= feed.upgrades <= 5
            feed.default = "ok"
            await until(lambda: h.state == "live", 2)
            assert feed.peak == 1
            feed.default = "kick"
            feed.drop_all()
            await until(lambda: h.state == "session-limit", 2)
        assert client.health.state == "stopped"
        assert client.health.stopped_in == "session-limit"


async def test_kick_of_a_live_session_waits_then_resubscribes():
    feed = FakeFeed(new_token())
    async with feed.running():
        client = client_for(feed)
        client.subscribe(["NSE|1"], orders=True)
        async with running(client) as h:
            await until(lambda: h.state == "live")
            started = time.monotonic()
            await feed.close_all(4029, "Maximum sessions limit")
            await until(lambda: h.state == "session-limit")
            await until(lambda: h.state == "live" and len(feed.got("l")) == 2)
            assert time.monotonic() - started >= 0.25
            assert feed.got("d") == ["NSE|1", "NSE|1"]
            assert h.kinds() == ["connected", "session-limit", "reconnected"]


# ------------------------------------------------------------------------ network faults


async def test_drop_reconnects_with_one_connection_at_a_time_and_replays():
    feed = FakeFeed(new_token())
    async with feed.running():
        client = client_for(feed)
        client.subscribe(["NSE|1", "NSE|2"])
        client.subscribe(["BSE|9"], depth=False, orders=True)
        async with running(client) as h:
            for round_ in range(1, 4):
                await until(lambda: h.state == "live" and len(feed.live) == 1)
                feed.drop_all()
                await until(lambda r=round_: client.health.reconnects == r)
            await until(lambda: h.state == "live" and len(feed.got("l")) == 4)  # l is last
            assert feed.got("d") == ["NSE|1", "NSE|2"] * 4 and feed.got("t") == ["BSE|9"] * 4
            assert feed.peak == 1
            assert sessions.peak_connections(client._key) == 1
            assert h.kinds().count("reconnect") == 3


async def test_server_down_means_backoff_and_stop_is_prompt():
    feed = FakeFeed(new_token())
    async with feed.running():
        url = feed.url()
    client = FeedClient(config(feed, url=url, backoff_min=5.0, backoff_max=10.0), Market())
    async with running(client) as h:
        await until(lambda: h.state == "backoff")
        assert client.health.next_retry_at is not None
        assert "retrying in" in h.events[0][1] and h.kinds() == ["reconnect"]
        started = time.monotonic()
    assert time.monotonic() - started < 1.0
    assert client.health.state == "stopped" and client.health.next_retry_at is None


async def test_stall_watchdog_closes_a_silent_connection_and_reconnects():
    feed = FakeFeed(new_token())
    async with feed.running():
        client = client_for(feed)
        client.subscribe(["NSE|1"])
        async with running(client) as h:
            await until(lambda: h.state == "live")
            feed.stalled = True  # pings are still answered by the library: only we notice
            await until(lambda: "stall" in h.kinds(), 3)
            assert client.health.stalls == 1 and "no data" in client.health.last_error
            feed.stalled = False
            await until(lambda: h.state == "live" and len(feed.got("d")) == 2, 3)
            assert feed.peak == 1


async def test_no_acknowledgement_is_a_network_fault():
    feed = FakeFeed(new_token())
    feed.script = ["noack"]
    async with feed.running():
        client = client_for(feed)
        async with running(client) as h:
            await until(lambda: h.state == "live", 3)
            assert "no acknowledgement" in h.events[0][1] and h.kinds()[0] == "reconnect"


async def test_backoff_grows_on_open_without_ck_and_resets_only_after_a_stable_session():
    feed = FakeFeed(new_token())
    feed.script = ["close"] * 4
    skew = [0.0]  # the client's clock, moved forward to make a session "stable" at once

    def clock() -> float:
        return time.monotonic() + skew[0]

    async with feed.running():
        cfg = config(feed, stable_after=5.0, stall_timeout=60.0, ack_timeout=60.0)
        client = FeedClient(cfg, Market(), clock=clock)
        retries: list[float] = []

        def on_event(kind: str, text: str) -> None:
            if kind == "reconnect":
                retries.append(round(client.health.next_retry_at - clock(), 2))

        async with running(client) as h:
            client.on_event = on_event
            await until(lambda: h.state == "live", 5)
            # jitter "none": 0.05, 0.1, 0.2 (cap), 0.2 -- TCP opens never reset it
            assert retries == [0.05, 0.1, 0.2, 0.2]
            feed.drop_all()  # live, but not yet stable: the backoff keeps its place
            await until(lambda: len(retries) == 5 and h.state == "live")
            assert retries[-1] == 0.2
            skew[0] += 5.0  # stable_after passes
            feed.drop_all()  # the next drop starts over
            await until(lambda: len(retries) == 6)
            assert retries[-1] == 0.05


# ------------------------------------------------------------- one connection per token


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
        await asyncio.wait_for(client.run(), 1)
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
            await until(lambda: h.state == "live")
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
            await until(lambda: h.state == "live")
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
            await asyncio.sleep(0.2)
            health = client.health
            assert health.msg_rate > 0 and health.byte_rate > health.msg_rate
            assert health.bytes > 200 * 30
            assert 2.0 <= health.lag <= 5.0


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
                await until(lambda: h.state == "live")
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
        await asyncio.wait_for(client.stop(), 2)
        await asyncio.wait_for(task, 1)
        assert time.monotonic() - started < 1.0
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
