"""Fault injection: garbage frames, drops, stalls, kicks, and a consumer too slow to keep up."""

from __future__ import annotations

import asyncio
import json
import socket

import pytest
from support.sim_client import (
    TOKEN,
    Replica,
    collect,
    collect_until,
    open_ws,
    recv_json,
    recv_until,
    ws_headers,
)
from support.waiting import until
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from tui.sim.server import Faults, SimConfig, SimServer

RELIANCE, OGDC = "NSE|2885", "PSX|OGDC"
#: bound on waits for a condition that only machine speed delays (never reached when green)
PATIENCE = 120.0
#: a stall, seconds: a quiet window is checked inside it
STALL = 2.5


def sim(**kwargs: object) -> SimServer:
    return SimServer(SimConfig(**{"rate": 2000.0, **kwargs}))  # type: ignore[arg-type]


async def test_garbage_ratio_sends_every_kind_of_bad_frame() -> None:
    async with sim(rate=3000.0, faults=Faults(garbage_ratio=0.2)) as s:
        ws = await open_ws(s.endpoint("L1"))
        await recv_json(ws)
        await ws.send(json.dumps({"t": "d", "k": f"{RELIANCE}#{OGDC}#NSE|1333#PSX|HBL"}))
        frames = await collect_until(ws, lambda got: len(got) > 1200)  # not a time window
        await ws.close()
    replica = Replica()
    good = sum(replica.feed(f) is not None for f in frames)
    kinds = replica.errors.by_kind
    assert good > 200
    assert {"not-json", "not-object", "unknown-type", "missing-key"} <= set(kinds)
    assert 0.1 < replica.errors.total / good < 0.3
    replica.market.flush(0.0)
    assert kinds["bad-number"] > 0


async def test_drop_all_aborts_without_a_close_frame() -> None:
    async with sim() as s:
        ws = await open_ws(s.endpoint("L1"))
        await recv_json(ws)
        assert s.drop_all() == 1
        with pytest.raises(ConnectionClosed) as info:
            await asyncio.wait_for(ws.recv(), 2)
        assert info.value.rcvd is None
        await asyncio.sleep(0.05)
        assert s.connections(TOKEN) == 0


async def test_drop_every_fault() -> None:
    async with sim(faults=Faults(drop_every=0.2)) as s:
        ws = await open_ws(s.endpoint("L1"))
        await recv_json(ws)
        with pytest.raises(ConnectionClosed):
            await asyncio.wait_for(collect(ws, 2.0), 3)
            await ws.recv()


@pytest.mark.slow
@pytest.mark.parametrize("pongs", [False, True])
async def test_stall_holds_every_frame_then_resyncs(pongs: bool) -> None:
    async with sim(rate=3000.0) as s:
        ws = await open_ws(s.endpoint("L1"))
        await recv_json(ws)
        await ws.send(json.dumps({"t": "d", "k": f"{RELIANCE}#{OGDC}"}))
        await recv_until(ws, "df")
        # long enough that the quiet window below falls inside it on a loaded machine
        assert s.stall(STALL, pongs=pongs) == 1
        await collect(ws, 0.05)  # what was already on the way
        pong = asyncio.ensure_future(await ws.ping())
        await ws.send(json.dumps({"t": "h"}))
        if pongs:  # answered during the stall
            await asyncio.wait_for(asyncio.shield(pong), STALL / 2)
        assert await collect(ws, 0.4) == []
        assert pong.done() is pongs
        kinds: list[str] = []
        async with asyncio.timeout(PATIENCE):  # the stall ends: everything comes, in order
            while "df" not in kinds or "h" not in kinds:
                kinds.append(json.loads(await ws.recv())["t"])
        data = [k for k in kinds if k != "h"]
        assert "h" in kinds and data[:2] == ["dk", "dk"] and "df" in data
        if pongs:  # it was read during the stall and held back, so it comes first
            assert kinds[0] == "h"
        await asyncio.wait_for(pong, 1)
        await ws.close()


@pytest.mark.slow
async def test_a_slow_consumer_is_resynced_with_fresh_snapshots(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("tui.server.session.HIGH_WATER", 64 * 1024)
    monkeypatch.setattr("tui.server.server.MAX_QUEUED", 2000)
    async with sim(rate=5000.0) as s:
        keys = [i.key for i in s.instruments if not i.index]
        # no keepalive: the test reads nothing for a while on purpose, and on a loaded
        # machine that while outlasts websockets' 20 s ping timeout
        ws = await connect(
            s.endpoint("L2"), additional_headers=ws_headers(), max_queue=2, ping_interval=None
        )
        try:
            await consume_slowly(s, ws, keys)
        finally:  # a failure must not leave a client that reads nothing behind
            ws.transport.abort()


async def consume_slowly(s: SimServer, ws: ClientConnection, keys: list[str]) -> None:
    """Read nothing until the server gives up on ``ws``, then everything: fresh snapshots."""
    stocks = "#".join(keys)
    await recv_json(ws)
    session = next(iter(s.sessions))
    # small socket buffers on both ends: the backlog that fills them before the server
    # gives up is small, so a loaded machine has little to produce and to read back
    for sock, option in (
        (ws.transport.get_extra_info("socket"), socket.SO_RCVBUF),
        (session.transport.get_extra_info("socket"), socket.SO_SNDBUF),
    ):
        sock.setsockopt(socket.SOL_SOCKET, option, 16 * 1024)  # fmt: skip
    await ws.send(json.dumps({"t": "d", "k": stocks}))
    await ws.send(json.dumps({"t": "l", "k": stocks}))
    # the client reads nothing: the server must give up.  How soon depends on how fast
    # this machine produces the stream, so the bound is generous (a condition, not a
    # timing: a loaded 2-core machine took over 5 s)
    await until(lambda: session.resync, PATIENCE, "the session to give up and resync")
    replica = Replica()
    snapshots = checks = 0
    async with asyncio.timeout(PATIENCE):
        while snapshots < 4 * len(keys) or checks < 300:  # subscription, then resync
            msg = replica.feed(await ws.recv())
            assert msg is not None
            snapshots += msg["t"] in ("dk", "lk")
            key = f"{msg.get('e')}|{msg.get('tk')}"
            if msg["t"] == "df":
                replica.check_depth(key)
                checks += 1
    assert replica.errors.total == 0, replica.errors.samples
    await ws.send(json.dumps({"t": "ud", "k": stocks}))
    await ws.send(json.dumps({"t": "ul", "k": stocks}))
    await recv_until(ws, "ulk", timeout=PATIENCE)
    await ws.close()


async def test_closing_never_waits_on_a_client_that_reads_nothing() -> None:
    """A client that reads nothing never takes the close frame; the server aborts it after
    the closing handshake's timeout (it hung for ever about one run in two)."""
    s = sim(rate=5000.0)
    await s.start()
    ws = await connect(s.endpoint("L2"), additional_headers=ws_headers(), max_queue=2,
                       ping_interval=None)  # fmt: skip
    try:
        await recv_json(ws)
        session = next(iter(s.sessions))
        stocks = "#".join(i.key for i in s.instruments if not i.index)
        await ws.send(json.dumps({"t": "d", "k": stocks}))
        await ws.send(json.dumps({"t": "l", "k": stocks}))
        await until(lambda: not session.writable() or session.resync, PATIENCE)
        await asyncio.wait_for(s.close(), PATIENCE)
    finally:
        ws.transport.abort()


@pytest.mark.parametrize("how", ["abort", "close"])
async def test_a_stalled_session_whose_client_left_does_not_hold_a_slot(how: str) -> None:
    """The limit is two sessions a token: two clients that gave up on a stalled server
    (one reset, one closed its socket) must not lock a third out until the stall ends."""
    async with sim() as s:
        first, second = await open_ws(s.endpoint("L1")), await open_ws(s.endpoint("L1"))
        for ws in (first, second):
            assert (await recv_json(ws))["s"] == "OK"
        assert s.stall(600.0) == 2  # reads nothing: it cannot see the clients leave
        for ws in (first, second):
            if how == "abort":
                ws.transport.abort()
            else:
                ws.transport.close()  # a FIN, no close frame: the server reads nothing
        third = await open_ws(s.endpoint("L1"))
        assert await recv_json(third, timeout=PATIENCE) == {"t": "ck", "s": "OK", "uid": "SIM1"}
        assert s.connections(TOKEN) == 1 and s.max_connections(TOKEN) == 2
        await third.close()


async def test_a_stalled_session_whose_client_is_there_still_counts() -> None:
    async with sim() as s:
        first, second = await open_ws(s.endpoint("L1")), await open_ws(s.endpoint("L1"))
        for ws in (first, second):
            assert (await recv_json(ws))["s"] == "OK"
        s.stall(600.0)
        third = await open_ws(s.endpoint("L1"))
        assert (await recv_json(third, timeout=PATIENCE))["emsg"] == "Maximum sessions limit"
        assert s.connections(TOKEN) == 2
        for ws in (first, second, third):
            ws.transport.abort()
