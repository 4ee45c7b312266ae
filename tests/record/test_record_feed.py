"""Recording a real feed session (the client's tap against the simulator over a socket):
what is recorded, that no secret ever reaches a file in any auth mode, and the CLI's
``record`` command and ``tail --record``."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pytest

from tui.feed.client import FeedClient
from tui.feed.config import FeedConfig
from tui.market.store import Market
from tui.record import format as fmt
from tui.record.reader import Recording, RecordingFile
from tui.recording import attach_recorder
from tui.sim.server import SimConfig, SimServer
from tui.wire.dialects import DIALECTS
from tui.wire.frames import DecodeErrors

ROOT = Path(__file__).resolve().parents[2]
#: a token with characters that change when percent-encoded (a query string)
SECRET = "s3cr3t/Tok+en=42&x"
KEYS = ["NSE|26000", "NSE|2885"]


async def wait_for(cond, timeout: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not cond():
        assert loop.time() < end, "condition not met in time"
        await asyncio.sleep(0.02)


async def record_session(
    directory: Path, url: str, auth: str, *, token: str = SECRET, frames: int = 200
) -> FeedClient:
    client = FeedClient(FeedConfig(url=url, token=token, auth=auth), Market(DecodeErrors()))
    client.subscribe(KEYS, depth=True, orders=True)
    recorder = attach_recorder(client, directory)
    task = asyncio.create_task(client.run())
    try:
        await wait_for(lambda: client.health.messages >= frames)
    finally:
        await client.stop()
        await task
        recorder.close()
    return client


def everything_in(directory: Path) -> bytes:
    """Every byte of every file, with each block decompressed."""
    out = bytearray()
    for path in sorted(directory.glob("*.mdrec")):
        out += path.read_bytes()
        for _, _, _, data in RecordingFile(path).blocks():
            out += data
    return bytes(out)


def assert_no_secret(blob: bytes, secret: str = SECRET) -> None:
    for form in {secret, quote(secret, safe=""), quote(secret)}:
        assert form.encode() not in blob, f"the secret ({len(form)} chars) reached a recording"


@pytest.mark.parametrize("auth", ["header", "query", "connect"])
async def test_no_secret_reaches_a_recording_in_any_auth_mode(tmp_path: Path, auth: str) -> None:
    async with SimServer(SimConfig(seed=3, rate=500, tokens=(SECRET,))) as sim:
        await record_session(tmp_path, sim.endpoint("L2"), auth)
    blob = everything_in(tmp_path)
    assert b'"t":"dk"' in blob and b'"t":"lk"' in blob  # it did record the session
    assert_no_secret(blob)


@pytest.mark.parametrize("dialect", [d for d in DIALECTS if d != "psx"])
async def test_no_secret_reaches_a_recording_in_any_dialect(tmp_path: Path, dialect: str) -> None:
    """Each broker dialect puts the token in its own place (``susertoken``, ``accesstoken``,
    ``jKey`` in the URL): none of them reaches the files."""
    async with SimServer(SimConfig(seed=3, rate=500, tokens=(SECRET,), dialect=dialect)) as sim:
        url = f"{sim.url}/V2/ws" if dialect == "firstock-v2" else sim.endpoint("L1")
        client = FeedClient(
            FeedConfig(url=url, token=SECRET, uid="FA12345", dialect=dialect),
            Market(DecodeErrors()),
        )
        client.subscribe(KEYS, depth=True)
        recorder = attach_recorder(client, tmp_path)
        task = asyncio.create_task(client.run())
        try:
            await wait_for(lambda: client.health.messages >= 50)
        finally:
            await client.stop()
            await task
            recorder.close()
    rec = Recording(tmp_path.glob("*.mdrec"))
    assert rec.header.dialect == dialect
    assert sum(1 for k, _, _ in rec.records() if k == fmt.RECEIVED) >= 50
    sent = [p for k, _, p in rec.records() if k == fmt.SENT]
    assert sent, "the requests are recorded"
    assert_no_secret(everything_in(tmp_path))


async def test_a_token_carried_in_the_url_is_redacted_from_header_and_events(
    tmp_path: Path,
) -> None:
    async with SimServer(SimConfig(seed=3, rate=500, tokens=(SECRET,))) as sim:
        url = sim.endpoint("L1") + "?token=" + quote(SECRET, safe="")
        await record_session(tmp_path, url, "query", token="")
    (path,) = tmp_path.glob("*.mdrec")
    assert RecordingFile(path).header.endpoint.endswith("?token=<redacted>")
    assert_no_secret(everything_in(tmp_path))


async def test_a_feed_that_echoes_the_token_has_it_scrubbed_from_the_frame(tmp_path: Path) -> None:
    """The simulator answers a malformed connect by quoting the request: the recorder
    scrubs the secret from received frames too."""
    async with SimServer(SimConfig(seed=3, rate=500, tokens=(SECRET,))) as sim:
        client = FeedClient(
            FeedConfig(url=sim.endpoint("L1"), token=SECRET), Market(DecodeErrors())
        )
        recorder = attach_recorder(client, tmp_path)
        recorder.received(b'{"t":"er","emsg":"bad token ' + SECRET.encode() + b'"}')
        recorder.close()
    ((_, _, payload),) = RecordingFile(next(tmp_path.glob("*.mdrec"))).records()
    assert payload == b'{"t":"er","emsg":"bad token <redacted>"}'


async def test_a_session_is_recorded_with_its_requests_and_connection_events(
    tmp_path: Path,
) -> None:
    async with SimServer(SimConfig(seed=3, rate=500)) as sim:
        client = await record_session(tmp_path, sim.endpoint("L2"), "connect", token="demo-token")
    rec = Recording(tmp_path.glob("*.mdrec"))
    header = rec.header
    assert header.level == "L2" and header.auth == "connect" and header.dialect == "psx"
    assert header.program.startswith("marketdesk ") and "/2.0/market/feed/l2" in header.endpoint
    assert header.subscriptions == {"d": KEYS, "l": KEYS}
    records = list(rec.records())
    kinds = [fmt.KINDS[k] for k, _, _ in records]
    assert kinds[0] == "opened" and kinds[1] == "sent" and kinds[-1] == "closed"
    connect = json.loads(records[1][2])
    assert connect["t"] == "c" and connect["susertoken"] == "<redacted>"
    assert "acknowledged" in kinds
    sent = [json.loads(p)["t"] for k, _, p in records if k == fmt.SENT]
    assert {"c", "d", "l"} <= set(sent)
    closed = json.loads(records[-1][2])
    assert closed["code"] == 1000 and "client stopped" in closed["reason"]
    received = [p for k, _, p in records if k == fmt.RECEIVED]
    assert len(received) == client.health.messages  # every frame, none twice
    assert rec.damage == []


def run_cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, MD_TOKEN=SECRET)
    return subprocess.run(
        [sys.executable, "-m", "tui", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        env=env,
        check=False,
    )


@pytest.mark.slow
async def test_the_record_command_and_tail_record_write_recordings(tmp_path: Path) -> None:
    async with SimServer(SimConfig(seed=3, rate=500, tokens=(SECRET,))) as sim:
        url = sim.endpoint("L2")
        rec = asyncio.to_thread(
            run_cli,
            "record",
            "--url",
            url,
            "--token-env",
            "MD_TOKEN",
            "--auth",
            "query",
            "--scrip",
            "NSE|26000",
            "--orders",
            "--record",
            str(tmp_path / "rec"),
            "--seconds",
            "2",
        )
        tail = asyncio.to_thread(
            run_cli,
            "tail",
            "--url",
            url,
            "--token-env",
            "MD_TOKEN",
            "--scrip",
            "NSE|2885",
            "--seconds",
            "2",
            "--record",
            str(tmp_path / "tail"),
        )
        done_rec, done_tail = await asyncio.gather(rec, tail)
    assert done_rec.returncode == 0, done_rec.stderr
    summary = json.loads(done_rec.stderr.strip().splitlines()[-1])
    assert summary["records"] > 10 and summary["errors"] == 0 and len(summary["files"]) == 1
    assert done_tail.returncode == 0, done_tail.stderr
    for name in ("rec", "tail"):
        files = list((tmp_path / name).glob("*.mdrec"))
        assert files and sum(1 for _ in Recording(files).records()) > 10
        assert_no_secret(everything_in(tmp_path / name))
    assert SECRET not in done_rec.stderr + done_rec.stdout


def test_an_unwritable_record_directory_is_one_line_and_exit_2(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    done = run_cli(
        "record",
        "--url",
        "ws://127.0.0.1:9/2.0/market/feed",
        "--token-env",
        "MD_TOKEN",
        "--scrip",
        "NSE|26000",
        "--record",
        str(blocker / "sub"),
    )
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0 and "--record" in done.stderr, done.stderr
    os.environ["MD_CLIENT_TOKEN"] = "a-client-token"
    try:
        done = run_cli(
            "relay",
            "--url",
            "ws://127.0.0.1:9/2.0/market/feed",
            "--token-env",
            "MD_TOKEN",
            "--client-token-env",
            "MD_CLIENT_TOKEN",
            "--listen",
            "127.0.0.1:0",
            "--record",
            str(blocker / "sub"),
        )
    finally:
        del os.environ["MD_CLIENT_TOKEN"]
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().count("\n") == 0 and "--record" in done.stderr, done.stderr


async def test_the_relay_records_its_upstream_and_no_token_reaches_the_files(
    tmp_path: Path,
) -> None:
    """``marketdesk relay --record DIR``: the upstream client's frames are recorded; neither
    the upstream token nor a client's reaches a file."""
    from tui.relay.cli import serve
    from tui.relay.server import RelayConfig

    client_token = "client-token-of-a-desk"
    async with SimServer(SimConfig(seed=3, rate=800, tokens=(SECRET,))) as sim:
        with socket.socket() as probe:  # a free port for the relay (serve() prints it)
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        config = RelayConfig(
            upstream=FeedConfig(url=sim.endpoint("L2"), token=SECRET, auth="query"),
            clients=(("DESK", client_token),),
            port=port,
        )
        server = asyncio.create_task(serve(config, record=tmp_path / "relay"))
        await wait_for(lambda: any((tmp_path / "relay").glob("*.mdrec")))
        await wait_for(lambda: sim.connections(SECRET) == 1)
        desk = FeedClient(
            FeedConfig(url=f"ws://127.0.0.1:{port}/2.0/market/feed/l2", token=client_token),
            Market(DecodeErrors()),
        )
        desk.subscribe(KEYS, depth=True, orders=True)
        task = asyncio.create_task(desk.run())
        try:
            await wait_for(lambda: desk.health.messages >= 100)
        finally:
            await desk.stop()
            await task
            server.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await server
    rec = Recording((tmp_path / "relay").glob("*.mdrec"))
    frames = [p for k, _, p in rec.records() if k == fmt.RECEIVED]
    kinds = {f[:12] for f in frames}
    assert any(b'"t":"dk"' in f for f in frames), kinds
    assert any(b'"t":"lk"' in f for f in frames), kinds
    assert rec.header.endpoint.endswith("?token=<redacted>") and rec.damage == []
    blob = everything_in(tmp_path / "relay")
    assert_no_secret(blob)
    assert_no_secret(blob, client_token)
