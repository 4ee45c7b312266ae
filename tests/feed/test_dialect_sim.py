"""marketdesk's client in every dialect against the simulator in that dialect, through
every fault the simulator injects: drops, stalls (with and without pongs), garbage,
session-limit kicks and a bad token.  The client recovers, resubscribes in the dialect,
counts what it cannot read and never holds more than one connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import random
from collections.abc import AsyncIterator
from typing import Any

import pytest
from support.waiting import PATIENCE, until

from tui.feed import sessions
from tui.feed.client import FeedClient
from tui.feed.config import FeedConfig
from tui.market.store import Market
from tui.sim.server import Faults, SimConfig, SimServer
from tui.wire.dialects import DIALECTS

pytestmark = pytest.mark.slow
_ids = itertools.count()


def new_token() -> str:
    return f"dia-{next(_ids)}-Pq4sEcReT"


def url(sim: SimServer, dialect: str) -> str:
    return f"{sim.url}/V2/ws" if dialect == "firstock-v2" else sim.endpoint("L1")


@contextlib.asynccontextmanager
async def setup(
    dialect: str, token: str, **faults: Any
) -> AsyncIterator[tuple[SimServer, FeedClient]]:
    cfg = SimConfig(seed=5, rate=800.0, tokens=(token,), faults=Faults(**faults), dialect=dialect)
    async with SimServer(cfg) as sim:
        args: dict[str, Any] = {
            "heartbeat": 0.1, "ping_timeout": 2.0, "stall_timeout": 0.5, "backoff_min": 0.05,
            "backoff_max": 0.2, "stable_after": 0.5, "session_limit_retry": 0.3,
            "session_limit_max": 0.6, "ack_timeout": 1.0, "close_timeout": 0.2, "tick": 0.05,
        }  # fmt: skip
        feed = FeedConfig(
            url=url(sim, dialect),
            token=token,
            uid="FA12345",
            dialect=dialect,
            auth="connect" if dialect == "psx" else "header",
            **args,
        )
        client = FeedClient(feed, Market(), rng=random.Random(4))
        client.subscribe(stocks(sim))
        task = asyncio.create_task(client.run())
        try:
            yield sim, client
        finally:
            await asyncio.wait_for(client.stop(), PATIENCE)
            await asyncio.wait_for(task, PATIENCE)
        assert sessions.peak_connections(client._key) == 1


def stocks(sim: SimServer) -> list[str]:
    return [i.key for i in sim.instruments if not i.index][:5]


def flowing(client: FeedClient, after: int) -> bool:
    return client.health.state == "live" and client.health.messages > after


def subscribed(sim: SimServer, keys: list[str]) -> bool:
    return set(keys) <= sim.subs["d"].keys()


@pytest.mark.parametrize("dialect", DIALECTS)
async def test_live_data_in_every_dialect(dialect: str) -> None:
    token = new_token()
    async with setup(dialect, token) as (sim, client):
        keys = stocks(sim)
        await until(lambda: flowing(client, 200), 5)
        await until(
            lambda: all((v := client.market.view(k)) is not None and v.bids() for k in keys)
        )
        assert client.health.dialect == dialect and client.health.errors == {}
        assert token not in client.health.endpoint and sim.connections(token) == 1
        client.market.sweep()
        for key in keys:
            view = client.market.view(key)
            assert view is not None and view.get("pp") == 2
            assert view.bids()[0].price < view.asks()[0].price


@pytest.mark.parametrize("dialect", DIALECTS)
async def test_drops_are_survived_and_subscriptions_replayed(dialect: str) -> None:
    token = new_token()
    async with setup(dialect, token, drop_every=0.4) as (sim, client):
        await until(lambda: client.health.reconnects >= 2, 6)
        seen = client.health.messages
        await until(lambda: flowing(client, seen + 50), 5)
        await until(lambda: subscribed(sim, stocks(sim)), 5)


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize("pongs", [True, False])
async def test_stalls_are_caught_and_the_session_comes_back(dialect: str, pongs: bool) -> None:
    token = new_token()
    async with setup(dialect, token) as (sim, client):
        await until(lambda: flowing(client, 100), 5)
        sim.stall(1.5, pongs=pongs)
        await until(lambda: client.health.reconnects >= 1, 5)
        seen = client.health.messages
        await until(lambda: flowing(client, seen + 100), 6)


@pytest.mark.parametrize("dialect", DIALECTS)
async def test_garbage_is_counted_and_the_session_stays(dialect: str) -> None:
    token = new_token()
    async with setup(dialect, token, garbage_ratio=0.05) as (_, client):
        await until(lambda: client.errors.total >= 20, 8)
        assert client.health.state == "live" and client.health.reconnects == 0
        kinds = {
            "not-json",
            "not-object",
            "unknown-type",
            "missing-key",
            "bad-number",
            "bad-message",
        }
        await until(lambda: kinds <= client.health.errors.keys(), 8)
        assert all(token not in text for _, text in client.errors.samples)


@pytest.mark.parametrize("dialect", DIALECTS)
async def test_a_kick_is_the_session_limit_then_a_slow_retry(dialect: str) -> None:
    token = new_token()
    async with setup(dialect, token) as (sim, client):
        await until(lambda: flowing(client, 50), 5)
        assert sim.kick(token) == 1
        await until(lambda: client.health.state == "session-limit", 5)
        assert "Maximum sessions limit" in client.health.last_error
        await until(lambda: client.health.state == "live" and sim.connections(token) == 1, 5)
        await until(lambda: subscribed(sim, stocks(sim)), 5)


@pytest.mark.parametrize("dialect", DIALECTS)
async def test_a_bad_token_is_refused_once(dialect: str) -> None:
    token = new_token()
    cfg = SimConfig(seed=5, rate=100.0, tokens=(token,), dialect=dialect)
    async with SimServer(cfg) as sim:
        feed = FeedConfig(
            url=url(sim, dialect),
            token="not-it-4242",
            uid="FA1",
            dialect=dialect,
            auth="connect" if dialect == "psx" else "header",
            backoff_min=0.05,
        )
        client = FeedClient(feed, Market())
        await asyncio.wait_for(client.run(), PATIENCE)  # returns: no retry
        assert client.health.state == "auth-failed" and client.health.reconnects == 0
        assert "not-it-4242" not in repr(client.health) + client.health.endpoint


@pytest.mark.parametrize("dialect", ["noren", "firstock-v2"])
async def test_a_relay_serves_the_seed_from_an_upstream_in_a_dialect(dialect: str) -> None:
    """``marketdesk relay --dialect``: the upstream in a broker's dialect, the clients in
    the seed's protocol, with the same exact prices the upstream's scrips have."""
    from tui.relay.server import Relay, RelayConfig

    up, client_token = new_token(), "relay-client-Zk2"
    cfg = SimConfig(seed=5, rate=800.0, tokens=(up,), dialect=dialect)
    async with SimServer(cfg) as sim:
        upstream = FeedConfig(
            url=url(sim, dialect),
            token=up,
            uid="FA12345",
            dialect=dialect,
            backoff_min=0.05,
            backoff_max=0.3,
        )
        relay_cfg = RelayConfig(
            upstream=upstream, clients=(("DESK", client_token),), port=0, grace=0.3
        )
        async with Relay(relay_cfg) as relay:
            market = Market()
            client = FeedClient(FeedConfig(url=relay.endpoint("L1"), token=client_token), market)
            keys = stocks(sim)
            client.subscribe(keys)
            task = asyncio.create_task(client.run())
            try:
                await until(lambda: flowing(client, 100), 8)
                await until(
                    lambda: all((v := market.view(k)) is not None and v.bids() for k in keys)
                )
                assert client.health.dialect == "psx" and not client.errors.total
                market.sweep()
                for key in keys:
                    view = market.view(key)
                    assert view is not None and view.get("pp") == 2 and view.get("c") is not None
                    inst = next(i for i in sim.instruments if i.key == key)
                    assert view.get("c") == inst.close and view.get("uc") == inst.uc
            finally:
                await asyncio.wait_for(client.stop(), PATIENCE)
                await asyncio.wait_for(task, PATIENCE)


@pytest.mark.parametrize("dialect", ["noren-token", "firstock-v2"])
async def test_the_desk_draws_a_dialects_prices_unchanged(dialect: str) -> None:
    """The app, its widgets and the market as they are: only the feed speaks the dialect."""
    from support.waiting import PATIENCE

    from tui.app import make_app

    token = new_token()
    cfg = SimConfig(seed=3, rate=400.0, tokens=(token,), dialect=dialect)
    async with SimServer(cfg) as sim:
        watch = [inst.key for inst in sim.instruments[:6]]
        market = Market()
        client = FeedClient(
            FeedConfig(url=url(sim, dialect), token=token, uid="FA12345", dialect=dialect), market
        )
        stock = next(inst.key for inst in sim.instruments[:6] if not inst.index)
        app = make_app(market, client, watch=watch, selected=stock, refresh_hz=30)
        async with app.run_test(size=(160, 48)) as pilot:
            for _ in range(int(PATIENCE / 0.05)):  # a bound, not a timing
                await pilot.pause(0.05)
                if all(app.watchlist.rows_built[k] > 1 for k in watch[:3]):
                    break
            assert client.health.state == "live" and client.health.dialect == dialect
            app.flush()  # then read the screen and the market with no await between
            row = app.watchlist.render_line(1 + watch.index(stock)).text
            scrip = market.view(stock)
            assert scrip is not None and scrip.price_text("lp") in row
            assert token not in app.export_screenshot()
            await pilot.press("q")
        await until(lambda: sim.connections(token) == 0, what="the server to see the close")
