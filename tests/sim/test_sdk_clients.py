"""The brokers' own SDKs, unmodified, as clients of the simulator in their dialect.

Each SDK runs in a child process with only its own install directory on ``PYTHONPATH``
(``tools/sdk_envs.py``: NorenRestApiPy 0.0.22 and norenrestapi 0.0.37 both install a
``NorenRestApiPy/`` folder, so they cannot share one environment).  The child prints what
the SDK's callbacks receive; the test checks it against the simulator's instruments.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest
from support.sim_client import TOKEN

from tui.sim.instruments import INSTRUMENTS
from tui.sim.server import SimConfig, SimServer

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools"))
import sdk_envs

pytestmark = pytest.mark.slow
DRIVERS = Path(__file__).parent / "sdk_drivers"
INST = {i.key: i for i in INSTRUMENTS}
KEYS = ("NSE|26000", "NSE|2885", "PSX|OGDC")


def sdk_path(dist: str) -> Path:
    try:
        return sdk_envs.ensure(dist)
    except RuntimeError as exc:  # offline and never installed: say so
        pytest.skip(str(exc))


async def run_driver(
    dist: str, script: str, *args: str, cwd: Path | None = None, timeout: float = 60.0
) -> list[dict[str, Any]]:
    """Run a driver under ``dist``'s directory; its JSON lines."""
    env = {**os.environ, "PYTHONPATH": str(sdk_path(dist)), "SDK_TOKEN": TOKEN}
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        str(DRIVERS / script),
        *args,
        env=env,
        cwd=cwd,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(), timeout)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise
    lines = [json.loads(line) for line in out.decode().splitlines() if line.startswith("{")]
    assert lines, err.decode()[-2000:]
    return lines


def data(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [line["msg"] for line in lines if line["event"] == "data"]


async def wait_released(sim: SimServer) -> None:
    for _ in range(250):
        if sim.connections(TOKEN) == 0:
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the SDK's session never ended on the server")


def check_noren_depth(msgs: list[dict[str, Any]]) -> None:
    """dk then df for every key, with the instruments' own static values."""
    for key in KEYS:
        e, _, tk = key.partition("|")
        mine = [m for m in msgs if m.get("e") == e and m.get("tk") == tk]
        assert mine and mine[0]["t"] == "dk", key
        assert any(m["t"] == "df" for m in mine[1:]), key
        inst, first = INST[key], mine[0]
        assert (first["ts"], first["pp"], first["c"]) == (
            inst.symbol,
            "2",
            inst.price_text(inst.close),
        )
        if not inst.index:
            assert first["lc"] == inst.price_text(inst.lc) and first["uc"] == inst.price_text(
                inst.uc
            )
            assert float(first["bp1"]) < float(first["sp1"])
            assert all(
                f"{side}{i}" in first
                for side in ("bp", "bq", "bo", "sp", "sq", "so")
                for i in range(1, 6)
            )


@pytest.mark.parametrize(
    ("dist", "dialect"), [("NorenRestApiPy", "noren"), ("norenrestapi", "noren-token")]
)
async def test_noren_sdk_receives_depth_in_its_dialect(dist: str, dialect: str) -> None:
    """NorenRestApiPy 0.0.22 connects with ``c`` (susertoken), norenrestapi 0.0.37 with
    ``a`` (accesstoken); both get ``ck OK`` (their on_open), then ``dk``/``df``."""
    async with SimServer(SimConfig(rate=3000.0, dialect=dialect)) as sim:
        lines = await run_driver(
            dist,
            "noren_driver.py",
            sim.endpoint("L1"),
            "FA12345",
            "SDK_TOKEN",
            "#".join(KEYS),
            "20",
        )
        events = [line["event"] for line in lines]
        assert events[0] == "open" and "error" not in events, lines[:3]
        assert {"event": "done", "complete": True} in lines
        check_noren_depth(data(lines))
        await wait_released(sim)
        assert sim.max_connections(TOKEN) == 1


async def test_norenrestapi_token_connect_is_refused_by_a_classic_noren_feed() -> None:
    """The reason for the noren-token dialect: a classic feed does not know ``a``."""
    async with SimServer(SimConfig(rate=500.0, dialect="noren")) as sim:
        lines = await run_driver(
            "norenrestapi",
            "noren_driver.py",
            sim.endpoint("L1"),
            "FA12345",
            "SDK_TOKEN",
            "NSE|26000",
            "2",
        )
        assert "open" not in [line["event"] for line in lines]
        assert {"event": "done", "complete": False} in lines
        assert sim.max_connections(TOKEN) == 0


def check_firstock_frames(msgs: list[dict[str, Any]], names: list[str]) -> None:
    """Frames keyed ``EXCH:TOKEN``, prices in paise, limits a hair off the paisa."""
    for name in names:
        key = name.replace(":", "|")
        inst = INST[key]
        mine = [m[name] for m in msgs if name in m]
        assert len(mine) >= 2, name
        first = mine[0]
        e, _, tk = key.partition("|")
        assert (first["c_exch_seg"], first["c_symbol"]) == (e, tk)
        assert first["i_closing_price"] == inst.close
        assert first["i_yearly_high_price"] == inst.h52 and first["i_yearly_low_price"] == inst.l52
        assert isinstance(first["i_last_traded_price"], int)
        if inst.index:
            continue
        # the SDK's json.loads made floats of them: within a hair of the limit in paise
        for field, limit in (
            ("i_upper_circuit_limit", inst.uc),
            ("i_lower_circuit_limit", inst.lc),
        ):
            assert isinstance(first[field], float) and abs(first[field] - limit) < 1e-6
        assert inst.lc <= first["i_last_traded_price"] <= inst.uc
        buy, sell = first["best_buy"], first["best_sell"]
        assert len(buy) == len(sell) == 5
        assert all(set(level) <= {"price", "quantity", "orders"} for level in buy + sell)
        assert buy[0]["price"] < sell[0]["price"]
        assert [lv["price"] for lv in buy if lv] == sorted(
            (lv["price"] for lv in buy if lv), reverse=True
        )


async def test_firstock_sdk_receives_v2_frames(tmp_path: Path) -> None:
    names = ["NSE:26000", "NSE:2885", "PSX:OGDC"]
    async with SimServer(SimConfig(rate=3000.0, dialect="firstock-v2")) as sim:
        host = f"127.0.0.1:{sim.port}/V2"
        lines = await run_driver(
            "firstock",
            "firstock_driver.py",
            host,
            "FA12345",
            "SDK_TOKEN",
            "|".join(names),
            "20",
            cwd=tmp_path,
        )
        # the SDK's reader thread may print data before the driver prints its init line
        init = next(line for line in lines if line.get("event") == "init")
        assert init == {"event": "init", "ok": True, "error": None}, init
        assert {"event": "subscribe", "error": None} in lines
        assert {"event": "done", "complete": True} in lines
        check_firstock_frames(data(lines), names)
        await wait_released(sim)


async def test_firstock_sdk_with_its_default_origin_is_refused_by_websockets(
    tmp_path: Path,
) -> None:
    """Why the test above passes ``origin: None``: two Origin headers are an HTTP 400."""
    driver = (DRIVERS / "firstock_driver.py").read_text()
    assert '"origin": None,' in driver
    driver = driver.replace('"origin": None,', "")
    (tmp_path / "default_origin.py").write_text(driver)
    async with SimServer(SimConfig(rate=100.0, dialect="firstock-v2")) as sim:
        env = {**os.environ, "PYTHONPATH": str(sdk_path("firstock")), "SDK_TOKEN": TOKEN}
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "default_origin.py",
            f"127.0.0.1:{sim.port}/V2",
            "FA12345",
            "SDK_TOKEN",
            "NSE:26000",
            "2",
            env=env,
            cwd=tmp_path,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, _ = await asyncio.wait_for(proc.communicate(), 60)
        init = json.loads(out.decode().splitlines()[0])
        assert init["ok"] is False and "400" in init["error"]["error"]["message"]


async def test_firstock_sdk_is_told_of_a_bad_key_and_of_the_session_limit(tmp_path: Path) -> None:
    async with SimServer(SimConfig(rate=100.0, dialect="firstock-v2", max_sessions=0)) as sim:
        host = f"127.0.0.1:{sim.port}/V2"
        lines = await run_driver(
            "firstock",
            "firstock_driver.py",
            host,
            "FA12345",
            "SDK_TOKEN",
            "NSE:26000",
            "2",
            cwd=tmp_path,
        )
        assert lines[0]["ok"] is False
        assert "Maximum sessions limit" in lines[0]["error"]["error"]["message"]
    async with SimServer(SimConfig(rate=100.0, dialect="firstock-v2", tokens=("other",))) as sim:
        lines = await run_driver(
            "firstock",
            "firstock_driver.py",
            f"127.0.0.1:{sim.port}/V2",
            "FA12345",
            "SDK_TOKEN",
            "NSE:26000",
            "2",
            cwd=tmp_path,
        )
        assert lines[0]["ok"] is False
        assert "Unexpected authentication response" in lines[0]["error"]["error"]["message"]
        assert (
            '"status": "failed"' in lines[0]["error"]["error"]["message"]
            or '"status":"failed"' in lines[0]["error"]["error"]["message"]
        )
