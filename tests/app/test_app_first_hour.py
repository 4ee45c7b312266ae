"""Issue 9, the desk's first hour: every item proved through the whole app (make_app and
run_test at a fixed size), never a screen mounted alone."""

from __future__ import annotations

import asyncio
import itertools
import re
import shutil
import subprocess
import sys
from datetime import UTC
from pathlib import Path

import pytest
from support.market_fixtures import KEYS, NIFTY, NOW, OGDC, RELIANCE, build_market
from support.waiting import until
from test_app import FakeClient
from test_app_surveillance import desk as surveillance_desk
from test_app_surveillance import lock_ogdc_at_the_upper_circuit
from test_editing import desk as editing_desk
from textual import events
from textual.widgets import Input

from tui.app import make_app
from tui.cli import settings
from tui.cli_parser import build_parser
from tui.config_file import ConfigError, parse_config
from tui.feed.client import FeedClient
from tui.feed.config import FeedConfig
from tui.feed.health import Health
from tui.launch import embedded_sim, feed_catalogue, feed_watchlists, simulator_watchlists
from tui.market.store import Market
from tui.screens import AddScripScreen, ConfirmScreen, NameScreen
from tui.sim.config import SimConfig
from tui.sim.instruments import INSTRUMENTS
from tui.sim.server import SimServer
from tui.surveillance import SurveillanceScreen
from tui.watchlist_store import Watchlists
from tui.widgets.alerts import AlertList
from tui.widgets.tiles import Tiles
from tui.wire.catalogue import Entry
from tui.wire.frames import DecodeErrors
from tui.wire.prices import format_units

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools"))
TOKEN = "demo-token"
TCS = "NSE|11536"


def type_at_once(app, keys: str | list[str]) -> None:
    """Queue every key before the app handles the first: a fast typist on a busy machine."""
    for key in keys:
        char = key if len(key) == 1 else None
        app.post_message(events.Key(key, char))


# -- keys reach their target -------------------------------------------------------------


async def test_tab_and_shift_tab_reach_the_alert_list_on_the_surveillance_screen(tmp_path):
    app, market, now, _ = surveillance_desk(tmp_path)
    async with app.run_test(size=(160, 48)) as pilot:
        lock_ogdc_at_the_upper_circuit(market)
        now[0] += 1
        app.flush()
        await pilot.press("v")
        screen = app.screen
        assert isinstance(screen, SurveillanceScreen)
        assert isinstance(app.focused, Tiles)
        await pilot.press("tab")
        assert isinstance(app.focused, AlertList)
        alerts = screen.query_one(AlertList)
        unacked = len(app.alerts.alerts(unacked_only=True))
        assert unacked >= 2
        await pilot.press("a")  # acknowledge the one under the cursor
        assert len(app.alerts.alerts(unacked_only=True)) == unacked - 1
        await pilot.press("A")  # acknowledge all
        assert app.alerts.alerts(unacked_only=True) == []
        await pilot.press("f")  # a rule filter
        assert alerts.rule is not None and f"rule {alerts.rule}" in alerts.status()
        await pilot.press("s")  # the least severity shown
        assert alerts.min_severity != "info"
        target = alerts.cursor_alert
        assert target is not None
        await pilot.press("x")  # mute that rule for that scrip
        assert app.alerts.muted(target.rule, target.key)
        await pilot.press("shift+tab")
        assert isinstance(app.focused, Tiles)
        await pilot.press("shift+tab")
        assert isinstance(app.focused, AlertList)
        await pilot.press("d", "1")  # the desk's own keys still idle behind this screen
        assert app.watchlist.keys == KEYS and app.watchlist.display


async def test_keys_typed_right_after_R_belong_to_the_rename_box(tmp_path: Path):
    app = editing_desk(tmp_path / "w.toml")
    async with app.run_test(size=(120, 36)) as pilot:
        type_at_once(app, "RDesk")
        await pilot.pause()
        assert isinstance(app.screen, NameScreen)
        assert app.screen.query_one(Input).value == "Desk"
        assert app.watchlist.sort_column is None, "s reached the desk"
        type_at_once(app, ["enter"])
        await pilot.pause()
        assert app.lists.names() == ("Desk", "Banks")


async def test_keys_typed_right_after_N_and_plus_belong_to_their_modal(tmp_path: Path):
    app = editing_desk(tmp_path / "w.toml")
    async with app.run_test(size=(120, 36)) as pilot:
        cursor = app.watchlist.cursor_key
        type_at_once(app, "Njk")
        await pilot.pause()
        assert isinstance(app.screen, NameScreen) and app.screen.query_one(Input).value == "jk"
        assert app.watchlist.cursor_key == cursor
        await pilot.press("escape")
        type_at_once(app, ["plus", "t", "c", "s", "enter"])
        await pilot.pause()
        assert not isinstance(app.screen, AddScripScreen)
        assert "NSE|11536" in app.lists.keys_of("Main")


async def test_y_typed_right_after_D_answers_the_question(tmp_path: Path):
    app = editing_desk(tmp_path / "w.toml")
    async with app.run_test(size=(120, 36)) as pilot:
        type_at_once(app, "Dy")
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmScreen)
        assert app.lists.names() == ("Banks",)


# -- the first screen ----------------------------------------------------------------------


@pytest.mark.slow
async def test_a_clean_start_opens_on_a_stock_with_a_full_ladder_and_a_moving_tape_and_no_refusal():
    """``make run``: the default lists on the seeded simulator, through the real client."""
    loop = asyncio.get_running_loop()
    async with SimServer(SimConfig(seed=1, rate=2000.0, tokens=(TOKEN,))) as sim:
        market = Market(DecodeErrors(redact=(TOKEN,)))
        client = FeedClient(FeedConfig(url=sim.endpoint("L2"), token=TOKEN), market)
        lists = simulator_watchlists(sim.instruments)
        catalogue = [Entry(i.key, i.symbol, i.name, i.index) for i in sim.instruments]
        app = make_app(market, client, watchlists=lists, catalogue=catalogue, refresh_hz=20)
        toasts: list[str] = []
        async with app.run_test(size=(160, 48)) as pilot:
            real_notify = app.notify
            app.notify = lambda message, **kw: (toasts.append(message), real_notify(message, **kw))
            started = loop.time()
            selected = app.selected
            assert selected is not None and selected not in app.indices
            assert selected == lists.keys_of("Main")[3], "the first stock after the indices"
            tape_rows = 0

            def ready() -> bool:
                nonlocal tape_rows
                scrip = market.view(selected)
                if scrip is None or len(scrip.bids()) < 5 or len(scrip.asks()) < 5:
                    return False
                if not tape_rows:
                    tape_rows = app.tape.rows
                return tape_rows > 0 and app.tape.rows > tape_rows  # it moves

            # within two seconds on any machine the desk runs on; the bound is for a busy CI
            await until(ready, timeout=15, what="a full ladder and a moving tape")
            took = loop.time() - started
            lines = [app.ladder.render_line(y).text for y in range(app.ladder.size.height)]
            assert "BID" in lines[1] and "ASK" in lines[1]
            assert sum(1 for line in lines[2:7] if line.count(".") >= 2) == 5, lines
            await pilot.pause(1.0)  # any refusal would have arrived by now
            health = client.health
            assert health.refused == 0, health.last_refusal
            assert not [t for t in toasts if "refused" in t]
            assert "refused" not in "\n".join(
                app.health_panel.render_line(y).text for y in range(app.health_panel.size.height)
            )
            # indices: the touchline only; their values are in the watchlist
            index = lists.keys_of("Main")[0]
            assert index in app.indices and market.view(index) is not None
            assert market.view(index).price_text("lp")
            await pilot.press("q")
    print(f"full ladder and moving tape after {took:.2f} s")  # 0.1 s on a quiet machine


async def test_on_a_real_feed_the_default_list_asks_its_indices_for_the_touchline_only():
    market = build_market()
    client = FakeClient(market, level="L2")
    app = make_app(market, client, watchlists=feed_watchlists(), catalogue=feed_catalogue(),
                   clock=lambda: NOW, refresh_hz=0, tz=UTC)  # fmt: skip
    async with app.run_test(size=(120, 36)):
        asked = {key: (depth, orders) for keys, depth, orders in client.subscribed for key in keys}
        assert asked["NSE|26000"] == (False, False) and asked["NSE|26009"] == (False, False)
        assert asked[RELIANCE] == (True, True)
        assert app.selected == RELIANCE, "the first stock of the list, not Nifty 50"
        app.jump_to("NSE|26000")
        assert "Nifty 50 is an index: it has no orders" in app.tape.note


# -- panes take the space ------------------------------------------------------------------

PANES = ("watchlist", "ladder", "tape", "health")
HIDDEN = [set(c) for n in range(1, 4) for c in itertools.combinations(PANES, n)]


@pytest.mark.parametrize("size", [(160, 48), (100, 30)], ids=["wide", "narrow"])
async def test_hidden_panes_leave_no_hole_the_shown_ones_tile_the_desk(size):
    app = make_app(build_market(), watch=KEYS, clock=lambda: NOW, refresh_hz=0, tz=UTC)
    async with app.run_test(size=size) as pilot:
        desk = app.query_one("#desk")
        for hidden in HIDDEN:
            for i, name in enumerate(PANES, 1):  # show first: the last pane stays shown
                if name not in hidden and not app._pane(name).display:
                    await pilot.press(str(i))
            for i, name in enumerate(PANES, 1):
                if name in hidden and app._pane(name).display:
                    await pilot.press(str(i))
            await pilot.pause()
            shown = [app._pane(p) for p in PANES if p not in hidden]
            assert all(p.display for p in shown) and not any(app._pane(p).display for p in hidden)
            region = desk.content_region
            cells = set()
            for pane in shown:
                r = pane.region
                assert r.width >= 20 and r.height >= 5, (hidden, pane.id, r)
                assert region.contains_region(r), (hidden, pane.id, r, region)
                area = {(x, y) for x in range(r.x, r.right) for y in range(r.y, r.bottom)}
                assert not cells & area, (hidden, pane.id, "overlaps")
                cells |= area
            assert len(cells) == region.area, (hidden, [(p.id, p.region) for p in shown])
        for i, name in enumerate(PANES, 1):  # all back: the stylesheet's own layout
            if not app._pane(name).display:
                await pilot.press(str(i))
        await pilot.pause()
        assert not [c for c in desk.classes if c.startswith("-no-")]


# -- the selection follows an edit -----------------------------------------------------------


async def test_d_on_the_selected_scrip_selects_its_neighbour_for_ladder_and_tape(tmp_path: Path):
    lists = Watchlists([("Main", [NIFTY, RELIANCE, TCS, OGDC]), ("Banks", [TCS])])
    app = editing_desk(tmp_path / "w.toml", wl=lists, selected=RELIANCE)
    async with app.run_test(size=(120, 36)) as pilot:
        assert app.watchlist.cursor_key == RELIANCE  # selected, on the second row
        assert app.selected == RELIANCE == app.ladder.key == app.tape.key
        await pilot.press("d")
        assert app.lists.keys_of("Main") == (NIFTY, TCS, OGDC)
        assert app.selected == TCS and app.ladder.key == TCS and app.tape.key == TCS
        assert app.watchlist.selected == TCS and "TCS" in app.ladder.border_title
        await pilot.press("G", "enter", "d")  # the last one: its neighbour is above
        assert app.selected == TCS and app.ladder.key == TCS


async def test_deleting_the_list_of_the_selected_scrip_selects_one_of_the_list_shown(
    tmp_path: Path,
):
    lists = Watchlists([("Main", [NIFTY, RELIANCE]), ("Banks", ["NSE|1333", OGDC])])
    app = editing_desk(tmp_path / "w.toml", wl=lists, selected=RELIANCE)
    async with app.run_test(size=(120, 36)) as pilot:
        assert app.selected == RELIANCE
        await pilot.press("D", "y")
        assert app.lists.names() == ("Banks",)
        assert app.selected in ("NSE|1333", OGDC) and app.ladder.key == app.selected
        assert app.tape.key == app.selected


async def test_removing_the_last_scrip_leaves_nothing_selected(tmp_path: Path):
    lists = Watchlists([("Main", [RELIANCE]), ("Banks", [TCS])])
    app = editing_desk(tmp_path / "w.toml", wl=lists, selected=RELIANCE)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("d")
        assert app.selected is None and app.ladder.key is None
        assert "No scrip selected" in app.ladder.render_line(0).text


# -- the maximised ladder ------------------------------------------------------------------


def sim_desk(market, **kwargs):
    """The desk over the seeded simulator's market (tools/screenshots.py fills it)."""
    from screenshots import FT0, filled_market, health

    market = market or filled_market()
    figures = kwargs.pop("figures", None) or health(market)
    app = make_app(market, watchlists=simulator_watchlists(INSTRUMENTS), catalogue=INSTRUMENTS,
                   clock=lambda: 100.0, wall=lambda: FT0, refresh_hz=0,
                   health=lambda: figures, tz=UTC, **kwargs)  # fmt: skip
    return app, market


def ladder_lines(app) -> list[str]:
    return [app.ladder.render_line(y).text for y in range(app.ladder.size.height)]


async def test_the_maximised_ladder_shows_the_whole_l2_book_and_says_so():
    app, market = sim_desk(None)
    async with app.run_test(size=(160, 48)) as pilot:
        app.flush()
        app.ladder.focus()
        await pilot.press("z")
        await pilot.pause()
        assert app.indices == {i.key for i in INSTRUMENTS if i.index}  # from the instruments
        key = app.selected
        assert key == "PSX|OGDC", "the first stock of the default list"
        bids, asks = market.books[key].levels(market.view(key).pp, 1000)
        lines = ladder_lines(app)
        assert app.ladder.size.height > 40
        rows = [line for line in lines[2:] if "│" in line]
        assert len(rows) == max(len(bids), len(asks)) > 5, "every level of the book"
        text = "\n".join(lines)
        for level in bids + asks:
            assert format_units(level.price, 2) in text
        assert f"the whole L2 book: {len(bids)} bid and {len(asks)} ask levels" in text


async def test_the_maximised_ladder_on_an_l1_feed_says_it_has_five_levels():
    from screenshots import FT0, filled_market

    market = filled_market()
    market.books.clear()  # an L1 feed: depth only
    figures = Health(state="live", endpoint="ws://127.0.0.1:1/2.0/market/feed/full", level="L1",
                     connected_since=FT0)  # fmt: skip
    app, _ = sim_desk(market, figures=figures)
    async with app.run_test(size=(160, 48)) as pilot:
        app.flush()
        app.update_health()
        app.ladder.focus()
        await pilot.press("z")
        await pilot.pause()
        lines = ladder_lines(app)
        assert len([line for line in lines[2:] if "│" in line]) == 5
        assert "L1 feed: five levels a side; an L2 feed has the whole book" in "\n".join(lines)


# -- one time zone -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("zone", "ladder", "tape"),
    [("UTC", "08:30:00", "08:30:18"), ("Asia/Karachi", "13:30:00", "13:30:18"),
     ("America/New_York", "04:30:00", "04:30:18")],
)  # fmt: skip
async def test_every_pane_shows_times_in_the_configured_zone_named_in_the_header(
    zone, ladder, tape
):
    """RELIANCE's last trade came at 14:00:00 NSE time (the feed's ltt) = 08:30:00 UTC."""
    config = parse_config(f'[desk]\ntimezone = "{zone}"\n', "test")
    app = make_app(build_market(), watch=KEYS, config=config, selected=RELIANCE,
                   clock=lambda: NOW, refresh_hz=0)  # fmt: skip
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        assert app.tz is not None and str(app.tz) == zone
        assert f"times {zone}" in app.title
        assert f"times {zone}" in str(app.query_one("HeaderTitle").render())
        await pilot.press("v")  # the alerts' times: the same zone, named on their pane
        assert app.screen.query_one(AlertList).border_title == f"Alerts · times {zone}"
        await pilot.press("v")
        assert app.tape.render_line(1).text.split()[0] == tape  # the newest event
        app.ladder.focus()
        await pilot.press("z")  # room for the last trade's time
        await pilot.pause()
        assert app.ladder.render_line(0).text.rstrip().endswith(ladder)


async def test_without_a_zone_the_desk_says_it_shows_local_time():
    app = make_app(build_market(), watch=KEYS, clock=lambda: NOW, refresh_hz=0)
    async with app.run_test(size=(160, 48)):
        assert app.tz is None and "times local" in app.title


# -- alert texts -----------------------------------------------------------------------------

#: a number of four figures or more written without separators, or in exponent form
UNSEPARATED = re.compile(r"(?<![\d.,:|/])\d{4,}(?![\d:])|\de[+-]\d")


async def test_every_alert_reads_in_plain_words_with_thousands_separators():
    """The desk fed by every simulator scenario in turn (as tools/screenshots.py draws the
    surveillance picture): every alert's text and figures, as the alert list shows them."""
    from screenshots import surveillance_desk as fed_desk

    app, run = fed_desk(seconds=75)
    async with app.run_test(size=(200, 60)) as pilot:
        await run(pilot)
        await pilot.press("v")
        await pilot.pause()
        alerts = app.screen.query_one(AlertList)
        shown = alerts.shown()
        assert {a.rule for a in shown} >= {"spread", "volume", "print", "jump", "circuit"}
        for alert in shown:
            row = alerts._line(alert)
            text = "".join(cell for cell, _ in row)
            assert "none usually" not in text and "=" not in text, text
            bad = [m for m in UNSEPARATED.findall(text.replace(alert.key, "")) if m]
            assert not bad, (text, bad)


async def test_the_tiles_mini_ladders_keep_a_gap_between_prices_and_quantities():
    from screenshots import surveillance_desk as fed_desk

    app, run = fed_desk(seconds=20)
    async with app.run_test(size=(160, 48)) as pilot:
        await run(pilot)
        await pilot.press("v")
        await pilot.pause()
        tiles = app.screen.query_one(Tiles)
        checked = 0
        for key in tiles.keys:
            for line in tiles.tile_text(key)[3:]:
                if "│" not in line:
                    continue
                bid, ask = line.split("│")
                assert re.fullmatch(r" *(\S+ \d+\.\d\d)?", bid), line
                assert re.fullmatch(r"(\d+\.\d\d \S+)? *", ask), line
                for qty in bid.split()[:1] + ask.split()[1:]:
                    assert re.fullmatch(r"\d{1,3}(,\d{3})*|\d+(\.\d)?[kMB]", qty), (line, qty)
                checked += 1
        assert checked > 50


# -- faults in the built-in simulator ----------------------------------------------------------


@pytest.mark.slow
async def test_sim_fault_gives_the_desks_own_simulator_the_faults_of_marketdesk_sim(tmp_path):
    """``marketdesk --sim-fault drop-every=1.5 --sim-fault garbage-ratio=0.01`` over a config
    that stalls: the desk rides through every one of them, as it would through a real feed's."""
    config = tmp_path / "config.toml"
    config.write_text("[simulator]\nstall_every = 4\nstall_seconds = 1\ndrop_every = 60\n")
    args = build_parser().parse_args(
        [
            "--config",
            str(config),
            "--sim-fault",
            "drop-every=1.5",
            "--sim-fault",
            "garbage-ratio=0.01",
        ]
    )
    cfg = settings(args)
    assert (cfg.simulator.drop_every, cfg.simulator.stall_every) == (1.5, 4.0)
    sim = embedded_sim(args, cfg)
    url = sim.start()
    try:
        market = Market(DecodeErrors(redact=(sim.token,)))
        client = FeedClient(FeedConfig(url=url, token=sim.token), market)
        lists = simulator_watchlists(sim.instruments)
        catalogue = [Entry(i.key, i.symbol, i.name, i.index) for i in sim.instruments]
        app = make_app(market, client, watchlists=lists, catalogue=catalogue, refresh_hz=20)
        async with app.run_test(size=(160, 48)) as pilot:
            health = client.health
            await until(lambda: health.reconnects >= 2 and health.state == "live", timeout=30,
                        what="two reconnects after dropped connections")  # fmt: skip
            await until(lambda: market.errors.total > 0, timeout=15, what="a bad frame counted")
            before = app.tape.rows
            await until(lambda: app.tape.rows > before, timeout=15, what="the tape moving again")
            panel = "\n".join(app.health_panel.render_line(y).text
                              for y in range(app.health_panel.size.height))  # fmt: skip
            assert "reconnects" in panel and "bad frames" in panel
            await pilot.press("q")
    finally:
        sim.stop()


def test_sim_fault_refuses_an_unknown_fault_or_a_bad_value(capsys):
    from tui.cli import main

    for bad in (["--sim-fault", "explode=1"], ["--sim-fault", "drop-every=soon"]):
        assert main(bad) == 2  # a usage error; the value itself is never echoed
    err = capsys.readouterr().err
    assert "unknown fault" in err and "a number of seconds" in err
    assert "explode" not in err and "soon" not in err  # argument errors echo no value
    args = build_parser().parse_args(["--sim-fault", "garbage-ratio=2"])
    with pytest.raises(ConfigError, match=r"garbage_ratio = 2.0 is out of range"):
        settings(args)


# -- make run installs the desk alone --------------------------------------------------------


@pytest.mark.skipif(shutil.which("make") is None, reason="no make on this machine")
def test_make_run_installs_only_the_desk_and_make_test_adds_the_test_extra(tmp_path):
    root = Path(__file__).resolve().parents[2]

    def planned(target: str) -> str:
        venv = tmp_path / "venv"  # a fresh one: make plans every step
        out = subprocess.run(["make", "-n", "-C", str(root), target, f"VENV={venv}"],
                             capture_output=True, text=True, check=True)  # fmt: skip
        return out.stdout

    run = planned("run")
    assert "pip install --quiet -e ." in run and "[test" not in run and "[dev" not in run
    assert "python3-venv" in run, "a missing venv module names the Debian/Ubuntu package"
    test = planned("test")
    assert "-e '.[test]'" in test and "[dev" not in test
    assert "-e '.[dev]'" in planned("lint")
