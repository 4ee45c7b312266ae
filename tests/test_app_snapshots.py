"""The desk looks the same every time: fixed market, clock, health and time zone."""

from __future__ import annotations

from datetime import UTC

from market_fixtures import NOW, OGDC, RELIANCE, FixedHealth, build_market

from tui.app import DeskApp, make_app


def desk(health: FixedHealth | None = None, **kwargs: object) -> DeskApp:
    market = kwargs.pop("market", None) or build_market()
    figures = health or FixedHealth()
    return make_app(
        market,  # type: ignore[arg-type]
        selected=kwargs.pop("selected", RELIANCE),  # type: ignore[arg-type]
        clock=lambda: NOW,
        health=lambda: figures,
        tz=UTC,
        **kwargs,  # type: ignore[arg-type]
    )


def test_desk_wide(snap_compare):
    assert snap_compare(desk(), terminal_size=(160, 48))


def test_desk_narrow(snap_compare):
    assert snap_compare(desk(), terminal_size=(80, 24))


def test_desk_on_an_l1_feed_in_backoff_after_moving_the_selection(snap_compare):
    health = FixedHealth(
        state="backoff",
        endpoint="ws://127.0.0.1:8765/2.0/market/feed/full",
        level="L1",
        reconnects=3,
        next_retry_at=NOW + 2.5,
        msg_rate=0.0,
        lag=None,
        last_error="connection closed: 1006 (abnormal closure)",
    )
    app = desk(health, market=build_market(l2=False), selected=OGDC)
    assert snap_compare(app, terminal_size=(120, 36), press=["k", "k"])
