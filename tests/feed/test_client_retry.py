"""FeedClient's reconnect policy against the in-test feed server (tests/support/fake_feed.py):
network faults back off with jitter, session-limit kicks retry slowly, a silent socket is
closed by the watchdog, and the backoff resets only after a stable session."""

from __future__ import annotations

import time

import pytest
from support.fake_feed import FakeFeed, client_for, config, new_token, running
from support.waiting import PATIENCE, until

from tui.feed import sessions
from tui.feed.client import FeedClient
from tui.market.store import Market


async def test_session_limit_retries_slowly_and_never_storms():
    feed = FakeFeed(new_token())
    feed.default = "kick"
    async with feed.running():
        client = client_for(feed)
        retries: list[float] = []
        async with running(client) as h:
            client.on_event = lambda kind, text: retries.append(
                client.health.next_retry_at - time.monotonic()
            )
            await until(lambda: h.state == "session-limit")
            assert retries[0] == pytest.approx(0.3, abs=0.02)  # session_limit_retry
            started = time.monotonic()
            await until(lambda: feed.upgrades >= 3)
            # 0.3 s, then 0.3-0.6 s, then 0.3-0.6 s ...: never faster than one in 0.3 s
            assert feed.upgrades - 1 <= (time.monotonic() - started) / 0.3 + 1
            feed.default = "ok"
            await until(lambda: h.state == "live")
            assert feed.peak == 1
            feed.default = "kick"
            feed.drop_all()
            await until(lambda: h.state == "session-limit")
        assert client.health.state == "stopped"
        assert client.health.stopped_in == "session-limit"


async def test_kick_of_a_live_session_waits_then_resubscribes():
    feed = FakeFeed(new_token())
    async with feed.running():
        client = client_for(feed)
        client.subscribe(["NSE|1"], orders=True)
        async with running(client) as h:
            # live at the upgrade (header auth): wait until the replay has arrived too
            await until(lambda: h.state == "live" and len(feed.got("l")) == 1)
            started = time.monotonic()
            await feed.close_all(4029, "Maximum sessions limit")
            await until(lambda: h.state == "session-limit")
            await until(lambda: h.state == "live" and len(feed.got("l")) == 2)
            assert time.monotonic() - started >= 0.25
            assert feed.got("d") == ["NSE|1", "NSE|1"]
            assert h.kinds() == ["connected", "session-limit", "reconnected"]


# ------------------------------------------------------------------------ network faults


async def test_drop_reconnects_with_one_connection_at_a_time_and_replays():
    feed = FakeFeed(new_token())
    async with feed.running():
        # only the drops may end a session here: a watchdog or ping timeout that a loaded
        # machine trips would add a reconnect the counts below do not expect
        client = client_for(
            feed, stall_timeout=PATIENCE, ack_timeout=PATIENCE, ping_timeout=PATIENCE
        )
        client.subscribe(["NSE|1", "NSE|2"])
        client.subscribe(["BSE|9"], depth=False, orders=True)
        async with running(client) as h:
            for round_ in range(1, 4):
                # live at the upgrade (header auth): wait until the replay has arrived too
                await until(
                    lambda r=round_: (
                        h.state == "live" and len(feed.live) == 1 and len(feed.got("l")) == r
                    )
                )
                feed.drop_all()
                await until(lambda r=round_: client.health.reconnects >= r)
                assert client.health.reconnects == round_
            await until(lambda: h.state == "live" and len(feed.got("l")) == 4)  # l is last
            assert feed.got("d") == ["NSE|1", "NSE|2"] * 4 and feed.got("t") == ["BSE|9"] * 4
            assert feed.peak == 1
            assert sessions.peak_connections(client._key) == 1
            assert h.kinds().count("reconnect") == 3


async def test_server_down_means_backoff_and_stop_is_prompt():
    feed = FakeFeed(new_token())
    async with feed.running():
        url = feed.url()
    client = FeedClient(config(feed, url=url, backoff_min=5.0, backoff_max=10.0), Market())
    async with running(client) as h:
        await until(lambda: h.state == "backoff")
        assert client.health.next_retry_at is not None
        assert "retrying in" in h.events[0][1] and h.kinds() == ["reconnect"]
        started = time.monotonic()
    assert time.monotonic() - started < 4.0  # not the 5 s backoff
    assert client.health.state == "stopped" and client.health.next_retry_at is None


async def test_stall_watchdog_closes_a_silent_connection_and_reconnects():
    feed = FakeFeed(new_token())
    async with feed.running():
        client = client_for(feed)
        client.subscribe(["NSE|1"])
        async with running(client) as h:
            await until(lambda: h.state == "live")
            feed.stalled = True  # pings are still answered by the library: only we notice
            await until(lambda: "stall" in h.kinds())
            assert client.health.stalls == 1 and "no data" in client.health.last_error
            feed.stalled = False
            await until(lambda: h.state == "live" and len(feed.got("d")) >= 2)
            assert feed.peak == 1


async def test_no_acknowledgement_is_a_network_fault():
    # connect mode: a header/query session is live at the upgrade (issue 11), a ``c``
    # waits for its ``ck``
    feed = FakeFeed(new_token())
    feed.script = ["noack"]
    async with feed.running():
        client = client_for(feed, auth="connect")
        async with running(client) as h:
            await until(lambda: h.state == "live")
            assert "no acknowledgement" in h.events[0][1] and h.kinds()[0] == "reconnect"


async def test_backoff_grows_on_open_without_ck_and_resets_only_after_a_stable_session():
    feed = FakeFeed(new_token())
    feed.script = ["close"] * 4
    skew = [0.0]  # the client's clock, moved forward to make a session "stable" at once

    def clock() -> float:
        return time.monotonic() + skew[0]

    async with feed.running():
        # connect mode: a header/query session is live at the upgrade (issue 11); here the
        # opens must stay unacknowledged
        cfg = config(feed, auth="connect", stable_after=5.0, stall_timeout=60.0, ack_timeout=60.0)
        client = FeedClient(cfg, Market(), clock=clock)
        retries: list[float] = []

        def on_event(kind: str, text: str) -> None:
            if kind == "reconnect":
                retries.append(round(client.health.next_retry_at - clock(), 2))

        async with running(client) as h:
            client.on_event = on_event
            await until(lambda: h.state == "live")
            # jitter "none": 0.05, 0.1, 0.2 (cap), 0.2 -- TCP opens never reset it
            assert retries == [0.05, 0.1, 0.2, 0.2]
            feed.drop_all()  # live, but not yet stable: the backoff keeps its place
            await until(lambda: len(retries) == 5 and h.state == "live")
            assert retries[-1] == 0.2
            skew[0] += 5.0  # stable_after passes
            feed.drop_all()  # the next drop starts over
            await until(lambda: len(retries) == 6)
            assert retries[-1] == 0.05


# ------------------------------------------------------------- one connection per token
