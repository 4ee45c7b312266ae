"""``marketdesk replay``: a recording served through the protocol server.  Clients of any
auth mode connect as to the simulator; one that saw the whole replay, one that joined in
the middle and one that started ``--from`` a moment all end with the recording's state."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tui.feed.client import FeedClient
from tui.feed.config import FeedConfig
from tui.market.export import scrip_json
from tui.market.store import Market
from tui.record.reader import Recording
from tui.replay.server import ReplayServer
from tui.replay.source import ReplaySource
from tui.replay.synthetic import synthetic_recording
from tui.replay.timeline import NS
from tui.server.config import ServerConfig
from tui.wire.frames import DecodeErrors

ROOT = Path(__file__).resolve().parents[2]
KEYS = ["PSX|OGDC", "PSX|HBL", "PSX|LUCK", "PSX|ENGRO", "NSE|26000"]
STOCKS = [k for k in KEYS if k.startswith("PSX")]
TOKEN = "demo-token"
TOKEN2 = "second-token"  # a process holds one client per token: the late joiner has its own
CONFIG = ServerConfig(users=(("REPLAY1", TOKEN), ("REPLAY2", TOKEN2)))


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return synthetic_recording(
        tmp_path_factory.mktemp("srv"), seed=9, rate=2000, seconds=4, keys=KEYS
    )


def picture(market: Market) -> dict[str, Any]:
    market.sweep()
    scrips = {k: scrip_json(s) for k in sorted(market.scrips) if (s := market.view(k))}
    books = {
        k: sorted((oid, tuple(o)) for oid, o in b.orders.items())
        for k, b in sorted(market.books.items())
    }
    return {"scrips": scrips, "books": books}


def recorded_end(files: list[Path]) -> dict[str, Any]:
    market = Market(DecodeErrors())
    ReplaySource(Recording(files), market, speed=0).advance_to(1 << 62)
    return picture(market)


async def until(cond: Callable[[], bool], timeout: float = 60) -> None:
    end = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < end, "condition not met in time"
        await asyncio.sleep(0.02)


def client(url: str, auth: str = "header", token: str = TOKEN) -> FeedClient:
    c = FeedClient(FeedConfig(url=url, token=token, auth=auth), Market(DecodeErrors()))
    c.subscribe(KEYS, depth=True, orders=False)
    c.subscribe(STOCKS, depth=True, orders=True)
    return c


async def settled(server: ReplayServer, clients: list[FeedClient]) -> None:
    """The replay ended and every client read all it was sent."""
    await until(lambda: server.replay.ended)
    await until(lambda: all(s.sent == 0 or not s.parts for s in server.sessions))
    before = [-1] * len(clients)
    while [c.health.messages for c in clients] != before:  # nothing more arriving
        before = [c.health.messages for c in clients]
        await asyncio.sleep(0.3)


@pytest.mark.parametrize("auth", ["header", "query", "connect"])
async def test_a_client_of_any_auth_mode_ends_with_the_recorded_state(
    files: list[Path], auth: str
) -> None:
    async with ReplayServer(Recording(files), CONFIG, speed=0) as server:
        c = client(server.endpoint("L2"), auth)
        task = asyncio.create_task(c.run())
        try:
            await settled(server, [c])
            assert c.health.state == "live" and c.health.sessions == 1
        finally:
            await c.stop()
            await task
    assert picture(c.market) == recorded_end(files)  # type: ignore[arg-type]
    assert not c.market.errors.by_kind


async def test_a_client_joining_mid_replay_or_from_a_moment_ends_with_the_same_state(
    files: list[Path],
) -> None:
    expected = recorded_end(files)
    async with ReplayServer(Recording(files), CONFIG, speed=1.0) as server:
        first = client(server.endpoint("L2"))
        tasks = [asyncio.create_task(first.run())]
        await until(
            lambda: (
                server.replay.started
                and server.replay.clock.now_ns()
                > server.replay.recording.header.started_ns + 2 * NS
            )
        )
        late = client(server.endpoint("L2"), "connect", TOKEN2)  # starts from the cache
        tasks.append(asyncio.create_task(late.run()))
        try:
            await settled(server, [first, late])
        finally:
            for c in (first, late):
                await c.stop()
            await asyncio.gather(*tasks)
    assert picture(first.market) == expected  # type: ignore[arg-type]
    assert picture(late.market) == expected  # type: ignore[arg-type]
    start = Recording(files).header.started_ns
    async with ReplayServer(Recording(files), CONFIG, speed=0, start_ns=start + 3 * NS) as server:
        c = client(server.endpoint("L2"), "query")
        task = asyncio.create_task(c.run())
        try:
            await settled(server, [c])
        finally:
            await c.stop()
            await task
    assert picture(c.market) == expected  # type: ignore[arg-type]


async def test_a_wrong_token_and_what_the_recording_lacks_are_refused(files: list[Path]) -> None:
    async with ReplayServer(Recording(files), CONFIG, speed=0) as server:
        bad = FeedClient(
            FeedConfig(url=server.endpoint("L2"), token="nope"), Market(DecodeErrors())
        )
        await asyncio.wait_for(bad.run(), 30)
        assert bad.health.state == "auth-failed"
        refusals: list[str] = []
        c = FeedClient(FeedConfig(url=server.endpoint("L1"), token=TOKEN), Market(DecodeErrors()))
        c.on_event = lambda kind, text: refusals.append(text) if kind == "refused" else None
        c.subscribe(["NSE|99999"])
        c.subscribe(["PSX|OGDC"], orders=True)
        task = asyncio.create_task(c.run())
        try:
            await until(lambda: c.health.refused >= 2)
        finally:
            await c.stop()
            await task
        assert "scrip not in the recording (NSE|99999)" in c.health.last_refusal or any(
            "not in the recording" in r for r in refusals
        )
        assert server.max_connections(TOKEN) == 1


@pytest.mark.slow
def test_the_replay_command_serves_a_recording_to_marketdesk_snapshot(files: list[Path]) -> None:
    env = dict(os.environ, MD_TOKEN="s3cret-replay")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tui",
            "replay",
            *map(str, files),
            "--port",
            "0",
            "--speed",
            "0",
            "--token-env",
            "MD_TOKEN",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env=env,
    )
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline() for _ in range(5)]
        assert lines[0].startswith("marketdesk replay: ") and "s3cret" not in "".join(lines)
        url = next(line.split()[1] for line in lines if line.strip().startswith("L2"))
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "tui",
                "snapshot",
                "--url",
                url,
                "--token-env",
                "MD_TOKEN",
                "--scrip",
                "PSX|OGDC",
                "--seconds",
                "3",
            ],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=ROOT,
            env=env,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        doc = json.loads(done.stdout)
        assert doc["scrips"]["PSX|OGDC"]["lp"] == recorded_end(files)["scrips"]["PSX|OGDC"]["lp"]
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.mark.slow
async def test_the_reference_noren_client_replays_unchanged(files: list[Path]) -> None:
    """NorenRestApiPy (its own connect message, heartbeats and depth requests) against a
    replay: it receives the recorded frames of the scrips it asked for."""
    import threading

    from support.waiting import until as until_sync

    noren = pytest.importorskip("NorenRestApiPy.NorenApi")
    async with ReplayServer(Recording(files), CONFIG, speed=0) as server:
        received: list[dict[str, Any]] = []
        errors: list[Any] = []
        api = noren.NorenApi(
            host="http://127.0.0.1:1/NorenWClientTP/", websocket=server.endpoint("L1")
        )
        api.set_session(userid="FA12345", password="", usertoken=TOKEN)
        api.start_websocket(
            subscribe_callback=received.append,
            socket_error_callback=errors.append,
            socket_open_callback=lambda: api.subscribe(["PSX|OGDC", "PSX|HBL"], feed_type=2),
        )
        try:
            await until_sync(lambda: server.replay.ended and len(received) > 100)
            await asyncio.sleep(0.5)
        finally:
            threading.Thread(target=api.close_websocket, daemon=True).start()
    assert not errors
    assert {m["tk"] for m in received} == {"OGDC", "HBL"}
    assert {m["t"] for m in received} <= {"dk", "df"}
    last: dict[str, dict[str, Any]] = {}
    for m in received:
        last.setdefault(m["tk"], {}).update(m)
    assert last["OGDC"]["lp"] == recorded_end(files)["scrips"]["PSX|OGDC"]["lp"]


@pytest.mark.parametrize("dialect", ["noren", "firstock-v2"])
async def test_a_broker_dialects_recording_replays_into_the_desk_and_serves_as_psx(
    tmp_path: Path,
    dialect: str,
) -> None:
    """A recording of a broker dialect is read with that dialect (the desk's replay source)
    and served in the seed's protocol: both end with the live client's state."""
    from tui.recording import attach_recorder
    from tui.sim.server import SimConfig, SimServer

    keys = ["PSX|OGDC", "PSX|HBL", "NSE|2885"]
    async with SimServer(SimConfig(seed=4, rate=600, tokens=(TOKEN,), dialect=dialect)) as sim:
        url = f"{sim.url}/V2/ws" if dialect == "firstock-v2" else sim.endpoint("L1")
        live = FeedClient(
            FeedConfig(url=url, token=TOKEN, uid="FA12345", dialect=dialect), Market(DecodeErrors())
        )
        live.subscribe(keys, depth=True)
        recorder = attach_recorder(live, tmp_path)
        task = asyncio.create_task(live.run())
        try:
            await until(lambda: live.health.messages >= 300)
        finally:
            await live.stop()
            await task
            recorder.close()
    expected = picture(live.market)  # type: ignore[arg-type]
    files = sorted(tmp_path.glob("*.mdrec"))
    assert Recording(files).header.dialect == dialect
    market = Market(DecodeErrors())
    ReplaySource(Recording(files), market, speed=0).advance_to(1 << 62)
    assert picture(market) == expected and not market.errors.by_kind
    async with ReplayServer(Recording(files), CONFIG, speed=0) as server:
        c = FeedClient(FeedConfig(url=server.endpoint("L1"), token=TOKEN), Market(DecodeErrors()))
        c.subscribe(keys, depth=True)
        task = asyncio.create_task(c.run())
        try:
            await settled(server, [c])
        finally:
            await c.stop()
            await task
    assert picture(c.market) == expected  # type: ignore[arg-type]
