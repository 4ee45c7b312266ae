"""``marketdesk serve`` without a browser: its options and refusals, the guard in front of
every path, the page (every URL local), what a tab's process gets in its environment, the
tab limit and malformed browser messages.  The browser itself: tests/serve/test_serve_browser.py.

The web tests run the real aiohttp application of :class:`~tui.serve.web.DeskServer` on a
loopback port; the tab's "desk" is a small stand-in process that speaks textual-serve's
packets and reports its environment, so no desk has to start.
"""

from __future__ import annotations

import argparse
import json
import re
import shlex
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from tui import cli
from tui.cli_parser import build_parser
from tui.serve import cli as serve_cli
from tui.serve.auth import Guard, basic_password, is_loopback
from tui.serve.tab import TAB_TOKEN_ENV, TabOptions, command
from tui.serve.web import DeskServer

PASSWORD = "s3cret-enough-pw"
RIGHT = {"Authorization": aiohttp.encode_basic_auth("anyone", PASSWORD)}
WRONG = {"Authorization": aiohttp.encode_basic_auth("anyone", "not-the-password")}

# A stand-in for a tab's desk: textual-serve's prelude, then one data packet with the
# environment variables the test asks about, then it waits for the "quit" meta packet.
FAKE_TAB = r"""
import json, os, sys
out = sys.stdout.buffer
out.write(b"__GANGLION__\n")
names = ["MARKETDESK_TAB_TOKEN", "SECRET_PASSWORD_VAR", "FEED_TOKEN_VAR", "KEPT_VAR"]
payload = json.dumps({n: os.environ.get(n) for n in names}).encode()
out.write(b"D" + len(payload).to_bytes(4, "big") + payload)
out.flush()
seen = b""
while chunk := sys.stdin.buffer.read1(4096):
    seen += chunk
    if b'"quit"' in seen:
        break
"""


def parse(*argv: str) -> argparse.Namespace:
    return build_parser().parse_args(list(argv))


def options(*argv: str) -> serve_cli.ServeOptions:
    args = parse(*argv)
    return serve_cli.options_from(args, cli.settings(args))


# -- options and refusals --------------------------------------------------------------------


def test_defaults_serve_loopback_without_password_over_the_simulator() -> None:
    opts = options("serve")
    assert (opts.host, opts.port, opts.password, opts.max_tabs) == ("127.0.0.1", 8000, None, 8)
    assert opts.sim is not None and opts.feed is None and opts.relay_url is None


def test_the_built_in_simulator_takes_the_desks_options() -> None:
    opts = options(
        "--seed",
        "5",
        "--rate",
        "300",
        "--sim-fault",
        "drop-every=20",
        "--scenario",
        "spread",
        "serve",
    )
    assert opts.sim is not None
    assert (opts.sim.seed, opts.sim.rate, opts.sim.faults["drop_every"]) == (5, 300.0, 20.0)
    assert [name for name, _ in opts.sim.scenarios] == ["spread"]


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.20", "[::]", "desk.example"])
def test_beyond_loopback_needs_a_password(host: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert serve_cli.run(*_args_cfg("serve", "--listen", f"{host}:8000")) == 2
    err = capsys.readouterr().err
    assert "password" in err and "--password-env" in err


def _args_cfg(*argv: str) -> tuple[argparse.Namespace, object]:
    args = parse(*argv)
    return args, cli.settings(args)


def test_password_from_env_or_file_never_shown(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SERVE_PW", PASSWORD)
    opts = options("serve", "--listen", "0.0.0.0:8000", "--password-env", "SERVE_PW")
    assert opts.password == PASSWORD and "SERVE_PW" in opts.hidden
    assert PASSWORD not in repr(opts)

    monkeypatch.setenv("SERVE_PW", "short")
    assert serve_cli.run(*_args_cfg("serve", "--password-env", "SERVE_PW")) == 2
    err = capsys.readouterr().err
    assert "at least 8 characters" in err and "short" not in err

    pw = tmp_path / "pw"
    pw.write_text(PASSWORD + "\n")
    pw.chmod(0o644)
    assert serve_cli.run(*_args_cfg("serve", "--password-file", str(pw))) == 2
    err = capsys.readouterr().err
    assert "chmod 600" in err and PASSWORD not in err
    pw.chmod(0o600)
    assert options("serve", "--password-file", str(pw)).password == PASSWORD


def test_the_password_is_never_a_flag(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["serve", "--password", PASSWORD]) == 2
    captured = capsys.readouterr()
    assert PASSWORD not in captured.err + captured.out


def test_an_existing_relay_or_the_configured_feed(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("RELAY_TOKEN", "client-token-1")
    opts = options(
        "serve", "--url", "ws://127.0.0.1:8770/2.0/market/feed/l2", "--token-env", "RELAY_TOKEN"
    )
    assert opts.relay_url == "ws://127.0.0.1:8770/2.0/market/feed/l2"
    assert opts.relay_token == "client-token-1" and "RELAY_TOKEN" in opts.hidden
    assert opts.sim is None and opts.feed is None

    monkeypatch.setenv("FEED_TOKEN", "upstream-token-1")
    opts = options(
        "--url", "ws://127.0.0.1:9/2.0/market/feed/full", "--token-env", "FEED_TOKEN", "serve"
    )
    assert opts.feed is not None and opts.feed.token == "upstream-token-1"
    assert "FEED_TOKEN" in opts.hidden and opts.relay_url is None

    assert serve_cli.run(*_args_cfg("serve", "--token-env", "RELAY_TOKEN")) == 2
    assert "go with --url RELAY_URL" in capsys.readouterr().err
    assert serve_cli.run(*_args_cfg("serve", "--url", "ws://127.0.0.1:8770/2.0/market/feed")) == 2
    assert "client token" in capsys.readouterr().err
    opts = options("--theme", "marketdesk-light", "--watch", "PSX|OGDC#PSX|HBL", "serve")
    assert opts.desk == TabOptions(theme="marketdesk-light", watch=("PSX|OGDC", "PSX|HBL"))
    assert serve_cli.run(*_args_cfg("--watch", "OGDC", "serve")) == 2
    assert "EXCH|TOKEN" in capsys.readouterr().err


def test_the_banner_says_who_may_come_in(monkeypatch: pytest.MonkeyPatch) -> None:
    from tui.serve.upstream import Upstream

    upstream = Upstream(
        "ws://127.0.0.1:1/2.0/market/feed/l2",
        "tab-token",
        simulated=True,
        summary="one relay in this process",
        health=dict,
    )
    text = serve_cli.banner(options("serve"), "http://127.0.0.1:8000/", upstream)
    assert "open to this machine only" in text and "tab-token" not in text
    monkeypatch.setenv("SERVE_PW", PASSWORD)
    opts = options("serve", "--listen", "0.0.0.0:8000", "--password-env", "SERVE_PW")
    text = serve_cli.banner(opts, "http://0.0.0.0:8000/", upstream)
    assert "password required" in text and "TLS" in text and PASSWORD not in text


def test_a_port_in_use_is_said_plainly(capsys: pytest.CaptureFixture[str]) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert serve_cli.run(*_args_cfg("serve", "--listen", f"127.0.0.1:{port}")) == 1
    assert f"cannot listen on 127.0.0.1:{port}" in capsys.readouterr().err


def test_the_tab_command_carries_no_secret() -> None:
    argv = command(
        "ws://127.0.0.1:1/2.0/market/feed/l2",
        simulated=True,
        options=TabOptions(theme="marketdesk-cb", refresh_hz=10.0, watch=("PSX|OGDC",)),
    )
    assert argv[:3] == [sys.executable, "-m", "tui.serve.tab"]
    assert ["--theme", "marketdesk-cb"] == argv[argv.index("--theme") :][:2]
    assert "--simulated" in argv and TAB_TOKEN_ENV not in " ".join(argv)


def test_loopback_names() -> None:
    assert all(map(is_loopback, ["127.0.0.1", "127.8.0.1", "::1", "[::1]", "localhost"]))
    assert not any(map(is_loopback, ["0.0.0.0", "::", "10.0.0.1", "example.com"]))


def test_basic_header_parsing_refuses_junk() -> None:
    assert basic_password(RIGHT["Authorization"]) == PASSWORD.encode()
    for junk in ("", "Basic", "Basic !!!", "Bearer abc", "Basic " + "dXNlcg=="):  # no colon
        assert basic_password(junk) is None


# -- the web application ------------------------------------------------------------------------


def desk_server(password: str | None, *, max_tabs: int = 4) -> DeskServer:
    environment: dict[str, str | None] = {
        TAB_TOKEN_ENV: "relay-client-token",
        "SECRET_PASSWORD_VAR": None,
        "FEED_TOKEN_VAR": None,
    }
    return DeskServer(
        shlex.join([sys.executable, "-c", FAKE_TAB]),
        guard=Guard(password),
        environment=environment,
        health=lambda: {"kind": "test"},
        max_tabs=max_tabs,
    )


@pytest.fixture
async def client(request: pytest.FixtureRequest) -> AsyncIterator[TestClient]:
    server = desk_server(getattr(request, "param", PASSWORD))
    async with TestClient(TestServer(await server.make_app(), host="127.0.0.1")) as c:
        c.desk = server  # type: ignore[attr-defined]
        yield c


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/ws",
        "/health",
        "/static/js/textual.js",
        "/static/fonts/RobotoMono-VariableFont_wght.ttf",
    ],
)
async def test_no_page_file_or_socket_without_the_password(client: TestClient, path: str) -> None:
    for headers in ({}, WRONG):
        answer = await client.get(path, headers=headers)
        assert answer.status == 401
        assert answer.headers["WWW-Authenticate"].startswith('Basic realm="marketdesk"')
        assert "textual" not in await answer.text()
    with pytest.raises(aiohttp.WSServerHandshakeError):
        await client.ws_connect("/ws", headers=WRONG)
    refused = client.desk.guard.refused  # type: ignore[attr-defined]
    assert refused["no password"] >= 1 and refused["wrong password"] >= 2
    assert not client.desk.tabs  # type: ignore[attr-defined]


async def test_the_page_loads_only_from_this_server(client: TestClient) -> None:
    answer = await client.get("/", headers=RIGHT)
    assert answer.status == 200
    page = await answer.text()
    urls = re.findall(r'(?:\b(?:href|src)=|url\()"([^"]+)"', page)
    assert urls and all(u.startswith(("/static/", "data:")) for u in urls), urls
    host = f"{client.host}:{client.port}"
    absolute = re.findall(r"\b(?:https?|wss?)://[\w.:-]+", page)
    assert absolute == [f"ws://{host}"], absolute  # the socket's default, on this server
    assert "googleapis" not in page
    assert f'data-session-websocket-url="ws://{host}/ws"' in page
    for url in urls:
        if url.startswith("/static/"):
            assert (await client.get(url, headers=RIGHT)).status == 200, url


async def test_a_tab_gets_the_relay_token_but_not_the_password_or_feed_token(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SECRET_PASSWORD_VAR", PASSWORD)
    monkeypatch.setenv("FEED_TOKEN_VAR", "upstream-secret")
    monkeypatch.setenv("KEPT_VAR", "kept")
    origin = {"Origin": f"http://{client.host}:{client.port}"}
    async with client.ws_connect("/ws?width=100&height=30", headers=RIGHT | origin) as ws:
        data = await ws.receive_bytes(timeout=30)
        assert json.loads(data) == {
            TAB_TOKEN_ENV: "relay-client-token",
            "SECRET_PASSWORD_VAR": None,
            "FEED_TOKEN_VAR": None,
            "KEPT_VAR": "kept",
        }
        health = await (await client.get("/health", headers=RIGHT)).json()
        assert health["tabs"] == 1 and health["upstream"] == {"kind": "test"}
        await ws.send_str("not json")
        await ws.send_str('["resize", {"width": "wide"}]')
        await ws.send_str('["ping", "7"]')
        assert json.loads((await ws.receive(timeout=30)).data) == ["pong", "7"]
    assert client.desk.bad_messages == 2  # type: ignore[attr-defined]


async def test_a_page_of_another_site_cannot_open_the_desk(client: TestClient) -> None:
    for origin in ("http://evil.example", f"http://{client.host}:1"):
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await client.ws_connect("/ws", headers=RIGHT | {"Origin": origin})
        assert refused.value.status == 403
    assert client.desk.guard.refused["origin"] == 2  # type: ignore[attr-defined]
    assert not client.desk.tabs  # type: ignore[attr-defined]


@pytest.mark.parametrize("client", [None], indirect=True)
async def test_without_a_password_only_this_machine_by_name(client: TestClient) -> None:
    assert (await client.get("/")).status == 200
    rebound = await client.get("/", headers={"Host": "attacker.example:8000"})
    assert rebound.status == 403  # DNS rebinding: a name that is not this machine
    assert (await client.get("/", headers={"Host": f"localhost:{client.port}"})).status == 200


async def test_the_tab_limit(client: TestClient) -> None:
    server: DeskServer = client.desk  # type: ignore[attr-defined]
    server.max_tabs = 0
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await client.ws_connect("/ws", headers=RIGHT)
    assert refused.value.status == 503 and server.turned_away == 1


def test_the_app_has_the_guard_first() -> None:
    async def build() -> web.Application:
        return await desk_server(PASSWORD).make_app()

    import asyncio

    app = asyncio.run(build())
    assert len(app.middlewares) == 1


@pytest.mark.slow
async def test_a_relay_of_its_own_in_front_of_a_configured_feed(tmp_path: Path) -> None:
    """``marketdesk --url FEED --token-env VAR serve``: the relay in ``serve`` holds the one
    connection to that feed (here a ``marketdesk sim``) before any tab opens."""
    import os

    from support.serve_browser import background, serve

    env = dict(
        os.environ,
        MARKETDESK_CONFIG_DIR=str(tmp_path / "config"),
        PYTHONUNBUFFERED="1",
        FEED_TOKEN="feed-token-of-serve",
    )
    with background(
        ["sim", "--port", "0", "--token-env", "FEED_TOKEN", "--rate", "200"], env, "L2 "
    ) as sim_out:
        feed = next(line.split()[1] for line in sim_out if line.strip().startswith("L1"))
        with serve(tmp_path, "--url", feed, "--token-env", "FEED_TOKEN", env=env) as served:
            assert f"in front of {feed}" in "".join(served.banner)
            health = await served.wait_health(lambda h: h["upstream"]["state"] == "live")
            assert health["upstream"]["kind"] == "relay"
            assert health["upstream"]["connections"] == 1 and health["tabs"] == 0
    assert "feed-token-of-serve" not in "".join(sim_out + served.output)
