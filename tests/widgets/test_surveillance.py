"""The surveillance screen: tiles, the alert list, and the screen that holds them.

The screen is pushed in a tiny app of a fixed size with its own stylesheet and the desk
theme, over the fixed market of market_fixtures; alerts are made by hand and added to an
``AlertBook`` as the app's frame would.  Time is handed in (a clock list), never read.
"""

from __future__ import annotations

from datetime import UTC
from importlib.resources import files
from typing import Any

import pytest
from rich.style import Style
from support.market_fixtures import KEYS, NIFTY, NOW, OGDC, RELIANCE, build_market, tick
from textual.app import App
from textual.binding import Binding

from tui.market.alerts import Alert, AlertBook
from tui.market.store import Market
from tui.surveillance import SurveillanceScreen
from tui.theme import DEFAULT_THEME, THEMES, variable_defaults
from tui.widgets.alerts import AlertList, figures_text
from tui.widgets.tile_lines import ladder_line, short_qty
from tui.widgets.tiles import Tiles

TCS = "NSE|11536"
HDFC = "NSE|1333"
HBL = "PSX|HBL"
GOLD = "MCX|432294"
#: the fixture's feed time: 2025-05-12 08:30:00 UTC
T0 = 1747038600.0
WIDE = (160, 48)
SMALL = (80, 24)


def alert(seq: int, key: str = RELIANCE, rule: str = "spread", severity: str = "warn",
          text: str = "", **figures: Any) -> Alert:  # fmt: skip
    symbols = {RELIANCE: "RELIANCE-EQ", OGDC: "OGDC", TCS: "TCS-EQ", NIFTY: "Nifty 50", HBL: "HBL"}
    return Alert(seq, T0 + seq, key, symbols.get(key, key), rule, severity,
                 text or f"{rule} pattern to look at", dict(figures))  # fmt: skip


def three() -> list[Alert]:
    """A warn, an alert and an info, oldest first, on three scrips."""
    return [
        alert(
            1,
            RELIANCE,
            "spread",
            "warn",
            "spread 6 ticks against a usual 1",
            spread="0.60",
            ticks=6,
        ),
        alert(
            5,
            OGDC,
            "circuit",
            "alert",
            "last within 0.5% of the lower circuit",
            lp="215.37",
            lc="196.56",
        ),
        alert(
            9, TCS, "imbalance", "info", "buy quantity 3.2 times the sell", tbq=120000, ratio=3.2
        ),
    ]


class Host(App[None]):
    """The desk's themes and the screen's stylesheet; pushes the screen at start and keeps
    what it was dismissed with (``"open"`` until then) and every toast."""

    CSS_PATH = [str(files("tui.themes") / "surveillance.tcss")]  # noqa: RUF012 - Textual's API

    def __init__(self, screen: SurveillanceScreen) -> None:
        super().__init__()
        self.surveillance = screen
        for theme in THEMES:
            self.register_theme(theme)
        self.theme = DEFAULT_THEME
        self.result: object = "open"
        self.toasts: list[str] = []

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return variable_defaults(self.current_theme)

    def on_mount(self) -> None:
        self.push_screen(self.surveillance, self._dismissed)

    def _dismissed(self, result: str | None) -> None:
        self.result = result

    def notify(self, message: str, **kwargs: Any) -> None:  # type: ignore[override]
        self.toasts.append(message)
        super().notify(message, **kwargs)


def screen(
    market: Market | None = None,
    book: AlertBook | None = None,
    keys: list[str] | None = None,
    now: list[float] | None = None,
    **kw: Any,
) -> SurveillanceScreen:
    clock = now if now is not None else [NOW]
    if book is None:
        book = AlertBook()
        book.add(three())
    return SurveillanceScreen(market or build_market(), book, KEYS if keys is None else keys,
                              clock=lambda: clock[0], tz=UTC, **kw)  # fmt: skip


def title_style(tiles: Tiles, key: str, text: str) -> Style:
    """The style of the segment of ``key``'s title that holds ``text``."""
    for segment in tiles._tile(key)[0]:
        if text in segment.text:
            return segment.style or Style()
    raise AssertionError(f"{text!r} not in {tiles.tile_text(key)[0]!r}")


def list_rows(w: AlertList) -> list[str]:
    """The alert list's lines on screen, header first, as plain text."""
    return [w.render_line(y).text.rstrip() for y in range(w.scrollable_content_region.height)]


# -- tiles ---------------------------------------------------------------------------------


async def test_a_tile_shows_last_change_spread_buy_share_circuit_distance_and_a_mini_ladder():
    s = screen(book=AlertBook())
    async with Host(s).run_test(size=SMALL) as pilot:
        await pilot.pause()
        assert s.tiles.tile_text(RELIANCE) == [
            " RELIANCE-EQ",
            "2945.60          ▲ +0.49%",
            "spr 1t  buy 51%     ▲9.5%",  # tbq 612,340 of 1,199,460; 9.5% under uc 3224.30
            "1.2k 2945.50│2945.60 640",
            " 880 2945.40│2945.70 1.9k",
        ]
        # a falling scrip, nearer its lower limit
        assert s.tiles.tile_text(OGDC) == [
            " OGDC",
            "215.37           ▼ -1.39%",
            "spr 2t              ▼8.8%",
            "5,000 215.36│215.38 2,500",
            "12.0k 215.35│",
        ]
        # pp=0: no decimals; one level a side, the second ladder line empty
        assert s.tiles.tile_text(GOLD)[1:] == ["93215            ▼ -0.21%", "spr 2t",
                                                "     3 93214│93216 5", ""]  # fmt: skip
        # an index has no depth; the cursor starts on the first tile
        assert s.tiles.tile_text(NIFTY) == [
            "▸Nifty 50",
            "24865.45         ▲ +0.42%",
            "",
            "no depth",
            "",
        ]


async def test_change_and_ladder_take_the_theme_colours():
    s = screen(book=AlertBook())
    async with Host(s).run_test(size=SMALL) as pilot:
        await pilot.pause()
        tiles = s.tiles

        def colour(key: str, line: int, text: str) -> object:
            strip = tiles._tile(key)[line]
            return next(seg.style.color for seg in strip if text in seg.text and seg.style)

        full = tiles.get_component_rich_style
        assert colour(RELIANCE, 1, "+0.49%") == full("tiles--up").color
        assert colour(OGDC, 1, "-1.39%") == full("tiles--down").color
        assert colour(RELIANCE, 3, "2945.50") == full("tiles--bid").color
        assert colour(RELIANCE, 3, "2945.60") == full("tiles--ask").color


def test_quantities_shorten_to_fit_and_a_narrow_ladder_keeps_the_bid():
    assert [short_qty(q, 4) for q in (640, 1250, 12000, 123456, 2_500_000)] == [
        "640", "1.2k", "12k", "123k", "2.5M",
    ]  # fmt: skip
    assert [short_qty(q, 6) for q in (1250, 74358, 123456)] == ["1,250", "74,358", "123.4k"]
    assert short_qty(1250, 3) == "1k"
    market = build_market()
    scrip = market.view(RELIANCE)
    assert scrip is not None
    bid, ask = scrip.level("b", 1), scrip.level("s", 1)
    assert "".join(t for t, _ in ladder_line(bid, ask, 2, 7, 15)) == "2945.50│2945.60"
    assert "".join(t for t, _ in ladder_line(bid, ask, 2, 7, 10)).rstrip() == "2945.50"


async def test_a_tile_takes_the_severity_of_its_newest_unacknowledged_alert():
    book = AlertBook()
    book.add(three())
    s = screen(book=book)
    async with Host(s).run_test(size=SMALL) as pilot:
        await pilot.pause()
        tiles, full = s.tiles, s.tiles.get_component_rich_style
        assert tiles.alerted == {RELIANCE: "warn", OGDC: "alert", TCS: "info"}
        assert title_style(tiles, OGDC, "circuit").bgcolor == full("tiles--alert").bgcolor
        assert title_style(tiles, RELIANCE, "spread").bgcolor == full("tiles--warn").bgcolor
        assert title_style(tiles, TCS, "imbalance").bgcolor == full("tiles--info").bgcolor
        assert title_style(tiles, HDFC, "HDFCBANK").bgcolor == full("tiles--head").bgcolor
        # a newer alert of the same scrip takes over its tile
        s.add_alerts(book.add([alert(12, RELIANCE, "jump", "alert")]))
        await pilot.pause()
        assert s.tiles.tile_text(RELIANCE)[0] == " RELIANCE-EQ      !! jump"
        assert title_style(tiles, RELIANCE, "jump").bgcolor == full("tiles--alert").bgcolor
        assert s.tiles.border_subtitle == "3 with alerts"
        # acknowledged: the older unacknowledged one shows again, then none
        s.alert_list.focus()
        await pilot.press("a")  # the cursor is on the newest: the jump
        await pilot.pause()
        assert s.tiles.tile_text(RELIANCE)[0] == " RELIANCE-EQ     ! spread"
        await pilot.press("A")
        await pilot.pause()
        assert s.tiles.tile_text(RELIANCE)[0] == " RELIANCE-EQ"
        assert tiles.alerted == {}
        assert title_style(tiles, OGDC, "OGDC").bgcolor == full("tiles--head").bgcolor


async def test_a_scrip_with_no_update_for_a_while_is_dimmed_and_marked():
    market = build_market()
    now = [NOW]
    s = screen(market, AlertBook(), now=now, stale_after=10.0)
    async with Host(s).run_test(size=SMALL) as pilot:
        await pilot.pause()
        assert s.tiles.stale == frozenset()
        now[0] = NOW + 30
        tick(market, RELIANCE, lp="2946.00")
        s.refresh_keys(market.flush(now[0]))
        await pilot.pause()
        assert s.tiles.stale == set(KEYS) - {RELIANCE}
        assert s.tiles.tile_text(OGDC)[0] == " OGDC                  ◌"
        assert s.tiles.tile_text(RELIANCE)[0] == " RELIANCE-EQ"
        muted = s.tiles.get_component_rich_style("tiles--stale").color
        strip = s.tiles._tile(OGDC)[1]
        assert all(seg.style.color == muted for seg in strip if seg.text.strip() and seg.style)
        assert s.tiles.border_subtitle == "7 stale"


async def test_arrows_and_hjkl_move_the_cursor_over_the_grid_and_keep_it_in_view():
    s = screen()
    async with Host(s).run_test(size=SMALL) as pilot:
        await pilot.pause()
        tiles = s.tiles
        assert tiles.columns == 3 and tiles.cursor_key == NIFTY
        await pilot.press("l", "right")
        assert tiles.cursor_key == TCS
        await pilot.press("right")  # the end of a row: on to the next
        assert tiles.cursor_key == HDFC
        await pilot.press("h", "left")
        assert tiles.cursor_key == RELIANCE
        await pilot.press("j")
        assert tiles.cursor_key == OGDC
        assert tiles.scroll_offset.y == 0
        await pilot.press("down")  # the third row is below the pane: it scrolls
        await pilot.pause()
        assert tiles.cursor_key == GOLD
        assert tiles.scroll_offset.y > 0
        assert any("▸GOLDM05JUN25" in tiles.render_line(y).text for y in range(12))
        await pilot.press("down")  # no row below: stays
        assert tiles.cursor_key == GOLD
        await pilot.press("k", "up")
        await pilot.pause()
        assert tiles.cursor_key == RELIANCE
        assert tiles.scroll_offset.y == 0


async def test_enter_on_a_tile_dismisses_the_screen_with_its_key():
    app = Host(screen())
    async with app.run_test(size=SMALL) as pilot:
        await pilot.pause()
        await pilot.press("l", "j", "enter")
        await pilot.pause()
        assert app.result == OGDC
        assert not isinstance(app.screen, SurveillanceScreen)


@pytest.mark.parametrize("key", ["escape", "v"])
async def test_escape_or_v_goes_back_to_the_desk_with_no_scrip(key):
    app = Host(screen())
    async with app.run_test(size=SMALL) as pilot:
        await pilot.pause()
        await pilot.press(key)
        await pilot.pause()
        assert app.result is None


async def test_one_changed_scrip_rebuilds_one_tile_and_one_off_screen_none():
    market = build_market()
    s = screen(market)
    async with Host(s).run_test(size=SMALL) as pilot:
        await pilot.pause()
        before = dict(s.tiles.builds)
        assert GOLD not in before, "the third row is off screen: never built"
        tick(market, RELIANCE, lp="2946.20", pc="0.51")
        tick(market, GOLD, lp="93300")
        s.refresh_keys(market.flush(NOW + 1))
        await pilot.pause()
        built = {
            k: n - before.get(k, 0) for k, n in s.tiles.builds.items() if n != before.get(k, 0)
        }
        assert built == {RELIANCE: 1}
        assert s.tiles.tile_text(RELIANCE)[1] == "2946.20          ▲ +0.51%"


async def test_set_keys_shows_other_scrips_and_keeps_the_cursor_on_its_scrip():
    s = screen()
    async with Host(s).run_test(size=SMALL) as pilot:
        await pilot.pause()
        await pilot.press("j")
        assert s.tiles.cursor_key == HDFC
        s.set_keys([OGDC, HDFC, HBL])
        await pilot.pause()
        assert s.tiles.keys == [OGDC, HDFC, HBL]
        assert s.tiles.cursor_key == HDFC
        assert s.tiles.border_title == "Surveillance · 3 scrips"
        assert s.tiles.alerted == {OGDC: "alert"}


# -- the alert list ------------------------------------------------------------------------


async def test_the_alert_list_is_newest_first_with_time_severity_mark_scrip_rule_and_figures():
    s = screen()
    async with Host(s).run_test(size=WIDE) as pilot:
        await pilot.pause()
        rows = list_rows(s.alert_list)
        assert rows[0].split() == ["TIME", "SEV", "SCRIP", "RULE", "WHAT"]
        assert rows[1:4] == [
            " 08:30:09 ·   TCS-EQ      imbalance buy quantity 3.2 times the sell  bid qty 120,000 · 3.2× the other side",
            " 08:30:05 !!  OGDC        circuit   last within 0.5% of the lower circuit  lp 215.37 · lc 196.56",
            " 08:30:01 !   RELIANCE-EQ spread    spread 6 ticks against a usual 1  spread 0.60 · 6 ticks",
        ]
        assert s.alert_list.status() == "3/3 shown · 3 unacked"
        assert s.alert_list.border_subtitle == "3/3 shown · 3 unacked"


def test_figures_are_plain_words_with_thousands_separators():
    assert figures_text({"lp": "215.37", "qty": 120000, "ratio": 3.14159, "new_thing": 0}) == (
        "lp 215.37 · qty 120,000 · 3.14× the other side · new thing 0"
    )
    assert figures_text({"times": 24600.0, "usual": 1, "spread_ticks": 2570}) == (
        "24,600× usual · usual 1 · spread 2,570 ticks"
    )
    assert (
        figures_text({"volume": 12760, "usual": 0, "times": 12760.0}) == "volume 12,760 · usual 0"
    )
    assert figures_text({"ticks_from_touch": 1, "ratio": 0.0}) == "1 tick away"
    assert figures_text({"oid": "123456789", "ft": 1747038600, "pct": 1.5}) == (
        "order 123456789 · feed time 1747038600 · 1.5%"
    )


async def test_a_acknowledges_the_alert_under_the_cursor_and_A_every_alert():
    book = AlertBook()
    book.add(three())
    s = screen(book=book)
    async with Host(s).run_test(size=WIDE) as pilot:
        await pilot.pause()
        await pilot.press("tab")  # tiles -> alerts
        assert s.alert_list.has_focus
        await pilot.press("j", "a")
        await pilot.pause()
        assert book.acked(5) and not book.acked(9) and not book.acked(1)
        rows = list_rows(s.alert_list)
        assert rows[2].startswith("✓08:30:05 !!  OGDC")
        assert rows[1].startswith(" 08:30:09")
        acked = s.alert_list.get_component_rich_style("alerts--acked").color
        await pilot.press("k")  # off the row: its own strip, dimmed
        strip = s.alert_list.render_line(2)
        assert all(seg.style.color == acked for seg in strip if seg.text.strip() and seg.style)
        assert s.alert_list.status() == "3/3 shown · 2 unacked"
        await pilot.press("A")
        await pilot.pause()
        assert all(book.acked(seq) for seq in (1, 5, 9))
        assert [row[0] for row in list_rows(s.alert_list)[1:4]] == ["✓", "✓", "✓"]
        assert s.alert_list.status() == "3/3 shown · 0 unacked"


async def test_x_mutes_the_rule_for_that_scrip_says_so_and_its_new_alerts_do_not_show():
    book = AlertBook()
    book.add(three())
    app = Host(screen(book=book))
    s = app.surveillance
    async with app.run_test(size=WIDE) as pilot:
        await pilot.pause()
        s.alert_list.focus()
        await pilot.press("j", "x")  # OGDC's circuit alert
        await pilot.pause()
        assert book.muted("circuit", OGDC)
        assert any("Muted circuit for OGDC" in toast for toast in app.toasts)
        assert s.alert_list.status() == "3/3 shown · 3 unacked · 1 muted"
        s.add_alerts(
            book.add([alert(20, OGDC, "circuit", "alert"), alert(21, OGDC, "jump", "warn")])
        )
        s.add_alerts([alert(22, OGDC, "circuit", "alert")])  # handed in anyway: still not shown
        await pilot.pause()
        assert [(a.key, a.rule) for a in s.alert_list.shown()][:2] == [
            (OGDC, "jump"),
            (TCS, "imbalance"),
        ]
        assert s.alert_list.held == 4
        # x again on one of its alerts unmutes
        s.alert_list.move_cursor([a.seq for a in s.alert_list.shown()].index(5))
        await pilot.press("x")
        assert not book.muted("circuit", OGDC)
        assert any("Unmuted circuit for OGDC" in toast for toast in app.toasts)


async def test_f_cycles_the_rule_filter_and_s_the_least_severity_with_counts_in_the_status():
    book = AlertBook()
    book.add([*three(), alert(10, HBL, "spread", "alert"), alert(11, NIFTY, "stale", "info")])
    s = screen(book=book)
    async with Host(s).run_test(size=WIDE) as pilot:
        await pilot.pause()
        w = s.alert_list
        w.focus()

        def shown() -> list[int]:
            return [a.seq for a in w.shown()]

        assert shown() == [11, 10, 9, 5, 1]
        seen = []
        for _ in range(5):  # all -> circuit -> imbalance -> spread -> stale -> all
            await pilot.press("f")
            seen.append((w.rule, shown()))
        assert seen == [("circuit", [5]), ("imbalance", [9]), ("spread", [10, 1]),
                        ("stale", [11]), (None, [11, 10, 9, 5, 1])]  # fmt: skip
        await pilot.press("f", "f", "f")
        assert w.status() == "2/5 shown · 5 unacked · rule spread"
        await pilot.press("s")
        assert (w.min_severity, shown()) == ("warn", [10, 1])
        await pilot.press("s")
        assert (w.min_severity, shown()) == ("alert", [10])
        assert w.border_subtitle == "1/5 shown · 5 unacked · rule spread · ≥ alert"
        await pilot.press("f")  # stale: none at alert
        await pilot.pause()
        assert shown() == []
        assert "No alert passes the filter" in list_rows(w)[1]
        await pilot.press("s")  # back to info
        assert (w.min_severity, shown()) == ("info", [11])


async def test_new_alerts_arrive_at_the_top_formatting_only_the_new_rows():
    book = AlertBook()
    book.add(three())
    s = screen(book=book)
    async with Host(s).run_test(size=WIDE) as pilot:
        await pilot.pause()
        w = s.alert_list
        built = w.rows_built
        assert built == 3
        s.add_alerts(book.add([alert(30, HBL, "volume", "warn", "volume 5 times its usual")]))
        await pilot.pause()
        assert w.rows_built == built + 1
        assert list_rows(w)[1].startswith(
            " 08:30:30 !   HBL         volume    volume 5 times its usual"
        )
        assert w.cursor_alert is not None and w.cursor_alert.seq == 30, (
            "the cursor follows the newest"
        )
        # off the newest, the cursor stays on its alert as more arrive
        w.move_cursor(2)
        s.add_alerts(book.add([alert(31, HBL, "volume", "warn"), alert(32, TCS, "jump", "warn")]))
        await pilot.pause()
        assert w.cursor_alert is not None and w.cursor_alert.seq == 5
        assert w.rows_built == built + 3


async def test_the_list_holds_what_the_book_holds_and_takes_missed_alerts_back():
    book = AlertBook(bound=4)
    book.add(three())
    s = screen(book=book)
    async with Host(s).run_test(size=WIDE) as pilot:
        await pilot.pause()
        s.add_alerts(book.add([alert(40), alert(41), alert(42)]))
        await pilot.pause()
        assert [a.seq for a in s.alert_list.shown()] == [42, 41, 40, 9]
        assert s.alert_list.status() == "4/4 shown · 4 unacked · 2 dropped"
        book.add([alert(43, HBL)])  # added while the screen was not told
        s.alert_list.sync()
        assert [a.seq for a in s.alert_list.shown()] == [43, 42, 41, 40]


async def test_enter_on_an_alert_dismisses_the_screen_with_its_scrip():
    app = Host(screen())
    async with app.run_test(size=SMALL) as pilot:
        await pilot.pause()
        await pilot.press("tab", "j", "enter")
        await pilot.pause()
        assert app.result == OGDC


# -- the screen ----------------------------------------------------------------------------


@pytest.mark.parametrize(("size", "columns", "rows"), [(SMALL, 3, 7), (WIDE, 6, 31)])
async def test_the_screen_lays_out_at_80x24_and_160x48(size, columns, rows):
    s = screen()
    async with Host(s).run_test(size=size) as pilot:
        await pilot.pause()
        assert s.tiles.columns == columns
        assert s.tiles.region.bottom <= s.alert_list.region.y
        assert s.alert_list.region.bottom <= size[1] - 1  # the footer's line
        assert s.alert_list.scrollable_content_region.height - 1 == rows
        assert s.tiles.border_title == "Surveillance · 8 scrips"
        assert s.alert_list.border_title == "Alerts · times UTC"
        # every line of both panes draws
        for widget in (s.tiles, s.alert_list):
            for y in range(widget.size.height):
                widget.render_line(y)


async def test_many_scrips_take_at_most_60_percent_of_the_screen_and_only_tiles_in_view_are_built():
    keys = KEYS + [f"NSE|{9000 + i}" for i in range(52)]  # 60 tiles, 52 not received yet
    s = screen(keys=keys)
    async with Host(s).run_test(size=WIDE) as pilot:
        await pilot.pause()
        tiles = s.tiles
        assert tiles.region.height == 28  # 60% of the 47 lines over the footer
        shown = tiles.scrollable_content_region.height // (tiles.lines + 1) + 1  # a part row too
        assert len(tiles.builds) <= shown * tiles.columns < len(keys)
        assert tiles.tile_text("NSE|9000")[1] == "waiting for data…"
        await pilot.press("G")
        await pilot.pause()
        assert tiles.cursor_key == "NSE|9051"
        assert tiles.scroll_offset.y == tiles.max_scroll_y
        assert any("▸9051" in tiles.render_line(y).text for y in range(tiles.size.height))


def test_bindings_have_ids_and_descriptions():
    def ids(owner: type) -> dict[str, str]:
        return {b.id or "": b.description for b in owner.BINDINGS if isinstance(b, Binding)}

    tiles = ids(Tiles)
    assert {"tiles.left", "tiles.right", "tiles.up", "tiles.down", "tiles.open"} <= set(tiles)
    alerts = ids(AlertList)
    assert {"alerts.ack", "alerts.ack_all", "alerts.mute", "alerts.rule", "alerts.severity",
            "alerts.open", "alerts.up", "alerts.down"} <= set(alerts)  # fmt: skip
    assert all(alerts.values()) and all(tiles.values())
    assert "surveillance.back" in ids(SurveillanceScreen)


# -- pictures --------------------------------------------------------------------------------


def pictured() -> tuple[Host, Any]:
    """The screen with alerts of every severity, one acknowledged, and a stale scrip (30 s on,
    every scrip but GOLD has ticked)."""
    market = build_market()
    book = AlertBook()
    book.add([*three(), alert(14, HBL, "volume", "warn", "volume 5.1 times its 5-minute usual",
                              v=912400, usual=178900)])  # fmt: skip
    book.ack(1)
    now = [NOW]
    app = Host(screen(market, book, now=now))

    async def later(pilot: object) -> None:
        now[0] = NOW + 30
        for key in KEYS:
            if key != GOLD:
                market.updated[key] = now[0]
        app.surveillance.refresh_keys(())

    return app, later


def test_surveillance_with_alerts_at_160x48(snap_compare):
    app, later = pictured()
    assert snap_compare(app, terminal_size=WIDE, run_before=later)


def test_surveillance_with_alerts_at_80x24(snap_compare):
    app, later = pictured()
    assert snap_compare(app, terminal_size=SMALL, run_before=later)
