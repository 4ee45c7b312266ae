"""The relay's HTTP pages, access levels, NorenRestApiPy as its client, TLS, the command
line, and the desk's health pane behind a relay."""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import ssl
import subprocess
import threading
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families
from support.relay_stack import CLIENTS, UP, Client, relay_url, stack
from support.waiting import PATIENCE, until
from websockets.asyncio.client import connect

from tui.feed.config import FeedConfig
from tui.feed.health import Health
from tui.relay import cli as relay_cli
from tui.relay.server import Relay, RelayConfig
from tui.widgets.health import HealthPanel

T = [token for _, token in CLIENTS]
NorenApi = pytest.importorskip("NorenRestApiPy.NorenApi").NorenApi


async def get(url: str, token: str | None = None) -> tuple[int, bytes]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}

    def fetch() -> tuple[int, bytes]:
        try:
            with urllib.request.urlopen(
                urllib.request.Request(url, headers=headers), timeout=15
            ) as r:
                return r.status, r.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()

    return await asyncio.get_running_loop().run_in_executor(None, fetch)


@pytest.mark.slow
async def test_health_snapshot_and_metrics_pages() -> None:
    async with stack() as (sim, relay):
        keys = [i.key for i in sim.instruments if not i.index][:3]
        desk = Client(relay_url(relay, conflate=20), T[0])
        desk.subscribe(keys[:1], orders=True)
        await until(lambda: desk.client.health.messages > 5, 10)
        http = relay.url.replace("ws", "http", 1)
        status, body = await get(http + "/health")
        health = json.loads(body)
        assert status == 200 and health["upstream"]["state"] == "live"
        assert health["upstream"]["level"] == "L2" and health["upstream"]["connections_used"] == 1
        [client] = health["clients"]
        assert client["name"] == CLIENTS[0][0] and client["mode"] == "conflated 20/s"
        assert client["subscriptions"] == 1 and {"lag", "conflated", "resynced"} <= client.keys()
        # /snapshot: the same JSON as `marketdesk snapshot`, from the cache or asked upstream
        key = keys[2]
        assert (await get(f"{http}/snapshot?k={key}"))[0] == 401
        assert (await get(f"{http}/snapshot?k=nope", T[1]))[0] == 400
        status, body = await get(f"{http}/snapshot?k={keys[0]}&k={key}", T[1])
        doc = json.loads(body)
        assert status == 200 and set(doc["scrips"]) == {keys[0], key}
        assert doc["scrips"][key]["bids"] and doc["health"]["state"] == "live"
        await until(
            lambda: key not in sim.subs["d"], 5, "the snapshot's scrip dropped after the grace"
        )
        status, body = await get(http + "/metrics")
        families = {f.name: f for f in text_string_to_metric_families(body.decode())}
        assert status == 200 and families["marketdesk_relay_clients"].samples[0].value == 1
        assert families["marketdesk_relay_upstream_messages"].samples[0].value > 5
        assert (await get(http + "/nothing"))[0] == 404
        await desk.stop()


async def test_levels_are_capped_at_the_upstreams() -> None:
    async with stack(level="L1") as (sim, relay):
        key = next(i.key for i in sim.instruments if not i.index)
        ws = await connect(
            relay_url(relay, "L2"), additional_headers={"Authorization": f"Bearer {T[0]}"}
        )
        await ws.recv()
        await ws.send(json.dumps({"t": "l", "k": key}))
        await ws.send(json.dumps({"t": "d", "k": key}))
        got = [json.loads(await ws.recv()) for _ in range(3)]
        errors = [m for m in got if m["t"] == "er"]
        assert errors == [
            {"t": "er", "emsg": "order-level data needs L2 (the relay's upstream is L1)", "k": key}
        ]
        assert any(m["t"] == "dk" for m in got) or (await ws.recv())
        l0 = await connect(
            relay_url(relay, "L0"), additional_headers={"Authorization": f"Bearer {T[1]}"}
        )
        await l0.recv()
        await l0.send(json.dumps({"t": "d", "k": key}))
        msg = json.loads(await l0.recv())
        while msg["t"] == "st":
            msg = json.loads(await l0.recv())
        assert msg == {"t": "er", "emsg": "depth not available at L0", "k": key}
        await ws.close()
        await l0.close()


@pytest.mark.slow
async def test_noren_rest_api_py_is_a_client_of_the_relay() -> None:
    async with stack(rate=3000.0) as (sim, relay):
        received: list[dict[str, Any]] = []
        errors: list[Any] = []
        done = threading.Event()
        api = NorenApi(host="http://127.0.0.1:1/NorenWClientTP/", websocket=relay_url(relay, "L1"))

        def on_open() -> None:
            api.subscribe(["NSE|2885", "PSX|OGDC"], feed_type=2)

        def on_data(msg: dict[str, Any]) -> None:
            received.append(msg)
            if {("dk", "2885"), ("df", "2885"), ("dk", "OGDC")} <= {
                (m["t"], m["tk"]) for m in received
            }:
                done.set()

        api.set_session(userid="FA12345", password="", usertoken=T[0])
        api.start_websocket(
            subscribe_callback=on_data,
            socket_open_callback=on_open,
            socket_error_callback=errors.append,
        )
        try:
            await until(done.is_set, 15, "dk and df through the relay")
            assert sim.connections(UP) == 1 and not errors
        finally:
            threading.Thread(target=api.close_websocket, daemon=True).start()
        first = next(m for m in received if m["tk"] == "2885")
        assert first["t"] == "dk" and "bp1" in first and "so5" in first


@pytest.fixture
def certificate(tmp_path: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and its key (openssl)."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")
async def test_tls_when_given_a_certificate(certificate: tuple[Path, Path]) -> None:
    cert, key = certificate
    async with stack() as (sim, _):
        args = argparse.Namespace(
            url=sim.endpoint("L1"),
            token_env="RELAY_UP",
            token_file=None,
            auth="header",
            uid="x",
            listen=("127.0.0.1", 0),
            client_token_env=["RELAY_C"],
            tls_cert=str(cert),
            tls_key=str(key),
            grace=1.0,
            max_sessions=4,
        )
        import os

        os.environ.update(RELAY_UP=UP, RELAY_C=T[0])
        try:
            config = relay_cli.config_from(args)
        finally:
            del os.environ["RELAY_UP"], os.environ["RELAY_C"]
        async with Relay(config) as relay:
            assert relay.url.startswith("wss://")
            context = ssl.create_default_context(cafile=str(cert))
            ws = await connect(
                relay.endpoint("L1"),
                ssl=context,
                additional_headers={"Authorization": f"Bearer {T[0]}"},
            )
            assert json.loads(await ws.recv())["s"] == "OK"
            await ws.close()


def test_the_command_line_refuses_what_would_leak_or_cannot_work(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("RELAY_UP", UP)
    monkeypatch.setenv("RELAY_SAME", UP)
    base = ["relay", "--url", "ws://127.0.0.1:1/2.0/market/feed/l2", "--token-env", "RELAY_UP"]
    from tui.cli import main

    assert main([*base, "--client-token-env", "RELAY_SAME"]) == 2
    err = capsys.readouterr().err
    assert "RELAY_SAME is the upstream token" in err and UP not in err
    assert main([*base, "--client-token-env", "RELAY_UNSET"]) == 2
    assert "RELAY_UNSET is not set" in capsys.readouterr().err
    monkeypatch.setenv("RELAY_C", T[0])
    assert main([*base, "--client-token-env", "RELAY_C", "--tls-cert", "x.pem"]) == 2
    assert "--tls-cert and --tls-key go together" in capsys.readouterr().err
    assert main([*base, "--client-token-env", "RELAY_C", "--listen", "nowhere"]) == 2
    assert "expected HOST:PORT" in capsys.readouterr().err
    with pytest.raises(ValueError):
        RelayConfig(upstream=FeedConfig(url="ws://x/2.0/market/feed", token=UP), clients=())


def test_the_health_pane_says_via_relay_and_the_upstream_state() -> None:
    panel = HealthPanel()
    panel.show(Health(state="live", level="L2", upstream="reconnecting"), {}, 0.0, wall=0.0)
    state = "".join(cell for cell, _ in panel.build(70)[0])
    assert "via relay · upstream reconnecting" in state
    panel.show(Health(state="live", level="L2", upstream="live"), {}, 0.0, wall=0.0)
    state = "".join(cell for cell, _ in panel.build(70)[0])
    assert "via relay" in state and "upstream" not in state


async def test_a_refused_upstream_token_is_told_to_clients_as_auth_failed() -> None:
    from support.relay_stack import fast

    from tui.sim.server import SimConfig, SimServer

    async with SimServer(SimConfig(tokens=("the-right-one",))) as sim:
        upstream = fast(sim.endpoint("L1"), "a-wrong-token", auth="connect")
        config = RelayConfig(upstream=upstream, clients=CLIENTS[:1], port=0, status_every=0.05)
        async with Relay(config) as relay:
            ws = await connect(
                relay_url(relay, "L1"), additional_headers={"Authorization": f"Bearer {T[0]}"}
            )
            told: list[str] = []
            async with asyncio.timeout(PATIENCE):
                while "auth-failed" not in told:
                    msg = json.loads(await ws.recv())
                    if msg["t"] == "st":
                        told.append(msg["up"])
            assert relay.upstream.health.state == "auth-failed"
            await ws.close()


async def test_marketdesk_snapshot_through_the_relay_says_so() -> None:
    import io

    from support.relay_stack import fast

    from tui import feed_commands

    async with stack() as (sim, relay):
        key = next(i.key for i in sim.instruments if not i.index)
        out = io.StringIO()
        code = await feed_commands.snapshot(fast(relay_url(relay, "L1"), T[0]), [key], 1.5, out=out)
        doc = json.loads(out.getvalue())
        assert code == 0 and doc["scrips"][key]["bids"]
        assert doc["health"]["upstream"] == "live" and UP not in out.getvalue()
