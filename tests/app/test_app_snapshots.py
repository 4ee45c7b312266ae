"""The desk looks the same every time: fixed market, clocks, health, lists and time zone.

Every screen of the desk has a picture here: the desk in each theme, wide and at 80x24,
help, the add-scrip modal, a stale scrip, a disconnected feed, a maximised pane.
"""

from __future__ import annotations

from datetime import UTC

import pytest
from support.market_fixtures import KEYS, NIFTY, NOW, OGDC, RELIANCE, FixedHealth, build_market

from tui.app import DeskApp, make_app
from tui.theme import THEMES
from tui.watchlist_store import Watchlists
from tui.wire.catalogue import Entry

#: an hour, two minutes and three seconds into the fixture's session
WALL = 1747038000.0 + 3723

CATALOGUE = [
    Entry(NIFTY, "Nifty 50", "NIFTY 50 index"),
    Entry(RELIANCE, "RELIANCE-EQ", "Reliance Industries"),
    Entry("NSE|11536", "TCS-EQ", "Tata Consultancy Services"),
    Entry(OGDC, "OGDC", "Oil & Gas Development Company"),
    Entry("NSE|1594", "INFY-EQ", "Infosys"),
    Entry("NSE|1333", "HDFCBANK-EQ", "HDFC Bank"),
]


def desk(health: FixedHealth | None = None, **kwargs: object) -> DeskApp:
    market = kwargs.pop("market", None) or build_market()
    figures = health or FixedHealth()
    lists = Watchlists([("Main", KEYS), ("Banks", ["NSE|1333"])], active="Main")
    return make_app(
        market,  # type: ignore[arg-type]
        watchlists=lists,
        catalogue=CATALOGUE,
        selected=kwargs.pop("selected", RELIANCE),  # type: ignore[arg-type]
        clock=kwargs.pop("clock", lambda: NOW),  # type: ignore[arg-type]
        wall=lambda: WALL,
        health=lambda: figures,
        refresh_hz=0,
        tz=UTC,
        **kwargs,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize("theme", [theme.name for theme in THEMES])
def test_desk_wide_in_every_theme(snap_compare, theme):
    assert snap_compare(desk(theme=theme), terminal_size=(160, 48))


def test_desk_at_80x24(snap_compare):
    assert snap_compare(desk(), terminal_size=(80, 24))


def test_help(snap_compare):
    assert snap_compare(desk(), terminal_size=(120, 36), press=["question_mark"])


def test_the_add_scrip_modal_searching(snap_compare):
    assert snap_compare(desk(), terminal_size=(120, 36), press=["plus", "b", "a", "n"])


def test_a_stale_scrip(snap_compare):
    market = build_market()
    now = [NOW]
    app = desk(market=market, selected=OGDC, clock=lambda: now[0])

    async def later(pilot: object) -> None:
        now[0] = NOW + 30  # 30 s on, every scrip but OGDC has ticked
        for key in KEYS:
            if key != OGDC:
                market.updated[key] = now[0]
        app.update_health()

    assert snap_compare(app, terminal_size=(120, 36), run_before=later)


def test_a_disconnected_l1_feed_after_moving_the_selection(snap_compare):
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


def test_the_tape_maximised_and_paused(snap_compare):
    assert snap_compare(desk(), terminal_size=(120, 36), press=["tab", "tab", "z", "space"])
