"""Editing the watchlists from the keyboard: every action, its refusals, the subscriptions
that follow it, and the file that keeps it across a restart."""

from __future__ import annotations

from datetime import UTC
from pathlib import Path
from typing import Any

from support.market_fixtures import NIFTY, NOW, OGDC, RELIANCE, FixedHealth, build_market
from test_app import FakeClient
from textual.widgets import Input

from tui.app import DeskApp, make_app
from tui.config_file import parse_config
from tui.screens import AddScripScreen, ConfirmScreen, HelpScreen, NameScreen
from tui.watchlist_store import Watchlists, WatchlistStore
from tui.wire.catalogue import Entry

TCS = "NSE|11536"
CATALOGUE = [
    Entry(NIFTY, "Nifty 50", "NIFTY 50 index"),
    Entry(RELIANCE, "RELIANCE-EQ", "Reliance Industries"),
    Entry(TCS, "TCS-EQ", "Tata Consultancy Services"),
    Entry(OGDC, "OGDC", "Oil & Gas Development Company"),
    Entry("NSE|1594", "INFY-EQ", "Infosys"),
]


def lists() -> Watchlists:
    return Watchlists([("Main", [NIFTY, RELIANCE]), ("Banks", [TCS])], active="Main")


def desk(path: Path, client: Any = None, wl: Watchlists | None = None, **kwargs: Any) -> DeskApp:
    store = WatchlistStore(path)
    loaded, problem = store.load(wl or lists())
    market = kwargs.pop("market", None) or build_market()
    health = FixedHealth(level="L2")
    return make_app(
        market,
        client,
        watchlists=loaded,
        store=store,
        notices=[problem] if problem else [],
        catalogue=CATALOGUE,
        clock=lambda: NOW,
        wall=lambda: NOW,
        health=lambda: health,
        refresh_hz=0,
        tz=UTC,
        **kwargs,
    )


def saved(path: Path) -> Watchlists:
    loaded, problem = WatchlistStore(path).load(Watchlists([("empty", [])]))
    assert problem is None
    return loaded


def subscribed(client: FakeClient) -> set[str]:
    keys: set[str] = set()
    for batch, _, _ in client.subscribed:
        keys |= set(batch)
    return keys - client.unsubscribed


class Client(FakeClient):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.unsubscribed: set[str] = set()

    def subscribe(self, keys, *, depth=True, orders=False):
        keys = list(keys)
        self.unsubscribed -= set(keys)
        super().subscribe(keys, depth=depth, orders=orders)

    def unsubscribe(self, keys):
        self.unsubscribed |= set(keys)


async def test_add_a_scrip_through_the_search_modal(tmp_path):
    path = tmp_path / "watchlists.toml"
    market = build_market()
    client = Client(market)
    app = desk(path, client, market=market)
    async with app.run_test(size=(120, 36)) as pilot:
        assert subscribed(client) == {NIFTY, RELIANCE, TCS}, "every list is subscribed"
        await pilot.press("plus")
        assert isinstance(app.screen, AddScripScreen)
        await pilot.press(*"oil")  # a word of the name finds it
        options = app.screen.query_one("#add-matches")
        assert options.option_count == 1
        await pilot.press("enter")
        assert not isinstance(app.screen, AddScripScreen)
        assert app.watchlist.keys == [NIFTY, RELIANCE, OGDC]
        assert app.selected == OGDC and app.watchlist.cursor_key == OGDC
        assert OGDC in subscribed(client), "the subscription follows at once"
    assert list(saved(path).keys_of("Main")) == [NIFTY, RELIANCE, OGDC]


async def test_the_modal_offers_a_typed_key_and_refuses_a_duplicate(tmp_path):
    path = tmp_path / "watchlists.toml"
    app = desk(path)
    seen: list[str] = []
    async with app.run_test(size=(120, 36)) as pilot:
        original = app.notify
        app.notify = lambda message, **kw: (seen.append(message), original(message, **kw))  # type: ignore[method-assign,func-returns-value]
        await pilot.press("plus", *"bse|500325")
        screen = app.screen
        assert isinstance(screen, AddScripScreen)
        assert [e.key for e in screen.matches("bse|500325")] == ["BSE|500325"]
        await pilot.press("enter")
        assert app.watchlist.keys[-1] == "BSE|500325"
        await pilot.press("plus", *"reliance", "enter")  # already in the list
        assert app.watchlist.keys.count(RELIANCE) == 1
        assert any("RELIANCE" in m or RELIANCE in m for m in seen if "already" in m)
        await pilot.press("plus", "escape")
        assert not isinstance(app.screen, AddScripScreen)
    assert list(saved(path).keys_of("Main")) == [NIFTY, RELIANCE, "BSE|500325"]


async def test_remove_and_move_follow_the_cursor_and_are_saved(tmp_path):
    path = tmp_path / "watchlists.toml"
    client = Client(build_market())
    app = desk(path, client, wl=Watchlists([("Main", [NIFTY, RELIANCE, TCS, OGDC])]))
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("j", "J")  # RELIANCE down one
        assert app.watchlist.keys == [NIFTY, TCS, RELIANCE, OGDC]
        assert app.watchlist.cursor_key == RELIANCE
        await pilot.press("K", "K")  # and up two
        assert app.watchlist.keys == [RELIANCE, NIFTY, TCS, OGDC]
        assert list(saved(path).keys_of("Main")) == [RELIANCE, NIFTY, TCS, OGDC]
        await pilot.press("G", "d")
        assert app.watchlist.keys == [RELIANCE, NIFTY, TCS]
        assert OGDC not in subscribed(client) and OGDC in client.unsubscribed
    assert list(saved(path).keys_of("Main")) == [RELIANCE, NIFTY, TCS]


async def test_an_edit_that_keeps_the_lists_names_keeps_the_tab_bar(tmp_path):
    path = tmp_path / "watchlists.toml"
    app = desk(path)
    async with app.run_test(size=(120, 36)) as pilot:
        tabs = list(app.tabs.query("Tab"))
        await pilot.press("plus", *"infy", "enter")  # a scrip added: names and order as they were
        await pilot.press("d", "J")
        assert list(app.tabs.query("Tab")) == tabs, "the tab bar was rebuilt for a scrip edit"
        assert app.tabs.active == tabs[0].id
        await pilot.press("R")
        app.screen.query_one(Input).value = "Core"
        await pilot.press("enter")  # a name changed: the bar follows
        assert [tab.label.plain for tab in app.tabs.query("Tab")] == ["Core", "Banks"]
        assert app.tabs.active_tab is not None and app.tabs.active_tab.label.plain == "Core"


async def test_a_sorted_list_refuses_a_manual_move(tmp_path):
    path = tmp_path / "watchlists.toml"
    app = desk(path, wl=Watchlists([("Main", [NIFTY, RELIANCE, OGDC])]))
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("s")  # sorted by the first column
        assert app.watchlist.sort_column is not None
        before = list(app.lists.keys_of("Main"))
        await pilot.press("J")
        assert list(app.lists.keys_of("Main")) == before


async def test_new_rename_switch_and_delete_watchlists(tmp_path):
    path = tmp_path / "watchlists.toml"
    client = Client(build_market())
    app = desk(path, client)
    async with app.run_test(size=(120, 36)) as pilot:
        assert [tab.label.plain for tab in app.tabs.query("Tab")] == ["Main", "Banks"]
        await pilot.press("N")
        assert isinstance(app.screen, NameScreen)
        await pilot.press(*"Main", "enter")  # taken (ignoring case): the dialog says so
        assert isinstance(app.screen, NameScreen)
        assert "already" in str(app.screen.query_one("#name-error").render())
        app.screen.query_one(Input).value = "Energy"
        await pilot.press("enter")
        assert list(app.lists.names()) == ["Main", "Banks", "Energy"]
        assert app.lists.active == "Energy" and app.watchlist.keys == []
        await pilot.press("plus", *"ogdc", "enter")
        assert app.watchlist.keys == [OGDC]
        await pilot.press("R")
        app.screen.query_one(Input).value = "Oil & gas"
        await pilot.press("enter")
        assert list(app.lists.names()) == ["Main", "Banks", "Oil & gas"]
        assert app.watchlist.border_title == "Oil & gas"
        await pilot.press("left_square_bracket")
        assert app.lists.active == "Banks" and app.watchlist.keys == [TCS]
        await pilot.press("D")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        assert list(app.lists.names()) == ["Main", "Banks", "Oil & gas"]
        await pilot.press("D", "y")
        assert list(app.lists.names()) == ["Main", "Oil & gas"]
        assert TCS not in subscribed(client), "a scrip in no list is unsubscribed"
        assert [tab.label.plain for tab in app.tabs.query("Tab")] == ["Main", "Oil & gas"]
    again = saved(path)
    assert list(again.names()) == ["Main", "Oil & gas"] and list(again.keys_of("Oil & gas")) == [
        OGDC
    ]


async def test_the_last_watchlist_is_never_deleted(tmp_path):
    path = tmp_path / "watchlists.toml"
    app = desk(path, wl=Watchlists([("Only", [NIFTY])]))
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("D")
        assert not isinstance(app.screen, ConfirmScreen)
        assert list(app.lists.names()) == ["Only"]


async def test_edits_survive_a_restart_and_the_active_list_is_remembered(tmp_path):
    path = tmp_path / "watchlists.toml"
    app = desk(path)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("right_square_bracket", "plus", *"infy", "enter")
        assert app.watchlist.keys == [TCS, "NSE|1594"]
    again = desk(path)
    async with again.run_test(size=(120, 36)):
        assert again.lists.active == "Banks"
        assert again.watchlist.keys == [TCS, "NSE|1594"]
        assert again.tabs.active_tab is not None and again.tabs.active_tab.label.plain == "Banks"


async def test_a_watchlists_file_that_does_not_parse_is_kept_aside_and_reported(tmp_path):
    path = tmp_path / "watchlists.toml"
    path.write_text('active = "Main"\n[[watchlists]\nname = ')
    app = desk(path)
    seen: list[str] = []
    async with app.run_test(size=(120, 36)) as pilot:
        seen = [n.message for n in app._notifications]
        assert list(app.lists.names()) == ["Main", "Banks"], "the default lists"
        await pilot.press("plus", *"ogdc", "enter")
    kept = [p for p in tmp_path.iterdir() if p.name.startswith("watchlists.bad-")]
    assert len(kept) == 1 and kept[0].read_text().startswith('active = "Main"\n[[watchlists]\n')
    assert any(kept[0].name in message for message in seen)
    assert list(saved(path).keys_of("Main")) == [NIFTY, RELIANCE, OGDC]


async def test_editing_keys_act_only_in_the_watchlist(tmp_path):
    path = tmp_path / "watchlists.toml"
    app = desk(path)
    async with app.run_test(size=(120, 36)) as pilot:
        app.tape.focus()
        await pilot.press("d", "plus")
        assert app.watchlist.keys == [NIFTY, RELIANCE]
        assert not isinstance(app.screen, AddScripScreen)


async def test_help_lists_every_binding_with_remapped_keys(tmp_path):
    path = tmp_path / "watchlists.toml"
    app = desk(path, config=parse_config('[keys]\n"desk.quit" = "ctrl+q"\n', "test"))
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        text = "\n".join(
            f"{keys} {description}" for _, rows in app.screen.sections for keys, description in rows
        )
        for description in ("Quit", "Add", "Remove", "Move down", "New list", "Rename list",
                            "Delete list", "Sort", "Pause", "Maximise", "Theme"):  # fmt: skip
            assert description in text, description
        assert "^q Quit" in text
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)


async def test_the_palette_has_the_desks_commands(tmp_path):
    path = tmp_path / "watchlists.toml"
    app = desk(path)
    async with app.run_test(size=(120, 36)):
        titles = [c.title for c in app.get_system_commands(app.screen)]
        for title in ("Add scrip", "New watchlist", "Watchlist: Banks", "Toggle pane: tape",
                      "Desk theme: marketdesk-light", "Jump to TCS-EQ Tata Consultancy Services"):  # fmt: skip
            assert title in titles, title
        jump = next(
            c for c in app.get_system_commands(app.screen) if c.title.startswith("Jump to TCS")
        )
        jump.callback()
        assert app.lists.active == "Banks" and app.selected == TCS


async def test_panes_toggle_and_maximise(tmp_path):
    path = tmp_path / "watchlists.toml"
    app = desk(path)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.press("3")
        assert not app.tape.display
        await pilot.pause()
        assert app.watchlist.size.width > 80, "the others take the room"
        await pilot.press("3", "2", "4")
        assert app.tape.display and not app.ladder.display and not app.health_panel.display
        await pilot.press("1", "3")  # the last pane stays
        assert app.tape.display
        await pilot.press("1", "2", "4")
        await pilot.press("z")
        assert app.screen.maximized is app.tape, "the focused pane (the watchlist was hidden)"
        await pilot.press("z")
        assert app.screen.maximized is None


async def test_key_remaps_from_the_config_apply(tmp_path):
    path = tmp_path / "watchlists.toml"
    app = desk(path, config=parse_config('[keys]\n"watchlist.down" = "n"\n', "test"))
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("n")
        assert app.watchlist.cursor == 1
        await pilot.press("j")
        assert app.watchlist.cursor == 1, "the remap replaces the default keys"


async def test_unknown_columns_in_the_config_are_reported_and_the_default_shown(tmp_path):
    config = parse_config('[desk]\ncolumns = ["symbol", "colour"]\n', "test")
    app = desk(tmp_path / "watchlists.toml", config=config)
    async with app.run_test(size=(120, 36)):
        messages = [n.message for n in app._notifications]
        assert any("columns" in m and "'colour'" in m for m in messages), messages
        assert app.watchlist.render_line(0).text.split()[:2] == ["SYMBOL", "LAST"]
