"""The desk app: selection, the flush timer, the feed worker, themes."""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from datetime import UTC
from pathlib import Path
from typing import Any

from support.market_fixtures import (
    KEYS,
    NIFTY,
    NOW,
    OGDC,
    RELIANCE,
    FixedHealth,
    build_market,
    tick,
)
from support.waiting import until

from tui.app import CSS_FILES, DeskApp, make_app
from tui.market.store import Market
from tui.widgets.watchlist import Watchlist

TCS = "NSE|11536"


def desk(market: Market | None = None, **kwargs: Any) -> DeskApp:
    health = kwargs.pop("health_figures", FixedHealth())
    kwargs.setdefault("selected", RELIANCE)
    kwargs.setdefault("refresh_hz", 0)
    return make_app(
        market or build_market(),
        clock=lambda: NOW,
        health=lambda: health,
        tz=UTC,
        **kwargs,
    )


def row_text(watchlist: Watchlist, key: str) -> str:
    return watchlist.render_line(watchlist.keys.index(key) + 1).text


# -- selection -------------------------------------------------------------------------


async def test_j_k_and_arrows_move_the_cursor_and_enter_selects_for_ladder_and_tape():
    app = desk()
    async with app.run_test(size=(160, 48)) as pilot:
        wl = app.watchlist
        assert wl.cursor_key == RELIANCE and app.ladder.key == RELIANCE
        await pilot.press("j")
        assert wl.cursor_key == TCS
        assert app.ladder.key == RELIANCE, "moving the cursor alone does not change the ladder"
        await pilot.press("enter")
        assert app.selected == TCS and app.ladder.key == TCS and app.tape.key == TCS
        assert app.ladder.border_title == "Ladder · TCS-EQ"
        assert app.tape.border_title == "L2 tape · TCS-EQ"
        assert app.tape.rows == 0 and "No L2 data for TCS-EQ" in app.tape.note
        await pilot.press("k", "k")
        assert wl.cursor_key == NIFTY
        await pilot.press("down", "down", "down", "down")
        assert wl.cursor_key == OGDC
        await pilot.press("up")
        await pilot.press("enter")
        assert app.ladder.key == "NSE|1333"
        assert "▸" in row_text(wl, "NSE|1333") and "▸" not in row_text(wl, TCS)


async def test_the_cursor_stops_at_both_ends():
    app = desk(selected=NIFTY)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.press("k", "up")
        assert app.watchlist.cursor == 0
        await pilot.press("G")
        assert app.watchlist.cursor == len(KEYS) - 1
        await pilot.press("j")
        assert app.watchlist.cursor == len(KEYS) - 1


async def test_clicking_a_row_selects_its_scrip():
    app = desk()
    async with app.run_test(size=(160, 48)) as pilot:
        # border (1) + header (1): row r is at y = 2 + r in the widget
        await pilot.click("#watchlist", offset=(5, 2 + KEYS.index(OGDC)))
        assert app.selected == OGDC and app.ladder.key == OGDC


async def test_a_long_watchlist_scrolls_to_keep_the_cursor_visible():
    market = build_market()
    for i in range(60):
        market.apply(
            {"t": "dk", "e": "PSX", "tk": f"S{i:02d}", "ts": f"SCRIP{i:02d}", "lp": "10.00"}
        )
    market.flush(NOW)
    app = desk(market, selected=NIFTY)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press(*["j"] * 30)
        await pilot.pause()
        wl = app.watchlist
        top = int(wl.scroll_offset.y)
        visible = wl.scrollable_content_region.height - 1
        assert top <= wl.cursor < top + visible
        await pilot.press("g")
        await pilot.pause()
        assert wl.cursor == 0 and wl.scroll_offset.y == 0


# -- the frame -------------------------------------------------------------------------


async def test_a_flush_redraws_only_the_row_of_the_changed_scrip():
    market = build_market()
    app = desk(market)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        wl = app.watchlist
        built, ladder_builds = wl.rows_built.copy(), app.ladder.builds
        tick(market, OGDC, lp="215.50", pc="-1.33")
        assert app.flush() == {OGDC}
        await pilot.pause()
        assert wl.rows_built - built == Counter({OGDC: 1})
        assert "215.50" in row_text(wl, OGDC) and "-1.33" in row_text(wl, OGDC)
        assert app.ladder.builds == ladder_builds, "the ladder shows another scrip"


async def test_the_flush_timer_draws_a_changed_scrip_without_being_called():
    market = build_market()
    app = desk(market, refresh_hz=50)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        wl = app.watchlist
        built = wl.rows_built.copy()
        tick(market, RELIANCE, lp="2946.00", bp1="2945.90", bq1="10", bo1="1")
        await until(lambda: wl.rows_built[RELIANCE] > built[RELIANCE], what="the flush timer")
        assert wl.rows_built - built == Counter({RELIANCE: 1})
        assert "2946.00" in row_text(wl, RELIANCE)
        assert any("2945.90" in line for line in app.ladder.lines_text())


async def test_the_selected_scrip_changing_rebuilds_the_ladder():
    market = build_market()
    app = desk(market)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        builds = app.ladder.builds
        tick(market, RELIANCE, sp1="2945.55", sq1="99", so1="1")
        app.flush()
        await pilot.pause()
        assert app.ladder.builds == builds + 1
        assert any("2945.55" in line and "99" in line for line in app.ladder.lines_text())


async def test_new_l2_events_of_the_selected_scrip_go_to_the_top_of_the_tape():
    market = build_market()
    app = desk(market)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        assert app.tape.rows == 7
        market.apply(
            {
                "t": "lo",
                "e": "NSE",
                "tk": "2885",
                "sq": "9",
                "ft": "1747038700",
                "oid": "B1999",
                "sd": "B",
                "ac": "A",
                "pr": "2945.20",
                "q": "40",
            }
        )
        market.apply(
            {
                "t": "lo",
                "e": "PSX",
                "tk": "OGDC",
                "sq": "1",
                "ft": "1747038700",
                "oid": "X1",
                "sd": "S",
                "ac": "A",
                "pr": "215.40",
                "q": "500",
            }
        )
        app.flush()
        await pilot.pause()
        assert app.tape.rows == 8, "only the selected scrip's events"
        top = app.tape.render_line(1).text
        assert "B1999" in top and "2945.20" in top and "08:31:40" in top
        await pilot.press("a")
        assert app.tape.key is None and app.tape.rows == 9
        assert app.tape.border_title == "L2 tape · all scrips"
        assert "OGDC" in app.tape.render_line(1).text
        await pilot.press("a")
        assert app.tape.key == RELIANCE and app.tape.rows == 8


async def test_on_an_l1_feed_the_tape_says_why_it_is_empty():
    app = desk(build_market(l2=False), health_figures=FixedHealth(level="L1"))
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        assert app.tape.rows == 0
        assert "this feed is L1" in app.tape.note
        assert "this feed is L1" in app.tape.render_line(1).text


async def test_the_watchlist_follows_the_market_when_no_keys_are_given():
    market = Market()
    app = desk(market, selected=None)
    async with app.run_test(size=(160, 48)) as pilot:
        assert app.watchlist.keys == [] and app.selected is None
        market.apply({"t": "dk", "e": "PSX", "tk": "OGDC", "ts": "OGDC", "pp": "2", "lp": "215.37"})
        app.flush()
        await pilot.pause()
        assert app.watchlist.keys == [OGDC]
        assert app.selected == OGDC and app.ladder.key == OGDC
        assert "215.37" in row_text(app.watchlist, OGDC)


# -- the feed client -------------------------------------------------------------------


class FakeClient:
    """The FeedClient contract (docs/ARCHITECTURE.md), with a scripted run()."""

    def __init__(self, market: Market, level: str = "L2", fail: Exception | None = None) -> None:
        self.market = market
        self.errors = market.errors
        self.health = FixedHealth(level=level)
        self.on_event: Any = None
        self.subscribed: list[tuple[list[str], bool, bool]] = []
        self.fail = fail
        self.running = False
        self.finished = False
        self.stopped = False
        self._stop = asyncio.Event()

    def subscribe(self, keys, *, depth=True, orders=False):
        self.subscribed.append((list(keys), depth, orders))

    def unsubscribe(self, keys):
        pass

    async def run(self) -> None:
        self.running = True
        if self.fail is not None:
            raise self.fail
        # as the real client does: merge into the market, never touch the UI
        self.market.apply({"t": "df", "e": "PSX", "tk": "OGDC", "lp": "216.00"})
        await self._stop.wait()
        self.finished = True

    async def stop(self) -> None:
        self.stopped = True
        self._stop.set()


async def test_the_client_runs_in_a_worker_is_subscribed_and_stopped_on_quit():
    market = build_market()
    client = FakeClient(market, level="L2")
    app = make_app(market, client, clock=lambda: NOW, refresh_hz=50, tz=UTC)
    async with app.run_test(size=(160, 48)) as pilot:
        await until(lambda: "216.00" in row_text(app.watchlist, OGDC), what="the first frame")
        assert client.running
        assert client.subscribed == [(KEYS, True, True)]
        assert "216.00" in row_text(app.watchlist, OGDC), "the client's merge reached the screen"
        await pilot.press("q")
        await pilot.pause()
    assert client.stopped and client.finished


async def test_an_l1_client_is_not_asked_for_order_level_data():
    market = build_market(l2=False)
    client = FakeClient(market, level="L1")
    app = make_app(market, client, watch=[OGDC, RELIANCE], clock=lambda: NOW, refresh_hz=0)
    async with app.run_test(size=(160, 48)):
        assert client.subscribed == [([OGDC, RELIANCE], True, False)]
    assert client.stopped


async def test_a_crashing_client_is_reported_without_its_error_text():
    market = build_market()
    token = "s3cret-token-value"
    client = FakeClient(market, fail=RuntimeError(f"refused ws://h/2.0/market/feed?token={token}"))
    app = make_app(market, client, clock=lambda: NOW, refresh_hz=0)
    seen: list[str] = []
    app.notify = lambda message, **kw: seen.append(message)  # type: ignore[method-assign]
    async with app.run_test(size=(160, 48)):
        await until(lambda: seen, what="the worker's error")
        assert seen == ["feed stopped: RuntimeError"]
        assert token not in app.export_screenshot()


async def test_client_events_become_notifications():
    market = build_market()
    client = FakeClient(market)
    app = make_app(market, client, clock=lambda: NOW, refresh_hz=0)
    seen: list[tuple[str, Any]] = []
    app.notify = lambda message, **kw: seen.append((message, kw.get("severity")))  # type: ignore[method-assign]
    async with app.run_test(size=(160, 48)):
        client.on_event("reconnect", "reconnecting in 2.0 s")
        client.on_event("session-limit", "Maximum sessions limit")
    assert seen == [("reconnecting in 2.0 s", "warning"), ("Maximum sessions limit", "error")]


# -- themes and packaging --------------------------------------------------------------


async def test_the_desk_theme_is_registered_and_any_theme_loads():
    app = desk()
    async with app.run_test(size=(80, 24)) as pilot:
        assert app.theme == "marketdesk-dark"
        assert {"bid", "ask", "up", "down"} <= set(app.get_css_variables())
        app.theme = "textual-light"  # a theme without the desk's variables still loads
        await pilot.pause()
        assert app.get_css_variables()["bid"]


def test_the_css_is_found_through_the_package():
    paths = [Path(name) for name in CSS_FILES]
    assert paths[0].name == "desk.tcss"
    for path in paths:
        assert path.is_file(), path
        css = re.sub(r"/\*.*?\*/", "", path.read_text(), flags=re.DOTALL)
        values = re.findall(r"[\w-]+\s*:\s*([^;{}]+);", css)
        assert values and not [v for v in values if "#" in v], (
            f"{path.name}: theme variables, never hex"
        )


async def test_new_bad_frames_arrive_as_one_toast_a_while():
    market = build_market()
    now = [NOW]
    app = make_app(market, clock=lambda: now[0], refresh_hz=0, health=lambda: FixedHealth(), tz=UTC)
    seen: list[str] = []
    async with app.run_test(size=(120, 36)):
        app.notify = lambda message, **kw: seen.append(message)  # type: ignore[method-assign]
        app.update_health()
        assert seen == [], "the market's errors from before the desk started are not toasted"
        market.errors.add("not-json", "x")
        market.errors.add("not-json", "y")
        app.update_health()
        assert seen == ["2 bad frames ignored (bad-number, not-json); good state kept"]
        market.errors.add("unknown-type", "z")
        now[0] += 1
        app.update_health()
        assert len(seen) == 1, "at most one toast every ten seconds"
        now[0] += 10
        app.update_health()
        assert seen[-1].startswith("1 bad frame ignored")
