"""A small Noren-style feed server for the client's tests (websockets.asyncio.server).

It speaks enough of docs/PROTOCOL.md to drive every path of ``FeedClient``: auth at the
upgrade or by connect message, ``ck``, close codes, drops and silence on demand.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import random
import ssl
import time
from collections.abc import AsyncIterator
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import ServerConnection, serve
from websockets.http11 import Request, Response

from tui.feed.client import FeedClient
from tui.feed.config import FeedConfig
from tui.market.store import Market
from tui.wire.protocol import split_keys

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
        self.scheme = "ws"

    @contextlib.asynccontextmanager
    async def running(self, tls: ssl.SSLContext | None = None) -> AsyncIterator[FakeFeed]:
        """Serve on a free loopback port; ``tls``: wss:// with this server context."""
        self.scheme = "wss" if tls is not None else "ws"
        async with serve(
            self.handler, "127.0.0.1", 0, process_request=self.check, compression=None, ssl=tls
        ) as server:
            self.port = server.sockets[0].getsockname()[1]
            yield self

    def url(self, path: str = "/2.0/market/feed/full") -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}{path}"

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
