"""The CLI on permanent failures, end to end: the real `python -m tui` against a feed served
from a thread of this process (TLS with a throwaway CA from ``trustme``).

A failure that retrying cannot cure ends the command with its own exit code and one reason
in the JSON; nothing is retried for ever (``--seconds`` is far longer than any run here
may take: the subprocess timeout would catch a command that kept retrying)."""

from __future__ import annotations

import asyncio
import json
import os
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme
from support.fake_feed import FakeFeed
from test_cli import run_cli

from tui import cli
from tui.cli_parser import build_parser

#: end to end: real processes, servers and clients (deselect with -m "not slow")
pytestmark = pytest.mark.slow

TOKEN = "cli-test-token-5f2a"  # what run_cli puts in MD_TOKEN
LONG = "300"  # --seconds: only a failure ends these runs before the subprocess times out
ENDS_WITHIN = 120.0  # the subprocess's own bound: a generous one, never reached when green


class ThreadFeed:
    """A FakeFeed on its own event loop in a thread, so a subprocess can connect to it."""

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self.feed = FakeFeed(TOKEN)
        self.tls = tls
        self.ready = threading.Event()
        self.thread = threading.Thread(target=asyncio.run, args=(self._serve(),), daemon=True)

    async def _serve(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.stop = asyncio.Event()
        async with self.feed.running(tls=self.tls):
            self.ready.set()
            await self.stop.wait()

    def __enter__(self) -> FakeFeed:
        self.thread.start()
        assert self.ready.wait(30), "the feed thread did not start"
        return self.feed

    def __exit__(self, *exc: object) -> None:
        self.loop.call_soon_threadsafe(self.stop.set)
        self.thread.join(30)


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def tls_feed(ca: trustme.CA) -> Iterator[FakeFeed]:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    with ThreadFeed(context) as feed:
        yield feed


@pytest.fixture
def ca_pem(ca: trustme.CA, tmp_path: Path) -> Path:
    path = tmp_path / "private-ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return path


def snapshot(url: str, *extra: str) -> tuple[int, dict, str]:
    out = run_cli(
        "snapshot",
        "--url",
        url,
        "--token-env",
        "MD_TOKEN",
        "--scrip",
        "NSE|1",
        "--seconds",
        LONG,
        *extra,
        timeout=ENDS_WITHIN,
    )
    assert TOKEN not in out.stdout + out.stderr
    return out.returncode, json.loads(out.stdout) if out.stdout else {}, out.stderr


def test_an_untrusted_certificate_exits_3_at_once(tls_feed):
    code, doc, _ = snapshot(tls_feed.url())
    assert code == 3
    health = doc["health"]
    assert health["state"] == "failed" and health["failure"] == "tls"
    assert health["last_error"].startswith("TLS certificate not trusted")
    assert health["last_error_current"] is True and health["reconnects"] == 0


def test_ca_file_trusts_a_private_ca(tls_feed, ca_pem):
    out = run_cli(
        "snapshot",
        "--url",
        tls_feed.url(),
        "--token-env",
        "MD_TOKEN",
        "--scrip",
        "NSE|1",
        "--seconds",
        "1",
        "--ca-file",
        str(ca_pem),
    )
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["scrips"]["NSE|1"]["lp"] == "100.05" and doc["health"]["failure"] == ""


def test_ca_file_in_the_config_file_is_found_beside_it(tls_feed, ca_pem, tmp_path):
    config = tmp_path / "config.toml"
    config.write_text(f'[feed]\nurl = "{tls_feed.url()}"\ntoken_env = "MD_TOKEN"\n'
                      f'ca_file = "{ca_pem.name}"\n')  # fmt: skip
    out = run_cli("snapshot", "--config", str(config), "--scrip", "NSE|1", "--seconds", "1")
    assert out.returncode == 0, out.stderr


def test_a_404_on_the_upgrade_exits_4_at_once():
    with ThreadFeed() as feed:
        feed.reject_status = 404
        code, doc, _ = snapshot(feed.url("/no/such/feed"))
        assert feed.upgrades == 1
    assert code == 4
    assert doc["health"]["state"] == "failed" and doc["health"]["failure"] == "endpoint"
    assert doc["health"]["last_error"].startswith("HTTP 404 on upgrade")


def test_a_token_that_cannot_be_a_header_exits_3(tmp_path):
    token = tmp_path / "token"
    token.write_text("two words-Zq9\n")
    token.chmod(0o600)
    with ThreadFeed() as feed:
        out = run_cli(
            "snapshot",
            "--url",
            feed.url(),
            "--token-file",
            str(token),
            "--scrip",
            "NSE|1",
            "--seconds",
            LONG,
            timeout=ENDS_WITHIN,
        )
        assert feed.upgrades == 0
    assert out.returncode == 3 and "two words" not in out.stdout + out.stderr
    assert json.loads(out.stdout)["health"]["failure"] == "token"


@pytest.mark.parametrize(
    ("url", "content", "expected"),
    [
        ("ws://127.0.0.1:1/f", "pem", "is for a wss:// feed"),
        ("wss://127.0.0.1:1/f", "not a certificate", "holds no PEM certificate"),
        ("wss://127.0.0.1:1/f", None, "no such file"),
    ],
)
def test_an_unusable_ca_file_is_a_usage_error(url, content, expected, tmp_path, capsys, ca):
    path = tmp_path / "ca.pem"
    if content == "pem":
        ca.cert_pem.write_to_path(str(path))
    elif content is not None:
        path.write_text(content)
    argv = ["snapshot", "--url", url, "--token-env", "HOME", "--scrip", "NSE|1",
            "--ca-file", str(path)]  # fmt: skip
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert expected in err and len(err.strip().splitlines()) == 1


def test_a_fifo_as_ca_file_is_refused_in_one_line(tmp_path):
    fifo = tmp_path / "ca.pem"
    os.mkfifo(fifo)
    out = run_cli(
        "snapshot",
        "--url",
        "wss://127.0.0.1:1/f",
        "--token-env",
        "MD_TOKEN",
        "--scrip",
        "NSE|1",
        "--ca-file",
        str(fifo),
        timeout=ENDS_WITHIN,
    )
    assert out.returncode == 2
    assert out.stderr == f"marketdesk: CA file {fifo}: is a FIFO (named pipe), not a file\n"


def test_no_token_source_at_all_exits_2_at_once_with_the_usage_line():
    with ThreadFeed() as feed:
        out = run_cli(
            "snapshot",
            "--url",
            feed.url(),
            "--scrip",
            "NSE|1",
            "--seconds",
            LONG,
            token=None,
            timeout=ENDS_WITHIN,
        )
        assert feed.upgrades == 0  # not even tried
    assert out.returncode == 2 and out.stdout == ""
    assert out.stderr.startswith("usage: marketdesk snapshot ")
    assert "error: the feed needs a token: --token-env VAR or --token-file PATH" in out.stderr


def test_the_desk_on_a_real_feed_without_a_token_source_is_a_usage_error(capsys):
    assert cli.main(["--url", "wss://127.0.0.1:1/f"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: marketdesk ") and "the feed needs a token" in err


def test_the_relay_trusts_a_private_ca_for_its_upstream(ca_pem, tmp_path, monkeypatch):
    from tui.relay import cli as relay_cli

    monkeypatch.setenv("MD_UP", "upstream-token-Zq9")
    monkeypatch.setenv("MD_CLIENT", "client-token-Zq9")
    argv = ["relay", "--url", "wss://127.0.0.1:1/2.0/market/feed/l2", "--token-env", "MD_UP",
            "--client-token-env", "MD_CLIENT", "--ca-file", str(ca_pem)]  # fmt: skip
    config = relay_cli.config_from(build_parser().parse_args(argv))
    assert isinstance(config.upstream.ssl, ssl.SSLContext)
    fifo = tmp_path / "cert.pem"
    os.mkfifo(fifo)
    argv += ["--tls-cert", str(fifo), "--tls-key", str(fifo)]
    with pytest.raises(ValueError, match="is a FIFO"):
        relay_cli.config_from(build_parser().parse_args(argv))
