"""A raw WebSocket client of the simulator, and a :class:`Replica` of what it sent: the
helpers the simulator's tests share (imported as a module).

The consistency checks read the simulator's output through the project's own consumer
(``tui.market``), so they test what a client really rebuilds from the wire.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import msgspec
from websockets.asyncio.client import ClientConnection, connect

from tui.market.store import Market
from tui.wire.frames import DecodeErrors, FrameReader

TOKEN = "demo-token"
FT0 = 1750651200.0


class Replica:
    """A client-side picture built only from messages (dicts or raw frames)."""

    def __init__(self) -> None:
        self.errors = DecodeErrors()
        self.market = Market(self.errors)
        self.reader = FrameReader(self.errors)

    def apply(self, msg: dict[str, Any]) -> None:
        self.market.apply(msg)

    def feed(self, frame: str | bytes) -> dict[str, Any] | None:
        msg = self.reader.read(frame)
        if msg is not None and msg["t"] in ("tk", "tf", "dk", "df", "lk", "lo", "lt"):
            self.market.apply(msg)
        return msg

    def check_depth(self, key: str) -> None:
        """The five best prices of the L2 book are the depth levels, qty and orders alike."""
        scrip = self.market.scrips[key]
        scrip.materialize(self.errors)
        book = self.market.books[key]
        bids, asks = book.levels(scrip.pp, 5)
        assert scrip.bids() == bids, (key, scrip.bids(), bids)
        assert scrip.asks() == asks, (key, scrip.asks(), asks)
        total = {"B": 0, "S": 0}
        for side, _price, qty in book.orders.values():
            total[side] += qty
        assert scrip.get("tbq") == total["B"], key
        assert scrip.get("tsq") == total["S"], key
        assert not book.gap, key


def ws_headers(token: str = TOKEN) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def open_ws(url: str, *, token: str | None = TOKEN, mode: str = "header") -> ClientConnection:
    """Connect with ``mode`` auth ("header", "query", "access_token", "connect", "none")."""
    headers: dict[str, str] = {}
    if mode == "header" and token is not None:
        headers = ws_headers(token)
    elif mode == "query":
        url += f"?token={token}"
    elif mode == "access_token":
        url += f"?access_token={token}"
    ws = await connect(
        url, additional_headers=headers, compression=None, open_timeout=5, max_queue=None
    )
    if mode == "connect":
        await ws.send(json.dumps({"t": "c", "uid": "U1", "actid": "U1", "susertoken": token}))
    return ws


async def recv_json(ws: ClientConnection, timeout: float = 3.0) -> dict[str, Any]:
    return msgspec.json.decode(await asyncio.wait_for(ws.recv(), timeout))  # type: ignore[no-any-return]


async def recv_until(ws: ClientConnection, t: str, timeout: float = 3.0) -> dict[str, Any]:
    """The next message of type ``t`` (others are skipped)."""
    async with asyncio.timeout(timeout):
        while True:
            msg = msgspec.json.decode(await ws.recv())
            if isinstance(msg, dict) and msg.get("t") == t:
                return msg


async def collect_until(
    ws: ClientConnection, enough: Callable[[list[str | bytes]], bool], timeout: float = 60.0
) -> list[str | bytes]:
    """Frames until ``enough(frames)`` holds: a condition, so a slow machine only waits
    longer (``timeout`` bounds a broken test)."""
    frames: list[str | bytes] = []
    async with asyncio.timeout(timeout):
        while not enough(frames):
            frames.append(await ws.recv())
    return frames


def count_of(t: str) -> Callable[[list[str | bytes]], int]:
    """How many of the frames are of type ``t`` (a cheap test on the raw text)."""
    needle = f'"t":"{t}"'

    def count(frames: list[str | bytes]) -> int:
        return sum(needle in (f if isinstance(f, str) else f.decode()) for f in frames)

    return count


async def collect(ws: ClientConnection, seconds: float) -> list[str | bytes]:
    """Every frame received during ``seconds``."""
    frames: list[str | bytes] = []
    loop = asyncio.get_running_loop()
    end = loop.time() + seconds
    while (left := end - loop.time()) > 0:
        try:
            frames.append(await asyncio.wait_for(ws.recv(), left))
        except TimeoutError:
            break
    return frames
