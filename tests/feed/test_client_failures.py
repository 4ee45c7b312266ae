"""Permanent failures are not network faults: a TLS certificate that does not verify, an
HTTP 404/400 on the upgrade and a token that cannot be sent end in ``failed`` with one
reason, are not retried, and can be tried again (``run()`` once more).

TLS runs for real: a throwaway CA made by ``trustme`` signs the loopback server's
certificate; the client trusts it only when given the CA file (``ca_context``)."""

from __future__ import annotations

import asyncio
import ssl
import time
from pathlib import Path

import pytest
import trustme
from support.fake_feed import FakeFeed, Harness, client_for, new_token, running
from support.waiting import PATIENCE, until

from tui import feed_commands
from tui.feed import health as hs
from tui.secrets import ca_context


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


def server_tls(ca: trustme.CA, *names: str) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(*(names or ("127.0.0.1",))).configure_cert(context)
    return context


def ca_file(ca: trustme.CA, tmp_path: Path) -> Path:
    path = tmp_path / "private-ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return path


async def failed_once(feed: FakeFeed, **kw: object) -> Harness:
    """Run a client until it gives up; it must give up by itself (run() returns)."""
    client = client_for(feed, **kw)
    h = Harness(client)
    await asyncio.wait_for(h.task, PATIENCE)
    return h


async def test_a_certificate_from_an_unknown_ca_fails_once_with_one_reason(ca, tmp_path):
    feed = FakeFeed(new_token())
    async with feed.running(tls=server_tls(ca)):
        started = time.time()
        h = await failed_once(feed)
        health = h.client.health
        assert health.state == "failed" and health.failure == hs.TLS
        assert health.last_error.startswith("TLS certificate not trusted: ")
        assert "--ca-file" in health.last_error
        assert health.reconnects == 0 and h.kinds() == ["failed"]
        assert health.error_current and started <= health.last_error_at <= time.time()
        assert feed.upgrades == 0  # no HTTP ever went over the untrusted connection
        assert feed_commands.exit_code(h.client) == feed_commands.EXIT_AUTH
        await h.client.stop()
        assert h.client.health.state == "failed"  # a verdict survives stop()


async def test_the_private_ca_file_makes_the_same_server_trusted(ca, tmp_path):
    feed = FakeFeed(new_token())
    async with feed.running(tls=server_tls(ca)):
        client = client_for(feed, ssl=ca_context(ca_file(ca, tmp_path)))
        client.subscribe(["NSE|1"])
        async with running(client) as h:
            await until(lambda: h.state == "live" and "NSE|1" in client.market.scrips)
            assert client.health.endpoint.startswith("wss://127.0.0.1:")


async def test_a_certificate_for_another_host_fails_even_from_a_trusted_ca(ca, tmp_path):
    feed = FakeFeed(new_token())
    async with feed.running(tls=server_tls(ca, "feed.example.org")):
        h = await failed_once(feed, ssl=ca_context(ca_file(ca, tmp_path)))
        assert h.client.health.failure == hs.TLS
        assert "127.0.0.1" in h.client.health.last_error  # the name it did not match


@pytest.mark.parametrize(("status", "hint"), [(404, "feed endpoint"), (400, "bad request")])
async def test_a_404_or_400_on_the_upgrade_is_not_retried(status, hint):
    feed = FakeFeed(new_token())
    feed.reject_status = status
    async with feed.running():
        h = await failed_once(feed)
        health = h.client.health
        assert health.state == "failed" and health.failure == hs.ENDPOINT
        assert (
            health.last_error.startswith(f"HTTP {status} on upgrade") and hint in health.last_error
        )
        assert feed.upgrades == 1 and health.reconnects == 0
        assert feed_commands.exit_code(h.client) == feed_commands.EXIT_UNREACHABLE


async def test_a_500_on_the_upgrade_is_still_a_network_fault():
    feed = FakeFeed(new_token())
    feed.reject_status = 503
    async with feed.running():
        client = client_for(feed)
        async with running(client) as h:
            await until(lambda: feed.upgrades >= 3)
            assert h.state in ("backoff", "connecting") and "reconnect" in h.kinds()


@pytest.mark.parametrize("bad", ["line\nbreak", "nul\x00", "has space", "émoji😀"])
async def test_a_token_that_is_no_header_value_fails_before_dialling(bad):
    feed = FakeFeed(new_token())
    async with feed.running():
        h = await failed_once(feed, token=f"tok-{bad}-Zq9")
        health = h.client.health
        assert health.state == "failed" and health.failure == hs.TOKEN
        assert "cannot be sent in an HTTP header" in health.last_error
        assert feed.upgrades == 0
        assert bad not in repr(health.as_dict()) + repr(h.events)
        assert feed_commands.exit_code(h.client) == feed_commands.EXIT_AUTH


async def test_query_and_connect_auth_send_any_token():
    """Only a header has to be a header value: other modes percent-encode or JSON it."""
    feed = FakeFeed("tok with space-Zq9")
    async with feed.running():
        client = client_for(feed, auth="connect")
        async with running(client) as h:
            await until(lambda: h.state == "live")


async def test_tried_again_after_a_failure_it_goes_live_and_the_error_is_history():
    feed = FakeFeed(new_token())
    feed.reject_status = 404
    async with feed.running():
        h = await failed_once(feed)
        client = h.client
        assert client.health.error_current
        failed_at = client.health.last_error_at
        feed.reject_status = None  # the operator fixed the endpoint
        task = asyncio.create_task(client.run())
        await until(lambda: client.health.state == "live")
        health = client.health
        assert health.failure == "" and not health.error_current
        assert health.last_error.startswith("HTTP 404") and health.last_error_at == failed_at
        doc = feed_commands.health_json(client)
        assert doc["last_error_current"] is False and doc["last_error_at"].endswith("+00:00")
        await client.stop()
        await asyncio.wait_for(task, PATIENCE)
        assert not client.health.error_current  # stopped while live: still history
