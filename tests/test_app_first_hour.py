"""Issue 9, the desk's first hour: every item proved through the whole app (make_app and
run_test at a fixed size), never a screen mounted alone."""

from __future__ import annotations

from pathlib import Path

from market_fixtures import KEYS
from test_app_surveillance import desk as surveillance_desk
from test_app_surveillance import lock_ogdc_at_the_upper_circuit
from test_editing import desk as editing_desk
from textual import events
from textual.widgets import Input

from tui.screens import AddScripScreen, ConfirmScreen, NameScreen
from tui.surveillance import SurveillanceScreen
from tui.widgets.alerts import AlertList
from tui.widgets.tiles import Tiles


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
