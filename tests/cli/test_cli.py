"""The headless CLI end to end: a real simulator process, the real `python -m tui` command."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

#: end to end: real processes, servers and clients (deselect with -m "not slow")
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "cli-test-token-5f2a"


def run_cli(
    *args: str, token: str | None = TOKEN, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env.pop("MD_TOKEN", None)
    if token is not None:
        env["MD_TOKEN"] = token
    return subprocess.run(
        [sys.executable, "-m", "tui", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        env=env,
        check=False,
    )


@pytest.fixture(scope="module")
def sim() -> Iterator[dict[str, str]]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "tui.sim", "--port", "0", "--rate", "500", "--token", TOKEN],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env=dict(os.environ, PYTHONUNBUFFERED="1"),
    )
    urls: dict[str, str] = {}
    deadline = time.monotonic() + 20
    assert proc.stdout is not None
    while len(urls) < 3 and time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        parts = line.split()
        if len(parts) >= 2 and parts[0] in ("L0", "L1", "L2"):
            urls[parts[0]] = parts[1]
    assert len(urls) == 3, "the simulator did not print its endpoints"
    yield urls
    proc.terminate()
    out, err = proc.communicate(timeout=10)
    assert TOKEN not in out + err  # the simulator never prints a token


def test_snapshot_prints_exact_prices_depth_and_health(sim):
    out = run_cli(
        "snapshot",
        "--url",
        sim["L1"],
        "--token-env",
        "MD_TOKEN",
        "--scrip",
        "PSX|OGDC",
        "--scrip",
        "NSE|2885#NSE|26000",
        "--seconds",
        "1.5",
    )
    assert out.returncode == 0, out.stderr
    assert TOKEN not in out.stdout + out.stderr
    doc = json.loads(out.stdout)
    assert set(doc["scrips"]) == {"PSX|OGDC", "NSE|2885", "NSE|26000"}
    ogdc = doc["scrips"]["PSX|OGDC"]
    assert ogdc["ts"] == "OGDC" and ogdc["pp"] == 2
    for field in ("lp", "o", "h", "l", "c", "lc", "uc"):
        whole, _, frac = ogdc[field].partition(".")
        assert whole.isdigit() and len(frac) == 2, (field, ogdc[field])
    assert isinstance(ogdc["v"], int) and isinstance(ogdc["ft"], int)
    bids, asks = ogdc["bids"], ogdc["asks"]
    assert 1 <= len(bids) <= 5 and 1 <= len(asks) <= 5
    assert all(
        isinstance(p, str) and isinstance(q, int) and isinstance(n, int) for p, q, n in bids + asks
    )
    assert [float(p) for p, _, _ in bids] == sorted((float(p) for p, _, _ in bids), reverse=True)
    assert float(bids[0][0]) < float(asks[0][0])  # not crossed
    health = doc["health"]
    assert health["state"] in ("live", "stopped") and health["level"] == "L1"
    assert health["messages"] > 0 and health["decode_errors"] == 0 and health["reconnects"] == 0


@pytest.mark.parametrize("auth", ["query", "connect"])
def test_snapshot_with_every_auth_mode(sim, auth):
    out = run_cli(
        "snapshot",
        "--url",
        sim["L1"],
        "--token-env",
        "MD_TOKEN",
        "--auth",
        auth,
        "--scrip",
        "PSX|HBL",
        "--seconds",
        "1",
    )
    assert out.returncode == 0, out.stderr
    assert TOKEN not in out.stdout + out.stderr
    assert json.loads(out.stdout)["scrips"]["PSX|HBL"]["lp"]


def test_a_refused_token_exits_3(sim):
    out = run_cli(
        "snapshot",
        "--url",
        sim["L1"],
        "--token-env",
        "MD_TOKEN",
        "--scrip",
        "PSX|OGDC",
        "--seconds",
        "5",
        token="wrong-token",
    )
    assert out.returncode == 3
    assert json.loads(out.stdout)["health"]["state"] == "auth-failed"
    assert "wrong-token" not in out.stdout + out.stderr


def test_an_unreachable_feed_exits_4():
    with socket.socket() as s:  # a port that nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    out = run_cli(
        "snapshot",
        "--url",
        f"ws://127.0.0.1:{port}/2.0/market/feed/full",
        "--token-env",
        "MD_TOKEN",
        "--scrip",
        "PSX|OGDC",
        "--seconds",
        "1",
    )
    assert out.returncode == 4
    assert json.loads(out.stdout)["health"]["reconnects"] >= 1


@pytest.mark.parametrize(
    "args",
    [
        ("snapshot", "--url", "ws://127.0.0.1:1/x"),  # no --scrip
        ("snapshot", "--url", "ws://127.0.0.1:1/x", "--scrip", "OGDC"),  # not EXCH|TOKEN
        (
            "snapshot",
            "--url",
            "ws://127.0.0.1:1/x",
            "--scrip",
            "PSX|OGDC",
            "--token-env",
            "MD_NOPE",
        ),
        ("snapshot", "--scrip", "PSX|OGDC"),  # no --url
    ],
)
def test_usage_errors_exit_2(args):
    out = run_cli(*args)
    assert out.returncode == 2, out.stderr
    assert out.stderr.strip()


def test_an_unsafe_token_file_is_refused(tmp_path):
    f = tmp_path / "token"
    f.write_text(TOKEN)
    f.chmod(0o644)
    out = run_cli(
        "snapshot", "--url", "ws://127.0.0.1:1/x", "--scrip", "PSX|OGDC", "--token-file", str(f)
    )
    assert out.returncode == 2 and "chmod 600" in out.stderr and TOKEN not in out.stderr


def test_tail_prints_merged_updates_as_json_lines(sim):
    out = run_cli(
        "tail",
        "--url",
        sim["L2"],
        "--token-env",
        "MD_TOKEN",
        "--scrip",
        "PSX|OGDC",
        "--scrip",
        "PSX|HBL",
        "--count",
        "4",
        "--seconds",
        "20",
    )
    assert out.returncode == 0, out.stderr
    lines = [json.loads(line) for line in out.stdout.splitlines()]
    assert len(lines) == 4
    assert {line["key"] for line in lines} <= {"PSX|OGDC", "PSX|HBL"}
    assert all(line["lp"] and "bids" in line and "time" in line for line in lines)


def test_the_console_entry_points_answer():
    assert run_cli("--version").stdout.startswith("marketdesk ")
    help_text = run_cli("--help").stdout
    for command in ("sim", "snapshot", "tail"):
        assert command in help_text
