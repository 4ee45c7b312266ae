"""The desk runs the rules on every frame's changes: alerts reach the book, the log, the
bell and the title, and the surveillance screen (v) opens a scrip back on the desk."""

from __future__ import annotations

import json
from datetime import UTC

from support.market_fixtures import KEYS, NOW, OGDC, RELIANCE, FixedHealth, build_market, tick

from tui.app import make_app
from tui.config_file import parse_config
from tui.surveillance import SurveillanceScreen
from tui.watchlist_store import Watchlists

WALL = 1747038000.0


def desk(tmp_path, **kwargs):
    market = build_market()
    now = [NOW]
    log = tmp_path / "alerts" / "alerts.jsonl"
    config = parse_config(f'[surveillance]\nalert_log = "{log}"\n', "test")
    app = make_app(
        market,
        watchlists=Watchlists([("Main", KEYS)]),
        config=config,
        selected=RELIANCE,
        clock=lambda: now[0],
        wall=lambda: WALL + now[0] - NOW,
        health=lambda: FixedHealth(),
        refresh_hz=0,
        tz=UTC,
        **kwargs,
    )
    return app, market, now, log


def lock_ogdc_at_the_upper_circuit(market) -> None:
    """OGDC trades at its upper limit (240.24) and every offer is gone."""
    tick(market, OGDC, lp="240.24", bp1="240.24", bq1="50000", bo1="40",
         sp1="0", sq1="0", so1="0", sp2="0", sq2="0", so2="0")  # fmt: skip


async def test_an_alert_reaches_the_book_the_log_the_bell_and_the_title(tmp_path):
    app, market, now, log = desk(tmp_path)
    rings: list[int] = []
    async with app.run_test(size=(160, 48)) as pilot:
        app.bell = lambda: rings.append(1)  # type: ignore[method-assign]
        lock_ogdc_at_the_upper_circuit(market)
        now[0] += 1
        app.flush()
        await pilot.pause()
        rules = {a.rule for a in app.alerts.alerts() if a.key == OGDC}
        assert {"circuit", "locked"} <= rules, rules
        assert rings, "an alert-severity alert rings the bell"
        assert "alert" in app.sub_title and "v to look" in app.sub_title
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    assert {(line["key"], line["rule"]) for line in lines} >= {(OGDC, "circuit"), (OGDC, "locked")}


async def test_the_surveillance_screen_shows_the_alerts_and_opens_a_scrip_on_the_desk(tmp_path):
    app, market, now, _ = desk(tmp_path)
    async with app.run_test(size=(160, 48)) as pilot:
        lock_ogdc_at_the_upper_circuit(market)
        now[0] += 1
        app.flush()
        await pilot.press("v")
        screen = app.screen
        assert isinstance(screen, SurveillanceScreen)
        await pilot.press("d", "plus", "1")  # the desk's keys do nothing behind this screen
        assert isinstance(app.screen, SurveillanceScreen) and app.watchlist.keys == KEYS
        tick(market, RELIANCE, lp="2946.00")
        now[0] += 1
        app.flush()  # the screen follows the frames while it is shown
        await pilot.pause()
        assert "2946.00" in "\n".join(screen.query_one("Tiles").tile_text(RELIANCE))
        alerts = screen.query_one("AlertList")
        assert any(a.key == OGDC for a in alerts.shown())
        alerts.focus()
        await pilot.press("enter")  # the newest alert's scrip
        assert not isinstance(app.screen, SurveillanceScreen)
        assert app.selected == OGDC and app.ladder.key == OGDC


async def test_v_goes_back_and_forth(tmp_path):
    app, *_ = desk(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("v")
        assert isinstance(app.screen, SurveillanceScreen)
        await pilot.press("v")
        assert not isinstance(app.screen, SurveillanceScreen)
        assert app.selected == RELIANCE
