"""The simulator over a real socket: auth, access levels, the session limit, the streams."""

from __future__ import annotations

import asyncio
import json

import msgspec
import pytest
from support.sim_client import (
    TOKEN,
    Replica,
    collect,
    collect_until,
    count_of,
    open_ws,
    recv_json,
    recv_until,
    ws_headers,
)
from support.waiting import until
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from tui.sim.server import Faults, SimConfig, SimServer

RELIANCE, OGDC, NIFTY, MARI = "NSE|2885", "PSX|OGDC", "NSE|26000", "PSX|MARI"


def sim(**kwargs: object) -> SimServer:
    return SimServer(SimConfig(**{"rate": 2000.0, **kwargs}))  # type: ignore[arg-type]


async def closed_with(ws: object, code: int, reason: str | None = None) -> None:
    with pytest.raises(ConnectionClosed) as info:
        async with asyncio.timeout(30):
            while True:
                await ws.recv()  # type: ignore[attr-defined]
    rcvd = info.value.rcvd
    assert rcvd is not None and rcvd.code == code, info.value
    if reason is not None:
        assert rcvd.reason == reason


# ------------------------------------------------------------------------------ auth


@pytest.mark.parametrize("mode", ["header", "query", "access_token", "connect"])
async def test_a_good_token_is_acknowledged_in_every_mode(mode: str) -> None:
    async with sim() as s:
        ws = await open_ws(s.endpoint("L1"), mode=mode)
        ack = await recv_json(ws)
        assert ack["t"] == "ck" and ack["s"] == "OK" and ack["uid"]
        assert s.connections(TOKEN) == 1
        await ws.send(json.dumps({"t": "d", "k": RELIANCE}))
        assert (await recv_json(ws))["t"] == "dk"
        await ws.close()


@pytest.mark.parametrize("mode", ["header", "query", "access_token"])
async def test_a_bad_token_is_refused_at_the_upgrade_with_401(mode: str) -> None:
    async with sim() as s:
        with pytest.raises(InvalidStatus) as info:
            await open_ws(s.endpoint("L1"), token="wrong", mode=mode)
        assert info.value.response.status_code == 401
        assert s.connections(TOKEN) == 0


async def test_a_malformed_authorization_header_is_refused() -> None:
    async with sim() as s:
        with pytest.raises(InvalidStatus) as info:
            await connect(s.endpoint("L1"), additional_headers={"Authorization": f"Basic {TOKEN}"})
        assert info.value.response.status_code == 401


async def test_a_bad_connect_message_gets_not_ok_then_4001() -> None:
    async with sim() as s:
        ws = await open_ws(s.endpoint("L1"), token="wrong", mode="connect")
        ack = await recv_json(ws)
        assert ack == {"t": "ck", "s": "NOT_OK", "emsg": "Invalid session key"}
        await closed_with(ws, 4001, "Invalid session key")
        assert s.connections(TOKEN) == 0


async def test_nothing_but_c_and_h_before_authentication() -> None:
    async with sim() as s:
        ws = await open_ws(s.endpoint("L1"), mode="none")
        await ws.send(json.dumps({"t": "d", "k": RELIANCE}))
        assert await recv_json(ws) == {"t": "er", "emsg": "not authenticated"}
        await ws.send(json.dumps({"t": "h"}))
        assert await recv_json(ws) == {"t": "h"}
        await ws.send(json.dumps({"t": "c", "uid": "U9", "actid": "U9", "susertoken": TOKEN}))
        assert await recv_json(ws) == {"t": "ck", "s": "OK", "uid": "U9"}
        await ws.close()


async def test_an_unknown_path_is_404() -> None:
    async with sim() as s:
        with pytest.raises(InvalidStatus) as info:
            await connect(s.url + "/2.0/market/nope", additional_headers=ws_headers())
        assert info.value.response.status_code == 404


# ------------------------------------------------------------------- session limit


@pytest.mark.parametrize("mode", ["header", "connect"])
async def test_the_third_connection_gets_the_session_limit_and_4029(mode: str) -> None:
    async with sim() as s:
        first = await open_ws(s.endpoint("L1"), mode=mode)
        second = await open_ws(s.endpoint("L1"), mode=mode)
        for ws in (first, second):
            assert (await recv_json(ws))["s"] == "OK"
        third = await open_ws(s.endpoint("L2"), mode=mode)
        assert await recv_json(third) == {
            "t": "ck",
            "s": "NOT_OK",
            "emsg": "Maximum sessions limit",
        }
        await closed_with(third, 4029, "Maximum sessions limit")
        assert s.connections(TOKEN) == 2 and s.max_connections(TOKEN) == 2
        await first.close()
        await until(lambda: s.connections(TOKEN) == 1)
        again = await open_ws(s.endpoint("L1"), mode=mode)
        assert (await recv_json(again))["s"] == "OK"
        await again.close()
        await second.close()


async def test_kick_closes_a_live_session_with_4029() -> None:
    async with sim() as s:
        ws = await open_ws(s.endpoint("L1"))
        await recv_json(ws)
        await ws.send(json.dumps({"t": "d", "k": RELIANCE}))
        await recv_until(ws, "df")
        assert s.kick(TOKEN) == 1
        await recv_until(ws, "ck")
        await closed_with(ws, 4029, "Maximum sessions limit")
        assert s.connections(TOKEN) == 0


async def test_kick_every_fault() -> None:
    async with sim(faults=Faults(kick_every=0.2)) as s:
        ws = await open_ws(s.endpoint("L1"))
        await recv_json(ws)
        assert (await recv_until(ws, "ck", timeout=2))["emsg"] == "Maximum sessions limit"
        await closed_with(ws, 4029)


# ------------------------------------------------------------------- access levels


async def test_l0_serves_touchline_of_its_list_only() -> None:
    async with sim() as s:
        ws = await open_ws(s.endpoint("L0"))
        await recv_json(ws)
        await ws.send(json.dumps({"t": "d", "k": NIFTY}))
        assert await recv_json(ws) == {"t": "er", "emsg": "depth not available at L0", "k": NIFTY}
        await ws.send(json.dumps({"t": "t", "k": f"{MARI}#{NIFTY}#{OGDC}"}))
        assert await recv_json(ws) == {"t": "er", "emsg": "scrip not available at L0", "k": MARI}
        tk = await recv_json(ws)
        assert tk["t"] == "tk" and tk["tk"] == "26000"
        tk = await recv_json(ws)
        assert tk["t"] == "tk" and tk["tk"] == "OGDC" and "bp1" in tk and "bp2" not in tk
        await ws.send(json.dumps({"t": "l", "k": OGDC}))
        assert (await recv_until(ws, "er"))["emsg"] == "order-level data needs L2"
        assert (await recv_until(ws, "tf"))["t"] == "tf"
        await ws.close()


async def test_l1_refuses_order_level_and_l2_serves_it() -> None:
    async with sim() as s:
        ws = await open_ws(s.endpoint("L1"))
        await recv_json(ws)
        await ws.send(json.dumps({"t": "l", "k": RELIANCE}))
        assert await recv_json(ws) == {
            "t": "er",
            "emsg": "order-level data needs L2",
            "k": RELIANCE,
        }
        await ws.close()
        ws = await open_ws(s.endpoint("L2"))
        await recv_json(ws)
        await ws.send(json.dumps({"t": "l", "k": f"{NIFTY}#{RELIANCE}#NSE|999999"}))
        assert await recv_json(ws) == {"t": "er", "emsg": "no order book for an index", "k": NIFTY}
        lk = await recv_json(ws)
        assert lk["t"] == "lk" and lk["b"] and lk["s"]
        assert await recv_json(ws) == {"t": "er", "emsg": "unknown scrip", "k": "NSE|999999"}
        event = await recv_json(ws)
        assert event["t"] in ("lo", "lt") and int(event["sq"]) == int(lk["sq"]) + 1
        await ws.close()


# ------------------------------------------------------------------------ streams


async def test_dk_then_df_and_depth_consistent_with_the_l2_book() -> None:
    keys = [RELIANCE, OGDC, "NSE|1333", "PSX|HBL", "PSX|KEL"]
    async with sim(rate=4000.0, instruments=None) as s:
        s.market.set_weight(RELIANCE, 40.0)
        ws = await open_ws(s.endpoint("L2"))
        await recv_json(ws)
        await ws.send(json.dumps({"t": "l", "k": "#".join(keys)}))
        await ws.send(json.dumps({"t": "d", "k": "#".join(keys)}))
        dfs = count_of("df")
        frames = await collect_until(ws, lambda got: dfs(got) > 600)
        await ws.close()
    replica = Replica()
    seen: dict[str, list[str]] = {}
    checks = 0
    for frame in frames:
        msg = replica.feed(frame)
        assert msg is not None, frame
        key = f"{msg.get('e')}|{msg.get('tk')}"
        seen.setdefault(key, []).append(msg["t"])
        # a step's L2 events come before its df: the two agree at every df
        if msg["t"] == "df" and key in replica.market.books:
            replica.check_depth(key)
            checks += 1
    assert replica.errors.total == 0, replica.errors.samples
    for key in keys:
        kinds = seen[key]
        assert kinds.index("lk") < kinds.index("dk") < kinds.index("df")
        assert "dk" not in kinds[kinds.index("df") :]
    assert checks > 300


async def test_unsubscribe_acks_and_the_data_stops() -> None:
    async with sim(rate=3000.0) as s:
        ws = await open_ws(s.endpoint("L2"))
        await recv_json(ws)
        await ws.send(json.dumps({"t": "t", "k": OGDC}))
        await ws.send(json.dumps({"t": "d", "k": RELIANCE}))
        await ws.send(json.dumps({"t": "l", "k": RELIANCE}))
        await recv_until(ws, "df")
        await ws.send(json.dumps({"t": "u", "k": OGDC}))
        assert (await recv_until(ws, "uk")) == {"t": "uk", "k": OGDC}
        await ws.send(json.dumps({"t": "ud", "k": RELIANCE}))
        assert (await recv_until(ws, "udk")) == {"t": "udk", "k": RELIANCE}
        await ws.send(json.dumps({"t": "ul", "k": RELIANCE}))
        assert (await recv_until(ws, "ulk")) == {"t": "ulk", "k": RELIANCE}
        assert await collect(ws, 0.2) == []
        assert not any(s.subs.values())
        await ws.close()


async def test_heartbeat_and_order_updates() -> None:
    async with sim() as s:
        ws = await open_ws(s.endpoint("L1"))
        await recv_json(ws)
        await ws.send(json.dumps({"t": "h"}))
        assert await recv_json(ws) == {"t": "h"}
        await ws.send(json.dumps({"t": "o", "actid": "U1"}))
        assert await recv_json(ws) == {"t": "er", "emsg": "not supported"}
        await ws.close()


async def test_client_garbage_never_hurts_the_server() -> None:
    garbage: list[str | bytes] = [
        "not json",
        "{",
        "[1,2]",
        "42",
        "null",
        '"t"',
        "{}",
        '{"t":"zz"}',
        '{"t":5}',
        '{"t":"d"}',
        '{"t":"d","k":5}',
        '{"t":"d","k":""}',
        '{"t":"d","k":"###"}',
        '{"t":"c","uid":1,"susertoken":["x"]}',
        '{"t":"t","k":"' + "X|" * 5000 + '"}',
        b"\x00\xff\xfe",
        b'{"t":"h"}',
        '{"t":"l","k":"NSE|2885","extra":{"a":[1,{}]}}',
        '{"t":"d","k":"NSE|2885","t":"ud"}',
        "\ud7ff" * 10,
        '{"t":"ud","k":"NSE|1"}',
    ]
    async with sim() as s:
        ws = await open_ws(s.endpoint("L2"))
        await recv_json(ws)
        for frame in garbage:
            await ws.send(frame)
        await ws.send(json.dumps({"t": "h"}))
        await recv_until(ws, "h")
        frames = await collect(ws, 0.2)
        assert all(isinstance(msgspec.json.decode(f), dict) for f in frames)
        other = await open_ws(s.endpoint("L1"))
        assert (await recv_json(other))["s"] == "OK"
        await other.send(json.dumps({"t": "d", "k": RELIANCE}))
        assert (await recv_until(other, "dk"))["tk"] == "2885"
        await ws.close()
        await other.close()


async def test_a_secret_in_a_malformed_connect_is_not_echoed() -> None:
    async with sim() as s:
        ws = await open_ws(s.endpoint("L1"), mode="none")
        await ws.send(json.dumps({"t": "c", "uid": 5, "susertoken": "s3cr3t-value"}))
        er = await recv_json(ws)
        assert er["t"] == "er" and "s3cr3t-value" not in json.dumps(er)
        await ws.close()


async def test_the_rate_is_paced_on_the_clock_it_is_given() -> None:
    """Pacing on an injected clock: events per second of *that* clock, whatever the
    machine's speed (over the wire a loaded machine delivers late, and its figures would
    measure the machine)."""
    s = sim(rate=512.0)  # times and rates exact in binary: whole events, no rounding
    steps: list[str] = []
    step = s.market.step
    s.market.step = lambda now: steps.append("") or step(now)  # type: ignore[method-assign,func-returns-value]
    backend = s.sim
    assert backend.turn(100.0, True) and steps == []  # the first turn only starts the clock
    backend.turn(100.125, True)
    assert len(steps) == 64  # 1/8 s at 512 a second
    s.set_rate(4096)
    backend.turn(100.25, True)
    assert len(steps) == 64 + 512
    backend.turn(160.0, True)  # a minute behind (a frozen process): a bounded burst, no flood
    assert len(steps) == 64 + 512 + 4096 // 4 + 1
    s.set_rate(0)
    before = len(steps)
    assert not backend.turn(161.0, True) and len(steps) == before


async def test_set_rate_stops_and_restarts_the_stream() -> None:
    async with sim(rate=500.0) as s:
        keys = "#".join(i.key for i in s.instruments)
        ws = await open_ws(s.endpoint("L1"))
        await recv_json(ws)
        await ws.send(json.dumps({"t": "d", "k": keys}))
        await recv_until(ws, "df", timeout=30)
        s.set_rate(0)
        await collect(ws, 0.3)  # what was already on the way
        assert await collect(ws, 0.3) == []
        s.set_rate(500)
        assert (await recv_until(ws, "df", timeout=30))["t"] == "df"
        await ws.close()


@pytest.mark.slow
async def test_same_seed_same_events_on_the_wire() -> None:
    async def events(seed: int) -> dict[str, dict[str, str]]:
        async with sim(seed=seed, rate=3000.0) as s:
            s.market.set_weight(RELIANCE, 30.0)
            ws = await open_ws(s.endpoint("L2"))
            await recv_json(ws)
            await ws.send(json.dumps({"t": "l", "k": RELIANCE}))
            events = count_of("lo")
            frames = await collect_until(ws, lambda got: events(got) > 300)
            await ws.close()
        out = {}
        for f in frames:
            msg = json.loads(f)
            if msg["t"] in ("lo", "lt"):
                out[msg.pop("sq")] = {k: v for k, v in msg.items() if k != "ft"}
        return out

    a, b, c = await events(4), await events(4), await events(5)
    common = a.keys() & b.keys()
    assert len(common) > 100
    assert all(a[sq] == b[sq] for sq in common)
    assert any(a[sq] != c.get(sq) for sq in a.keys() & c.keys())
