"""marketdesk's client against small servers written from the brokers' documents, not
from our simulator: each one answers the way a published page or SDK says a real feed
does (``ck`` with ``k``, ``"Ok"``, ``ak``, ``hk``, ``om``/``ok`` on the socket, close 1008,
no acknowledgement at all, Firstock V2's status frames and keyed paise frames).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from support.waiting import PATIENCE, until
from websockets.asyncio.server import ServerConnection, serve

from tui.feed.client import FeedClient
from tui.feed.config import FeedConfig
from tui.market.store import Market
from tui.wire.frames import DecodeErrors

TOKEN = "doc-Zq81-token"
Handler = Callable[[ServerConnection, "Doc"], Awaitable[None]]

#: the seed's depth example (docs/seeds/firstock-depth-feed.txt), NSE 26000
SEED_DK = {
    "t": "dk",
    "e": "NSE",
    "tk": "26000",
    "ts": "Nifty 50",
    "pp": "2",
    "ls": "1",
    "ti": "0.05",
    "lp": "24865.45",
    "pc": "-0.98",
    "ft": "1750652516",
    "o": "24939.75",
    "h": "24988.10",
    "l": "24834.55",
    "c": "25112.40",
    "52h": "26277.35",
    "52l": "21743.65",
    "toi": "62387700",
}
SEED_DF = {
    "t": "df",
    "e": "NSE",
    "tk": "26000",
    "lp": "24872.10",
    "pc": "-0.96",
    "ft": "1750652527",
}


class Doc:
    """A server on loopback running ``handler`` per connection; what it received."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.received: list[dict[str, Any]] = []
        self.connections = 0
        self.paths: list[str] = []
        self.headers: list[dict[str, str]] = []

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[Doc]:
        async def handle(ws: ServerConnection) -> None:
            self.connections += 1
            assert ws.request is not None
            self.paths.append(ws.request.path)
            self.headers.append(dict(ws.request.headers.raw_items()))
            with contextlib.suppress(Exception):
                await self.handler(ws, self)

        async with serve(handle, "127.0.0.1", 0, compression=None) as server:
            self.port = server.sockets[0].getsockname()[1]
            yield self

    async def recv(self, ws: ServerConnection) -> dict[str, Any]:
        msg: dict[str, Any] = json.loads(await ws.recv())
        self.received.append(msg)
        return msg


def client(url: str, dialect: str, **kw: Any) -> FeedClient:
    args: dict[str, Any] = {
        "heartbeat": 0.1, "ping_timeout": 2.0, "stall_timeout": 2.0, "backoff_min": 0.05,
        "backoff_max": 0.2, "ack_timeout": 1.0, "close_timeout": 0.3, "tick": 0.05,
    }  # fmt: skip
    cfg = FeedConfig(url=url, token=TOKEN, uid="FA12345", dialect=dialect, **(args | kw))
    return FeedClient(cfg, Market(DecodeErrors()), rng=random.Random(2))


@contextlib.asynccontextmanager
async def running(c: FeedClient) -> AsyncIterator[FeedClient]:
    task = asyncio.create_task(c.run())
    try:
        yield c
    finally:
        await asyncio.wait_for(c.stop(), 5)
        await asyncio.wait_for(task, PATIENCE)


def price(c: FeedClient, key: str, name: str) -> str | None:
    c.market.sweep()
    view = c.market.view(key)
    return None if view is None else view.price_text(name)


# ------------------------------------------------------------------ Noren, classic connect
def noren_server(ack: dict[str, Any], heartbeat: str = "hk") -> Handler:
    """A NorenWSTP feed as Firstock's and other brokers' pages describe it: ``c`` (with
    ``source``), the acknowledgement ``ack``, the seed's ``dk``/``df``, ``h`` answered
    with ``heartbeat``, order updates pushed on the same socket."""

    async def handler(ws: ServerConnection, doc: Doc) -> None:
        hello = await doc.recv(ws)
        if hello.get("susertoken") != TOKEN:
            await ws.close(1008, "Invalid credentials")
            return
        await ws.send(json.dumps(ack))
        await ws.send(json.dumps({"t": "ok"}))  # order-update subscription acknowledged
        while True:
            msg = await doc.recv(ws)
            if msg["t"] == "h":
                await ws.send(json.dumps({"t": heartbeat}))
            elif msg["t"] == "d":
                await ws.send(json.dumps(SEED_DK))
                await ws.send(
                    json.dumps(
                        {
                            "t": "om",
                            "norenordno": "25062300001",
                            "status": "COMPLETE",
                            "tsym": "NIFTY",
                        }
                    )
                )
                await ws.send(json.dumps(SEED_DF))

    return handler


async def check_noren_session(ack: dict[str, Any], dialect: str = "noren") -> FeedClient:
    doc = Doc(noren_server(ack))
    async with (
        doc.running(),
        running(client(f"ws://127.0.0.1:{doc.port}/NorenWSTP/", dialect)) as c,
    ):
        c.subscribe(["NSE|26000"])
        await until(lambda: price(c, "NSE|26000", "lp") == "24872.10", 5, "the df")
        await until(lambda: any(m["t"] == "h" for m in doc.received), 5, "a heartbeat")
        await asyncio.sleep(0.3)  # a few hk answers
        assert c.health.state == "live" and c.health.sessions == 1
        assert c.health.order_updates == 2 and not c.errors.total, c.errors.samples
        assert [u["t"] for u in c.order_updates] == ["ok", "om"]
    return c


async def test_noren_ck_with_k_ok_as_firstocks_page_shows_it() -> None:
    c = await check_noren_session({"t": "ck", "k": "OK", "uid": "FA12345"})
    assert c.health.dialect == "noren" and c.health.auth == "connect"


async def test_noren_ck_with_ok_in_mixed_case_as_definedge_and_flattrade_write_it() -> None:
    await check_noren_session({"t": "ck", "s": "Ok", "uid": "FA12345"})


async def test_noren_connect_frame_carries_source_api() -> None:
    doc = Doc(noren_server({"t": "ck", "s": "OK"}))
    async with (
        doc.running(),
        running(client(f"ws://127.0.0.1:{doc.port}/NorenWSTP/", "noren")) as c,
    ):
        await until(lambda: c.health.state == "live", 5)
    assert doc.received[0] == {
        "t": "c",
        "uid": "FA12345",
        "actid": "FA12345",
        "susertoken": TOKEN,
        "source": "API",
    }


async def test_close_1008_is_a_refusal_not_a_fault() -> None:
    doc = Doc(noren_server({"t": "ck", "s": "OK"}))
    async with doc.running():
        url = f"ws://127.0.0.1:{doc.port}/NorenWSTP/"
        c = FeedClient(
            FeedConfig(
                url=url,
                token="wrong-token",
                uid="FA1",
                dialect="noren",
                backoff_min=0.05,
                backoff_max=0.1,
            ),
            Market(),
        )
        async with running(c):
            await until(lambda: c.health.state == "auth-failed", 5)
            await asyncio.sleep(0.3)  # a retry would have come by now
            assert doc.connections == 1 and "Invalid credentials" in c.health.last_error


async def test_noren_refusal_in_a_ck_is_a_refusal_whatever_its_case() -> None:
    doc = Doc(noren_server({"t": "ck", "k": "Not_Ok", "emsg": "Session Expired"}))
    async with (
        doc.running(),
        running(client(f"ws://127.0.0.1:{doc.port}/NorenWSTP/", "noren")) as c,
    ):
        await until(lambda: c.health.state == "auth-failed", 5)
        assert "Session Expired" in c.health.last_error and doc.connections == 1


# ------------------------------------------------------------------ Noren, token connect
async def test_noren_token_connect_answered_by_ak() -> None:
    async def handler(ws: ServerConnection, doc: Doc) -> None:
        hello = await doc.recv(ws)
        ok = hello.get("t") == "a" and hello.get("accesstoken") == TOKEN
        await ws.send(json.dumps({"t": "ak", "s": "OK" if ok else "NOT_OK"}))
        while True:
            if (await doc.recv(ws))["t"] == "d":
                await ws.send(json.dumps(SEED_DK))

    doc = Doc(handler)
    async with doc.running(), running(client(f"ws://127.0.0.1:{doc.port}/", "noren-token")) as c:
        c.subscribe(["NSE|26000"])
        await until(lambda: price(c, "NSE|26000", "lp") == "24865.45", 5)
        assert c.health.auth == "token" and not c.errors.total
    assert doc.received[0] == {
        "t": "a",
        "uid": "FA12345",
        "actid": "FA12345",
        "accesstoken": TOKEN,
        "source": "API",
    }


# ------------------------------------------------------------------ PSX, bearer token
async def test_psx_bearer_feed_that_never_acknowledges_is_live_at_the_upgrade() -> None:
    """The seed says bearer token in a header or the query, and nothing about a ``ck``."""

    async def handler(ws: ServerConnection, doc: Doc) -> None:
        while True:
            if (await doc.recv(ws))["t"] == "d":
                await ws.send(json.dumps(SEED_DK))

    doc = Doc(handler)
    async with doc.running():
        url = f"ws://127.0.0.1:{doc.port}/2.0/market/feed/full"
        for auth in ("header", "query"):
            async with running(client(url, "psx", auth=auth, ack_timeout=0.3)) as c:
                c.subscribe(["NSE|26000"])
                await until(lambda: price(c, "NSE|26000", "lp") == "24865.45", 5)
                await asyncio.sleep(0.5)  # past ack_timeout: still the same session
                assert c.health.state == "live" and c.health.reconnects == 0
    assert doc.headers[0].get("Authorization") == f"Bearer {TOKEN}"
    assert parse_qs(urlsplit(doc.paths[1]).query) == {"token": [TOKEN]}


# ------------------------------------------------------------------ Firstock V2
def v2_server(first: dict[str, Any]) -> Handler:
    """Firstock's "Subscribe Feed V2" page and SDK: ``userId``/``jKey``/``source`` in the
    query, a status frame first, ``action`` requests, frames keyed ``EXCH:TOKEN`` in paise
    (the page's acknowledgement example), no answer to ``unsubscribe``."""

    async def handler(ws: ServerConnection, doc: Doc) -> None:
        await ws.send(json.dumps(first))
        if first.get("status") != "success":
            return
        while True:
            msg = await doc.recv(ws)
            if msg.get("action") != "subscribe":
                continue
            for name in msg["tokens"].split("|"):
                await ws.send(
                    json.dumps(
                        {
                            name: {
                                "c_exch_seg": name.split(":")[0],
                                "c_symbol": name.split(":")[1],
                                "i_last_traded_price": 729,
                                "i_closing_price": 733,
                                "best_buy": [
                                    {"price": 728, "quantity": 556697, "orders": 31},
                                    {},
                                    {},
                                    {},
                                    {},
                                ],
                                "best_sell": [
                                    {"price": 729, "quantity": 241310, "orders": 31},
                                    {},
                                    {},
                                    {},
                                    {},
                                ],
                            }
                        }
                    )
                )
                # a float limit as the page shows them, written as text to keep its digits
                await ws.send(
                    f'{{"{name}":{{"i_last_traded_price":730,'
                    '"i_upper_circuit_limit":806.0000000000001}}'
                )

    return handler


async def test_firstock_v2_session_subscribe_and_paise(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)  # websockets logs the upgrade's path (the jKey) at DEBUG
    doc = Doc(v2_server({"status": "success", "message": "Authentication successful"}))
    async with (
        doc.running(),
        running(client(f"ws://127.0.0.1:{doc.port}/V2/ws", "firstock-v2")) as c,
    ):
        c.subscribe(["NSE|14366"])
        await until(lambda: price(c, "NSE|14366", "uc") == "8.06", 5)
        assert (price(c, "NSE|14366", "lp"), price(c, "NSE|14366", "bp1")) == ("7.30", "7.28")
        view = c.market.view("NSE|14366")
        assert view is not None and len(view.bids()) == len(view.asks()) == 1  # {}: empty levels
        assert c.health.notes == {"off-grid": 1} and not c.errors.total
        c.unsubscribe(["NSE|14366"])
        await until(lambda: any(m.get("action") == "unsubscribe" for m in doc.received), 5)
        assert "NSE|14366" not in c.market.scrips
    query = parse_qs(urlsplit(doc.paths[0]).query)
    assert query == {"userId": ["FA12345"], "jKey": [TOKEN], "source": ["developer-api"]}
    client_logs = [r.getMessage() for r in caplog.records if r.name.startswith("marketdesk")]
    assert any("jKey=<redacted>" in text for text in client_logs)
    assert not any(TOKEN in text for text in client_logs)
    assert doc.received[0] == {"action": "subscribe", "tokens": "NSE:14366"}


async def test_firstock_v2_failed_status_and_session_limit() -> None:
    doc = Doc(v2_server({"status": "failed", "message": "Invalid jKey"}))
    async with (
        doc.running(),
        running(client(f"ws://127.0.0.1:{doc.port}/V2/ws", "firstock-v2")) as c,
    ):
        await until(lambda: c.health.state == "auth-failed", 5)
        assert c.health.last_error == "Invalid jKey"
    doc = Doc(v2_server({"status": "failed", "message": "Maximum sessions limit (3) reached"}))
    async with (
        doc.running(),
        running(
            client(f"ws://127.0.0.1:{doc.port}/V2/ws", "firstock-v2", session_limit_retry=5.0)
        ) as c,
    ):
        await until(lambda: c.health.state == "session-limit", 5)
        assert "Maximum sessions limit" in c.health.last_error
