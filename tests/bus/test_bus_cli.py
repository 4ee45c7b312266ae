"""The bus from the command line, as a user runs it: a simulator process, a nats-server
that wants a token, ``marketdesk publish`` and ``marketdesk snapshot``/``tail --source``.
Neither the feed's token nor NATS's ever appears in what they print."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.nats_server import NatsServer, running_nats

ROOT = Path(__file__).resolve().parents[2]
FEED_TOKEN = "feed-secret-7c1d"
NATS_TOKEN = "nats-secret-91ab"

pytestmark = pytest.mark.slow


def env() -> dict[str, str]:
    return dict(os.environ, MD_TOKEN=FEED_TOKEN, NATS_TOKEN=NATS_TOKEN, PYTHONUNBUFFERED="1")


def run_cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tui", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        env=env(),
        check=False,
    )


@pytest.fixture(scope="module")
def nats() -> Iterator[NatsServer]:
    with running_nats(args=("--auth", NATS_TOKEN)) as server:
        yield server


@pytest.fixture(scope="module")
def feed_url() -> Iterator[str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "tui.sim", "--port", "0", "--rate", "500", "--token", FEED_TOKEN],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env=env(),
    )
    assert proc.stdout is not None
    url = ""
    deadline = time.monotonic() + 20
    while not url and time.monotonic() < deadline:
        parts = proc.stdout.readline().split()
        if len(parts) >= 2 and parts[0] == "L2":
            url = parts[1]
    assert url, "the simulator did not print its endpoints"
    yield url
    proc.terminate()
    proc.communicate(timeout=10)


@pytest.fixture(scope="module")
def publisher(nats: NatsServer, feed_url: str) -> Iterator[subprocess.Popen[str]]:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tui",
            "publish",
            "--url",
            feed_url,
            "--token-env",
            "MD_TOKEN",
            "--publish",
            nats.url,
            "--nats-token-env",
            "NATS_TOKEN",
            "--grace",
            "2",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env=env(),
    )
    yield proc
    proc.terminate()
    out, err = proc.communicate(timeout=20)
    assert proc.returncode in (0, -15), err
    assert FEED_TOKEN not in out + err and NATS_TOKEN not in out + err


def test_snapshot_and_tail_from_the_bus(nats: NatsServer, publisher: subprocess.Popen[str]) -> None:
    out = run_cli(
        "snapshot",
        "--source",
        nats.url,
        "--nats-token-env",
        "NATS_TOKEN",
        "--scrip",
        "PSX|OGDC",
        "--scrip",
        "NSE|2885",
        "--orders",
        "--seconds",
        "4",
    )
    assert out.returncode == 0, out.stderr
    for secret in (FEED_TOKEN, NATS_TOKEN):
        assert secret not in out.stdout + out.stderr
    doc = json.loads(out.stdout)
    assert set(doc["scrips"]) == {"PSX|OGDC", "NSE|2885"}
    ogdc = doc["scrips"]["PSX|OGDC"]
    assert ogdc["lp"] and ogdc["bids"], ogdc  # prices and depth came over the bus
    assert doc["health"]["state"] == "live" and doc["health"]["endpoint"] == nats.url
    assert doc["health"]["decode_errors"] == 0
    tail = run_cli(
        "tail",
        "--source",
        nats.url,
        "--nats-token-env",
        "NATS_TOKEN",
        "--scrip",
        "PSX|OGDC",
        "--count",
        "3",
        "--seconds",
        "20",
    )
    assert tail.returncode == 0, tail.stderr
    lines = [json.loads(line) for line in tail.stdout.splitlines()]
    assert len(lines) == 3 and all(line["key"] == "PSX|OGDC" for line in lines)


def test_a_wrong_nats_token_is_a_verdict_told_without_the_token(
    nats: NatsServer, feed_url: str
) -> None:
    """Refused credentials are not retried (exit 3, as a refused feed token), for a
    consumer and for a publisher alike."""
    bad = dict(env(), NATS_TOKEN="wrong-token-0000")
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "tui",
            "snapshot",
            "--source",
            nats.url,
            "--nats-token-env",
            "NATS_TOKEN",
            "--scrip",
            "PSX|OGDC",
            "--seconds",
            "30",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        env=bad,
        check=False,
    )
    assert out.returncode == 3, out.stdout + out.stderr
    doc = json.loads(out.stdout)
    assert doc["health"]["state"] == "auth-failed" and doc["health"]["failure"] == "auth"
    assert "uthorization" in doc["health"]["last_error"], doc
    assert "wrong-token-0000" not in out.stdout + out.stderr
    pub = subprocess.run(
        [
            sys.executable,
            "-m",
            "tui",
            "publish",
            "--url",
            feed_url,
            "--token-env",
            "MD_TOKEN",
            "--publish",
            nats.url,
            "--nats-token-env",
            "NATS_TOKEN",
            "--seconds",
            "30",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        env=bad,
        check=False,
    )
    assert pub.returncode == 3, pub.stderr
    assert "refused" in pub.stderr and "wrong-token-0000" not in pub.stdout + pub.stderr


@pytest.mark.parametrize(
    "args",
    [
        ("snapshot", "--source", "nats://me:pw-1234@127.0.0.1:4222", "--scrip", "PSX|OGDC"),
        ("snapshot", "--source", "http://127.0.0.1:4222", "--scrip", "PSX|OGDC"),
        (
            "snapshot",
            "--source",
            "nats://127.0.0.1:4222",
            "--nats-token-env",
            "NO_SUCH_VAR_X",
            "--scrip",
            "PSX|OGDC",
        ),
        (
            "snapshot",
            "--source",
            "nats://127.0.0.1:4222",
            "--nats-creds",
            "/nonexistent.creds",
            "--scrip",
            "PSX|OGDC",
        ),
        (
            "publish",
            "--url",
            "ws://127.0.0.1:1/2.0/market/feed",
            "--publish",
            "nats://u:pw-1234@h:1",
        ),
    ],
)
def test_bad_bus_settings_are_usage_errors_without_secrets(args: tuple[str, ...]) -> None:
    out = run_cli(*args)
    assert out.returncode == 2, out.stderr
    assert "pw-1234" not in out.stdout + out.stderr
    assert out.stderr.strip()
