"""The desk on a feed that failed for good: it says why, offers ``r`` (only then), and ``r``
runs the client again -- the real FeedClient against the in-test feed server."""

from __future__ import annotations

import pytest
from support.fake_feed import FakeFeed, config, new_token
from support.waiting import PATIENCE, until

from tui.app import make_app
from tui.feed.client import FeedClient
from tui.market.store import Market


def health_lines(app) -> list[str]:
    return ["".join(text for text, _ in line) for line in app.health_panel.build(80)]


def footer_keys(app) -> set[str]:
    return {binding.action for _, binding, enabled, _ in app.active_bindings.values() if enabled}


@pytest.mark.slow
async def test_a_failed_feed_offers_r_and_r_brings_it_back():
    feed = FakeFeed(new_token())
    feed.reject_status = 404
    async with feed.running():
        client = FeedClient(config(feed), Market())
        app = make_app(client.market, client, watch=["NSE|1"], refresh_hz=10)
        async with app.run_test(size=(120, 36)) as pilot:
            await until(lambda: client.health.state == "failed")
            await until(lambda: "retry_feed" in footer_keys(app))
            await until(lambda: "r to retry" in health_lines(app)[0])  # on the next redraw
            lines = health_lines(app)
            assert lines[0].split() == ["state", "failed", "·", "r", "to", "retry", "·", "L1"]
            assert any("HTTP 404 on upgrade" in line for line in lines)
            assert feed.upgrades == 1
            feed.reject_status = None
            await pilot.press("r")
            await until(lambda: client.health.state == "live")
            await until(lambda: "retry_feed" not in footer_keys(app))
            app.update_health()
            lines = health_lines(app)
            assert "r to retry" not in lines[0]
            await pilot.press("q")
        assert client.health.state == "stopped"


async def test_r_does_nothing_while_the_feed_runs():
    feed = FakeFeed(new_token())
    async with feed.running():
        # only r could end this session: no watchdog a loaded machine might trip
        patient = {"stall_timeout": PATIENCE, "ack_timeout": PATIENCE, "ping_timeout": PATIENCE}
        client = FeedClient(config(feed, **patient), Market())
        app = make_app(client.market, client, watch=["NSE|1"], refresh_hz=10)
        async with app.run_test(size=(120, 36)) as pilot:
            await until(lambda: client.health.state == "live")
            assert "retry_feed" not in footer_keys(app)
            await pilot.press("r")
            await pilot.pause()
            assert feed.upgrades == 1 and client.health.sessions == 1
            await pilot.press("q")


def test_the_health_pane_says_how_old_the_last_error_is_and_demotes_it_once_live():
    from tui.feed.health import Health
    from tui.widgets.health import HealthPanel

    panel = HealthPanel()
    down = Health(state="backoff", last_error="connection lost", last_error_at=1000.0)
    panel.show(down, {}, 0.0, wall=1012.0)
    lines = ["".join(text for text, _ in line) for line in panel.build(80)]
    assert lines[1].split() == ["last", "error", "12s", "ago", "·", "connection", "lost"]
    live = Health(state="live", last_error="connection lost", last_error_at=1000.0,
                  connected_since=1005.0)  # fmt: skip
    panel.show(live, {}, 0.0, wall=1200.0)
    lines = ["".join(text for text, _ in line) for line in panel.build(80)]
    assert "3m20s ago · connection lost" in lines[-1] and "last error" not in lines[1]
    assert not live.error_current and down.error_current
