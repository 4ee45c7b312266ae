"""The protocol server with a backend of its own (not the simulator): the interface the
simulator, the relay and replays plug into."""

from __future__ import annotations

import asyncio
import json
from http import HTTPStatus

import pytest
from support.sim_client import open_ws, recv_json, recv_until
from support.waiting import PATIENCE
from websockets.asyncio.server import ServerConnection
from websockets.exceptions import InvalidStatus
from websockets.http11 import Request, Response

from tui.server.config import ServerConfig
from tui.server.frames import json_frame
from tui.server.server import ProtocolServer

TOKEN = "server-token"
KEY = "X|1"


class Board:
    """A backend with one scrip whose state the test sets, and a log of watch calls."""

    def __init__(self) -> None:
        self.state: dict[str, str] | None = None
        self.events: list[tuple[str, str, str]] = []

    def refusal(self, level: str, kind: str, key: str) -> str:
        if key != KEY:
            return "unknown scrip"
        return "order-level data needs L2" if kind == "l" and level != "L2" else ""

    def snapshot(self, kind: str, key: str) -> bytes | None:
        if self.state is None:
            return None
        return json_frame({"t": kind + "k", "e": "X", "tk": "1", **self.state})

    def watch(self, kind: str, key: str) -> None:
        self.events.append(("watch", kind, key))

    def unwatch(self, kind: str, key: str) -> None:
        self.events.append(("unwatch", kind, key))

    def turn(self, now: float, active: bool) -> bool:
        return False


def health(connection: ServerConnection, request: Request) -> Response | None:
    if request.path == "/ping":
        return connection.respond(HTTPStatus.OK, "pong\n")
    return None


def server(board: Board, **kwargs: object) -> ProtocolServer:
    config = ServerConfig(users=(("ALICE", TOKEN),), **kwargs)  # type: ignore[arg-type]
    return ProtocolServer(config, board, http=health)


@pytest.mark.parametrize("mode", ["header", "query", "connect"])
async def test_auth_modes_snapshot_then_published_deltas_in_order(mode: str) -> None:
    board = Board()
    board.state = {"lp": "10.00"}
    async with server(board) as srv:
        ws = await open_ws(srv.endpoint("L1"), token=TOKEN, mode=mode)
        ack = await recv_json(ws)
        assert ack["t"] == "ck" and ack["s"] == "OK"
        await ws.send(json.dumps({"t": "d", "k": KEY}))
        assert await recv_json(ws) == {"t": "dk", "e": "X", "tk": "1", "lp": "10.00"}
        assert board.events == [("watch", "d", KEY)]
        for i in range(50):
            srv.publish("d", KEY, json_frame({"t": "df", "e": "X", "tk": "1", "lp": f"{i}.00"}))
        got = [(await recv_json(ws))["lp"] for _ in range(50)]
        assert got == [f"{i}.00" for i in range(50)]
        await ws.send(json.dumps({"t": "ud", "k": KEY}))
        await recv_until(ws, "udk")
        assert board.events[-1] == ("unwatch", "d", KEY)
        await ws.close()


async def test_a_subscription_before_the_backend_has_state_gets_its_first_snapshot() -> None:
    board = Board()
    async with server(board) as srv:
        ws = await open_ws(srv.endpoint("L2"), token=TOKEN)
        await recv_json(ws)
        await ws.send(json.dumps({"t": "d", "k": KEY}))
        await ws.send(json.dumps({"t": "l", "k": "Y|2"}))
        assert (await recv_until(ws, "er"))["emsg"] == "unknown scrip"
        srv.publish("d", KEY, json_frame({"t": "dk", "e": "X", "tk": "1", "lp": "5.00"}))
        assert (await recv_json(ws))["t"] == "dk"
        await ws.close()


async def test_the_session_limit_counts_only_open_sockets() -> None:
    async with server(Board()) as srv:
        first = await open_ws(srv.endpoint("L1"), token=TOKEN)
        second = await open_ws(srv.endpoint("L1"), token=TOKEN)
        await recv_json(first), await recv_json(second)
        assert srv.connections(TOKEN) == 2
        assert srv.drop_all() == 2  # aborted: their handlers may not have run yet
        third = await open_ws(srv.endpoint("L1"), token=TOKEN)
        assert (await recv_json(third))["s"] == "OK"
        assert srv.max_connections(TOKEN) == 2
        await third.close()


async def test_plain_http_goes_to_the_hook_and_unknown_paths_get_404() -> None:
    async with server(Board()) as srv:
        reader, writer = await asyncio.open_connection("127.0.0.1", srv.port)
        writer.write(b"GET /ping HTTP/1.1\r\nHost: x\r\n\r\n")
        head = await asyncio.wait_for(reader.read(200), PATIENCE)
        assert head.startswith(b"HTTP/1.1 200") and b"pong" in head
        writer.close()
        with pytest.raises(InvalidStatus) as info:
            await open_ws(srv.url + "/nope", token=TOKEN)
        assert info.value.response.status_code == 404
        with pytest.raises(InvalidStatus) as info:
            await open_ws(srv.endpoint("L1"), token="wrong")
        assert info.value.response.status_code == 401
