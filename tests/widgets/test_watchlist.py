"""The watchlist pane: columns, flash, stale marks, circuit proximity, sorting, editing,
its caches, and the price history and sparklines it draws.

Every test mounts the widget in a small app of a fixed size with the pane's own styles
and the desk theme; time is handed in (``NOW + ...``), never read from a clock.
"""

from __future__ import annotations

from typing import Any

import pytest
from rich.style import Style
from support.market_fixtures import KEYS, NIFTY, NOW, OGDC, RELIANCE, build_market, tick
from textual.app import App, ComposeResult
from textual.binding import Binding

from tui.market.history import PriceHistory
from tui.market.store import Market
from tui.theme import DEFAULT_THEME, THEMES, variable_defaults
from tui.widgets.circuit import circuit
from tui.widgets.columns import COLUMN_KEYS, DEFAULT_COLUMNS
from tui.widgets.spark import spark
from tui.widgets.watchlist import Watchlist, make_columns

TCS = "NSE|11536"
HDFC = "NSE|1333"
HBL = "PSX|HBL"
KSE = "PSX|KSE100"
GOLD = "MCX|432294"
WIDE = (200, 14)


class Host(App[None]):
    """The watchlist alone, styled as on the desk: by itself (no stylesheet of the app's)."""

    def __init__(self, widget: Watchlist) -> None:
        super().__init__()
        self.widget = widget
        for theme in THEMES:
            self.register_theme(theme)
        self.theme = DEFAULT_THEME

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return variable_defaults(self.current_theme)

    def compose(self) -> ComposeResult:
        yield self.widget


def watchlist(market: Market | None = None, keys: list[str] | None = None, **kw: Any) -> Watchlist:
    return Watchlist(market or build_market(), KEYS if keys is None else keys, **kw)


def screen_rows(w: Watchlist) -> list[str]:
    """The lines drawn now, header first, as plain text."""
    height = w.scrollable_content_region.height
    return [w.render_line(y).text.rstrip() for y in range(height)]


def row(w: Watchlist, key: str) -> str:
    """The drawn line of ``key`` (it must be on screen)."""
    return w.render_line(w.keys.index(key) + 1 - int(w.scroll_offset.y)).text.rstrip()


def style_of(w: Watchlist, key: str, text: str) -> Style:
    """The style of the segment of ``key``'s drawn row that holds ``text``."""
    strip = w.render_line(w.keys.index(key) + 1 - int(w.scroll_offset.y))
    for segment in strip:
        if text in segment.text:
            return segment.style or Style()
    raise AssertionError(f"{text!r} not in {strip.text!r}")


def frame(market: Market, w: Watchlist, now: float) -> set[str]:
    """What the app does once a frame."""
    changed = market.flush(now)
    w.refresh_keys(changed, now)
    w.tick(now)
    return changed


def full(w: Watchlist, name: str) -> Style:
    return w.get_component_rich_style(name)


# -- columns ---------------------------------------------------------------------------


async def test_every_column_shows_its_scrips_value_in_the_scrips_precision():
    w = watchlist(columns=COLUMN_KEYS, names={RELIANCE: "Reliance"})
    async with Host(w).run_test(size=WIDE) as pilot:
        await pilot.pause()
        header = screen_rows(w)[0]
        assert header.split() == [
            "SYMBOL", "NAME", "LAST", "CHG", "CHG%", "VOLUME", "BID", "ASK", "BID", "QTY",
            "ASK", "QTY", "SPRD", "HIGH", "LOW", "TREND", "CKT", "EXCH",
        ]  # fmt: skip
        assert row(w, RELIANCE).split() == [
            "RELIANCE-EQ", "Reliance", "2945.60", "+14.40", "+0.49", "4,823,117", "2945.50",
            "2945.60", "1,250", "640", "1", "2951.90", "2928.10", "▄", "NSE",
        ]  # fmt: skip
        # pp=0: no decimals anywhere; a negative change keeps its sign
        assert row(w, GOLD).split() == [
            "GOLDM05JUN25", "93215", "-196", "-0.21", "18,233", "93214", "93216", "3", "5",
            "2", "93480", "93102", "▄", "MCX",
        ]  # fmt: skip
        # an index (and the selected scrip): no depth, so no bid, ask, quantities or spread
        assert row(w, NIFTY).split() == [
            "▸", "Nifty", "50", "24865.45", "+104.00", "+0.42", "0", "24901.30", "24755.00", "▄", "NSE"
        ]  # fmt: skip


async def test_numbers_are_right_aligned_under_their_titles():
    w = watchlist()
    async with Host(w).run_test(size=WIDE) as pilot:
        await pilot.pause()
        header, ogdc = screen_rows(w)[0], row(w, OGDC)
        for title, value in (("LAST", "215.37"), ("VOLUME", "3,456,789"), ("ASK", "215.38")):
            assert header.index(title) + len(title) == ogdc.index(value) + len(value), title
        assert header.index("SYMBOL") == ogdc.index("OGDC"), "text is left-aligned"


async def test_the_default_columns_and_a_configured_choice_and_order():
    w = watchlist(columns=["last", "symbol", "bidq", "spread"])
    async with Host(w).run_test(size=WIDE) as pilot:
        await pilot.pause()
        assert screen_rows(w)[0].split() == ["LAST", "SYMBOL", "BID", "QTY", "SPRD"]
        assert row(w, OGDC).split() == ["215.37", "OGDC", "5,000", "2"]
    assert [c.key for c in make_columns(None)] == list(DEFAULT_COLUMNS)


@pytest.mark.parametrize(
    ("columns", "problem"),
    [(["symbol", "price"], "'price'"), (["last", "last"], "once each"), ([], "at least one")],
)
def test_a_bad_column_config_is_refused_naming_the_known_columns(columns, problem):
    with pytest.raises(ValueError, match=problem) as error:
        Watchlist(Market(), [], columns=columns)
    assert "known columns: symbol, name, last, chg, chg%, vol, bid, ask" in str(error.value)


async def test_a_narrow_pane_keeps_symbol_last_and_change_percent():
    w = watchlist(columns=COLUMN_KEYS)
    async with Host(w).run_test(size=(34, 8)) as pilot:
        await pilot.pause()
        assert screen_rows(w)[0].split() == ["SYMBOL", "LAST", "CHG%"]
        assert row(w, OGDC).split() == ["OGDC", "215.37", "-1.39"]
    w = watchlist(columns=COLUMN_KEYS)
    async with Host(w).run_test(size=(60, 8)) as pilot:
        await pilot.pause()
        # bid and ask stay longest after the three kept always, and go together
        assert screen_rows(w)[0].split() == ["SYMBOL", "LAST", "CHG%", "BID", "ASK", "CKT"]
    w = watchlist(columns=COLUMN_KEYS)
    async with Host(w).run_test(size=(80, 8)) as pilot:
        await pilot.pause()
        assert screen_rows(w)[0].split() == [
            "SYMBOL", "LAST", "CHG", "CHG%", "BID", "ASK", "TREND", "CKT"
        ]  # fmt: skip


async def test_the_spread_is_counted_in_ticks_and_a_crossed_touch_is_marked():
    market = build_market()
    w = watchlist(market, columns=["symbol", "spread"])
    async with Host(w).run_test(size=(40, 12)) as pilot:
        await pilot.pause()
        assert row(w, HBL).split() == ["HBL", "5"]  # 152.10 - 152.05 at 0.01
        tick(market, OGDC, sp1="215.30")  # ask under the bid
        tick(market, TCS, ti="0.20")  # the spread, 0.20, is one tick of 0.20
        tick(market, HDFC, ti="0.03")  # 0.10 is not on a 0.03 grid: 3.3 ticks
        frame(market, w, NOW + 1)
        await pilot.pause()
        assert row(w, OGDC).split() == ["OGDC", "-6"]
        assert style_of(w, OGDC, "-6").color == full(w, "watchlist--crossed").color
        assert row(w, TCS).split() == ["TCS-EQ", "1"]
        assert row(w, HDFC).split() == ["HDFCBANK-EQ", "3.3"]


# -- circuit proximity -------------------------------------------------------------------


def test_circuit_proximity_is_exact_integer_arithmetic():
    lc, uc, near = 19656, 24024, 200  # OGDC's limits, 2.00%
    assert circuit(23850, lc, uc, near)[:2] == ("▲0.8%", "watchlist--near")  # 0.73% rounded up
    assert circuit(23600, lc, uc, near)[:2] == ("▲1.8%", "watchlist--near")
    assert circuit(23000, lc, uc, near)[:2] == ("", "")  # 4.5% away
    assert circuit(19900, lc, uc, near)[:2] == ("▼1.3%", "watchlist--near")
    assert circuit(24024, lc, uc, near)[:2] == ("UC", "watchlist--locked")
    assert circuit(25000, lc, uc, near)[:2] == ("UC", "watchlist--locked")
    assert circuit(19656, lc, uc, near)[:2] == ("LC", "watchlist--locked")
    assert circuit(24023, lc, uc, near)[0] == "▲0.1%", "one unit short: never 0.0%"
    assert circuit(23600, lc, uc, 100)[0] == "", "outside a 1% band"
    assert circuit(23600, None, None, near) == ("", "", None)
    assert circuit(None, lc, uc, near) == ("", "", None)
    # limits that cannot be (lower at or above upper): no distance, as the rules judge it
    assert circuit(25000, uc, lc, near) == ("", "", None)
    assert circuit(20000, uc, uc, near) == ("", "", None)
    assert circuit(23850, None, uc, near)[:2] == ("▲0.8%", "watchlist--near")  # one limit
    assert circuit(19900, lc, None, near)[:2] == ("▼1.3%", "watchlist--near")


async def test_the_circuit_column_shows_a_near_limit_and_a_locked_scrip():
    market = build_market()
    w = watchlist(market, columns=["symbol", "last", "ckt"])
    async with Host(w).run_test(size=(50, 12)) as pilot:
        await pilot.pause()
        assert row(w, OGDC).split() == ["OGDC", "215.37"], "far from both limits: blank"
        tick(market, OGDC, lp="238.50")
        tick(market, HBL, lp="137.50")
        frame(market, w, NOW + 1)
        await pilot.pause()
        assert row(w, OGDC).split() == ["OGDC", "238.50", "▲0.8%"]
        assert row(w, HBL).split() == ["HBL", "137.50", "▼1.2%"]
        assert style_of(w, OGDC, "▲0.8%").color == full(w, "watchlist--near").color
        tick(market, OGDC, lp="240.24")
        tick(market, HBL, lp="135.90")
        frame(market, w, NOW + 2)
        await pilot.pause()
        assert row(w, OGDC).split() == ["OGDC", "240.24", "UC"]
        assert row(w, HBL).split() == ["HBL", "135.90", "LC"]
        locked = style_of(w, OGDC, "UC")
        assert locked.color == full(w, "watchlist--locked").color and locked.bold


async def test_the_circuit_band_is_configurable():
    market = build_market()
    tick(market, OGDC, lp="236.00")  # 1.8% under the upper limit
    market.flush(NOW)
    w = watchlist(market, columns=["symbol", "ckt"], circuit_near=1.0)
    async with Host(w).run_test(size=(50, 12)) as pilot:
        await pilot.pause()
        assert row(w, OGDC).split() == ["OGDC"]


# -- flash -------------------------------------------------------------------------------


async def test_a_tick_flashes_the_last_price_until_its_time_is_up():
    market = build_market()
    w = watchlist(market, flash_for=0.6)
    async with Host(w).run_test(size=WIDE) as pilot:
        await pilot.pause()
        calm = style_of(w, OGDC, "215.37").bgcolor
        assert calm == w.rich_style.bgcolor, "a first draw is not a tick"
        tick(market, OGDC, lp="215.40")
        tick(market, RELIANCE, lp="2945.00")
        frame(market, w, NOW + 1)
        await pilot.pause()
        up, down = full(w, "watchlist--flash-up"), full(w, "watchlist--flash-down")
        assert up.bgcolor not in (None, calm) and down.bgcolor not in (None, calm, up.bgcolor)
        assert style_of(w, OGDC, "215.40").bgcolor == up.bgcolor
        assert style_of(w, RELIANCE, "2945.00").bgcolor == down.bgcolor
        assert style_of(w, OGDC, "OGDC").bgcolor == calm, "only the last price is tinted"
        built = dict(w.rows_built)
        w.tick(NOW + 1.5)
        await pilot.pause()
        assert style_of(w, OGDC, "215.40").bgcolor == up.bgcolor
        w.tick(NOW + 1.61)
        await pilot.pause()
        assert style_of(w, OGDC, "215.40").bgcolor == calm
        assert style_of(w, RELIANCE, "2945.00").bgcolor == calm
        assert w.rows_built == built, "a flash restyles a row; it does not compute it again"


async def test_a_change_that_leaves_the_last_price_alone_does_not_flash():
    market = build_market()
    w = watchlist(market)
    async with Host(w).run_test(size=WIDE) as pilot:
        await pilot.pause()
        tick(market, OGDC, v="3456800", bq1="4000")
        frame(market, w, NOW + 1)
        await pilot.pause()
        assert "3,456,800" in row(w, OGDC)
        assert style_of(w, OGDC, "215.37").bgcolor == w.rich_style.bgcolor


async def test_flash_can_be_turned_off():
    market = build_market()
    w = watchlist(market, flash=False)
    async with Host(w).run_test(size=WIDE) as pilot:
        await pilot.pause()
        tick(market, OGDC, lp="215.40")
        frame(market, w, NOW + 1)
        await pilot.pause()
        assert style_of(w, OGDC, "215.40").bgcolor == w.rich_style.bgcolor


async def test_without_a_clock_handed_in_nothing_flashes():
    market = build_market()
    w = watchlist(market)
    async with Host(w).run_test(size=WIDE) as pilot:
        await pilot.pause()
        tick(market, OGDC, lp="215.40")
        w.refresh_keys(market.flush(NOW + 1))  # no time: a flash could never be ended
        await pilot.pause()
        assert style_of(w, OGDC, "215.40").bgcolor == w.rich_style.bgcolor


# -- stale -------------------------------------------------------------------------------


async def test_a_scrip_without_updates_is_marked_stale_until_it_updates():
    market = build_market()
    w = watchlist(market)
    async with Host(w).run_test(size=WIDE) as pilot:
        assert w.mark_stale(NOW, after=10) == set(), "shown at NOW"
        await pilot.pause()
        assert w.mark_stale(NOW + 10, after=10) == set(), "not older than 10 s yet"
        tick(market, OGDC, lp="215.40")
        frame(market, w, NOW + 5)
        assert w.mark_stale(NOW + 10.5, after=10) == set(KEYS) - {OGDC}
        await pilot.pause()
        assert row(w, RELIANCE).startswith(" ◌ RELIANCE-EQ"), "a mark readable without colour"
        assert not row(w, OGDC).startswith(" ◌")
        assert style_of(w, RELIANCE, "RELIANCE-EQ").color == full(w, "watchlist--stale").color
        assert style_of(w, RELIANCE, "◌").color == full(w, "watchlist--stale-mark").color
        tick(market, RELIANCE, v="4823200")
        frame(market, w, NOW + 11)
        assert RELIANCE not in w.mark_stale(NOW + 11.5, after=10)
        await pilot.pause()
        assert row(w, RELIANCE).startswith("   RELIANCE-EQ")
        assert OGDC in w.mark_stale(NOW + 15.1, after=10)


async def test_only_rows_whose_stale_mark_changed_are_redrawn():
    market = build_market()
    w = watchlist(market)
    async with Host(w).run_test(size=WIDE) as pilot:
        w.mark_stale(NOW, after=10)
        tick(market, OGDC, lp="215.40")
        frame(market, w, NOW + 5)
        await pilot.pause()
        strips = {key: w._strips[key] for key in KEYS if key in w._strips}
        assert w.mark_stale(NOW + 12, after=10) == set(KEYS) - {OGDC}
        await pilot.pause()
        assert w._strips[OGDC] is strips[OGDC], "OGDC's row was not redrawn"
        assert w._strips[TCS] is not strips[TCS]
        tcs = w._strips[TCS]
        w.mark_stale(NOW + 12.5, after=10)  # nothing changed: nothing redrawn
        await pilot.pause()
        assert w._strips[TCS] is tcs


async def test_a_scrip_never_updated_counts_from_when_it_was_shown():
    market = build_market()
    w = watchlist(market, [OGDC])
    async with Host(w).run_test(size=WIDE) as pilot:
        assert w.mark_stale(NOW, after=10) == set()
        assert w.mark_stale(NOW + 100, after=10) == {OGDC}
        w.set_keys([OGDC, "NSE|99999"])  # added (and shown) at NOW + 105
        assert w.mark_stale(NOW + 105, after=10) == {OGDC}
        assert w.mark_stale(NOW + 115.5, after=10) == {OGDC, "NSE|99999"}
        await pilot.pause()
        assert row(w, "NSE|99999").split() == ["◌", "99999", "…", "NSE"]


async def test_a_locked_scrip_keeps_its_error_style_when_stale():
    market = build_market()
    tick(market, OGDC, lp="240.24")
    market.flush(NOW)
    w = watchlist(market, columns=["symbol", "ckt"])
    async with Host(w).run_test(size=(50, 12)) as pilot:
        w.mark_stale(NOW, after=10)
        assert w.mark_stale(NOW + 20, after=10) == set(KEYS)
        await pilot.pause()
        assert row(w, OGDC).split() == ["◌", "OGDC", "UC"]
        assert style_of(w, OGDC, "UC").color == full(w, "watchlist--locked").color


# -- sorting -----------------------------------------------------------------------------


def order(w: Watchlist) -> list[str]:
    return [key.partition("|")[2] for key in w.keys]


async def test_s_cycles_the_sort_column_and_S_reverses_it():
    w = watchlist(columns=["symbol", "last", "chg%", "vol"])
    async with Host(w).run_test(size=WIDE) as pilot:
        w.focus()
        await pilot.pause()
        await pilot.press("s")
        assert w.sort_column == "symbol" and "SYMBOL▲" in screen_rows(w)[0]
        assert order(w) == ["432294", "HBL", "1333", "KSE100", "26000", "OGDC", "2885", "11536"]
        await pilot.press("s")  # last, across precisions: 93215 (pp 0) vs 24865.45 (pp 2)
        assert order(w) == ["HBL", "OGDC", "1333", "2885", "11536", "26000", "432294", "KSE100"]
        await pilot.press("S")
        assert screen_rows(w)[0].split()[:2] == ["SYMBOL", "LAST▼"]
        assert order(w) == ["KSE100", "432294", "26000", "11536", "2885", "1333", "OGDC", "HBL"]
        await pilot.press("s")
        assert w.sort_column == "chg%"
        assert order(w) == ["KSE100", "HBL", "2885", "26000", "1333", "432294", "11536", "OGDC"]
        await pilot.press("s", "s")
        assert w.sort_column is None and w.keys == KEYS, "off: the list's own order"
        assert "▲" not in screen_rows(w)[0] and "▼" not in screen_rows(w)[0]


async def test_missing_values_sort_last_both_ways_and_ties_keep_the_list_order():
    w = watchlist(columns=["symbol", "bid", "vol"])
    async with Host(w).run_test(size=WIDE) as pilot:
        await pilot.pause()
        w.set_sort("bid")
        assert order(w)[-2:] == ["26000", "KSE100"], "indices have no bid"
        w.set_sort("bid", reverse=True)
        assert order(w) == ["432294", "11536", "2885", "1333", "OGDC", "HBL", "26000", "KSE100"]
        w.set_sort("vol")
        assert order(w)[:2] == ["26000", "KSE100"], "equal volumes (0) in the list's order"
        w.set_sort("vol", reverse=True)
        assert order(w)[-2:] == ["26000", "KSE100"]
        with pytest.raises(ValueError, match="'ask'"):
            w.set_sort("ask")


async def test_the_cursor_stays_on_its_scrip_when_rows_are_sorted():
    w = watchlist(columns=["symbol", "last"])
    async with Host(w).run_test(size=WIDE) as pilot:
        w.focus()
        await pilot.press("j", "j", "j", "j")
        assert w.cursor_key == OGDC and w.selected == NIFTY
        await pilot.press("s", "s")  # by last: OGDC moves from row 4 to row 1
        assert w.cursor_key == OGDC and w.cursor == 1
        assert row(w, NIFTY).startswith("▸"), "the selection mark follows its scrip"
        await pilot.press("enter")
        assert w.selected == OGDC


async def test_sorted_rows_move_only_when_resort_is_called():
    market = build_market()
    w = watchlist(market, columns=["symbol", "last"])
    async with Host(w).run_test(size=WIDE) as pilot:
        await pilot.pause()
        w.set_sort("last")
        assert order(w)[:2] == ["HBL", "OGDC"]
        assert not w.resort(), "nothing moved"
        tick(market, HBL, lp="300.00")
        frame(market, w, NOW + 1)
        await pilot.pause()
        assert order(w)[:2] == ["HBL", "OGDC"], "a frame does not reorder"
        assert "300.00" in row(w, HBL)
        assert w.resort()
        assert order(w)[:2] == ["OGDC", "HBL"]
        await pilot.pause()
        assert screen_rows(w)[1].split()[:2] == ["OGDC", "215.37"]
        assert screen_rows(w)[2].split()[:2] == ["HBL", "300.00"]


# -- editing -----------------------------------------------------------------------------


async def test_set_keys_replaces_the_rows_keeping_the_cursor_on_its_scrip():
    w = watchlist(keys=[NIFTY, RELIANCE, OGDC])
    async with Host(w).run_test(size=WIDE) as pilot:
        w.focus()
        await pilot.press("j")
        assert w.cursor_key == RELIANCE
        w.set_keys([OGDC, TCS, RELIANCE])  # a move and an add and a remove
        await pilot.pause()
        assert w.keys == [OGDC, TCS, RELIANCE] and w.cursor_key == RELIANCE
        assert [line.split()[0] for line in screen_rows(w)[1:4]] == [
            "OGDC",
            "TCS-EQ",
            "RELIANCE-EQ",
        ]
        w.set_keys([OGDC, TCS])  # the cursor's scrip removed: the cursor keeps its row
        assert w.cursor == 1 and w.cursor_key == TCS
        w.set_keys([HBL, OGDC, TCS, GOLD], selected=GOLD)  # e.g. GOLD just added
        await pilot.pause()
        assert w.selected == GOLD and w.cursor_key == GOLD
        assert row(w, GOLD).startswith("▸")
        w.set_keys([])
        await pilot.pause()
        assert w.cursor_key is None and screen_rows(w)[1] == ""


async def test_set_keys_keeps_a_chosen_sort():
    w = watchlist(keys=[NIFTY, RELIANCE], columns=["symbol", "last"])
    async with Host(w).run_test(size=WIDE) as pilot:
        await pilot.pause()
        w.set_sort("last")
        w.set_keys([NIFTY, RELIANCE, OGDC])
        assert w.keys == [OGDC, RELIANCE, NIFTY]
        w.set_sort(None)
        assert w.keys == [NIFTY, RELIANCE, OGDC]


def test_sort_bindings_have_ids_and_descriptions():
    bindings = {b.id: b for b in Watchlist.BINDINGS if isinstance(b, Binding)}
    assert (
        bindings["watchlist.sort"].key == "s" and bindings["watchlist.sort"].description == "Sort"
    )
    reverse = bindings["watchlist.sort_reverse"]
    assert reverse.key == "S" and reverse.description == "Reverse sort"
    assert {"watchlist.down", "watchlist.up", "watchlist.select"} <= set(bindings)


# -- caches ------------------------------------------------------------------------------


async def test_a_flush_that_changes_one_key_rebuilds_one_row():
    market = build_market()
    w = watchlist(market)
    async with Host(w).run_test(size=WIDE) as pilot:
        await pilot.pause()
        assert w.rows_built == dict.fromkeys(KEYS, 1)
        tick(market, OGDC, lp="215.40")
        frame(market, w, NOW + 1)
        await pilot.pause()
        assert w.rows_built == {**dict.fromkeys(KEYS, 1), OGDC: 2}


async def test_rows_off_screen_are_never_computed():
    market = build_market()
    w = watchlist(market)
    async with Host(w).run_test(size=(120, 5)) as pilot:  # a header and four rows
        await pilot.pause()
        assert set(w.rows_built) == set(KEYS[:4])
        for key in KEYS:
            tick(market, key, v="1")
        frame(market, w, NOW + 1)
        await pilot.pause()
        assert set(w.rows_built) == set(KEYS[:4])
        assert all(market.scrips[key].delta for key in KEYS[4:]), "not even converted"


# -- sparkline and price history ---------------------------------------------------------


def test_spark_scales_between_the_extremes():
    assert spark([1, 2, 3, 4, 5, 6, 7, 8], 8) == "▁▂▃▄▅▆▇█"
    assert spark([10, 20, 10], 8) == "▁█▁"
    assert spark(list(range(100)), 4) == "▁▃▆█", "the last values, as many as fit"
    assert spark([5, 5, 5], 8) == "▄▄▄", "flat: mid-height"
    assert spark([0.5, 1.5, 1.0], 3) == "▁█▅"
    assert spark([], 8) == "" and spark([1, 2], 0) == ""


def lp(market: Market, key: str, *prices: str, now: float) -> None:
    """One sampling period in which ``key``'s last price went through ``prices``."""
    for price in prices:
        tick(market, key, lp=price)
    market.flush(now)
    market.sample_history()


def test_history_samples_once_a_sample_when_the_last_price_moved():
    market = build_market()
    assert market.history.prices(OGDC) == (21537,), "the snapshot"
    lp(market, OGDC, "215.40", "215.45", "215.50", now=NOW + 1)
    assert market.history.prices(OGDC) == (21537, 21550), (
        "one sample: the last price since the previous one"
    )
    tick(market, OGDC, v="1")
    market.flush(NOW + 2)
    market.sample_history()
    lp(market, OGDC, "215.50", now=NOW + 3)
    assert market.history.prices(OGDC) == (21537, 21550), "no move, no sample"
    lp(market, OGDC, "215.37", now=NOW + 4)
    assert market.history.prices(OGDC) == (21537, 21550, 21537), "back again is a move"
    tick(market, OGDC, lp="215.60")
    assert market.history.prices(OGDC)[-1] == 21537, "Market.apply never samples"
    market.flush(NOW + 5)
    assert market.history.prices(OGDC)[-1] == 21537, "nor Market.flush"


def test_history_is_bounded_and_keeps_the_latest():
    market = Market()
    market.history = PriceHistory(size=5)
    market.apply({"t": "tk", "e": "PSX", "tk": "OGDC", "pp": "2", "lp": "100.00"})
    for n in range(1, 20):
        lp(market, OGDC, f"{100 + n}.00", now=NOW + n)
    assert market.history.prices(OGDC) == (11500, 11600, 11700, 11800, 11900)


def test_history_samples_a_price_converted_before_the_flush():
    market = build_market()
    tick(market, OGDC, lp="216.00")
    market.view(OGDC)  # drawn between frames: the pending text is already converted
    market.flush(NOW + 1)
    market.sample_history()
    assert market.history.prices(OGDC) == (21537, 21600)


def test_history_starts_again_when_the_precision_changes():
    market = build_market()
    market.apply({"t": "dk", "e": "PSX", "tk": "OGDC", "pp": "4", "lp": "215.3700"})
    market.flush(NOW + 1)
    market.sample_history()
    assert market.history.prices(OGDC) == (2153700,)
    assert market.history.pp(OGDC) == 4


def test_history_skips_bad_text_and_forgets_dropped_scrips():
    market = build_market()
    lp(market, OGDC, "21x.00", now=NOW + 1)
    lp(market, OGDC, "215.80", now=NOW + 2)
    assert market.history.prices(OGDC) == (21537, 21580)
    assert market.history.prices(HBL) == (15210,), "HBL's bad price (fixture) was skipped"
    market.apply({"t": "lo", "e": "NSE", "tk": "777", "sq": "1", "oid": "o", "sd": "B",
                  "ac": "A", "pr": "1.00", "q": "1"})  # fmt: skip
    market.flush(NOW + 3)
    market.sample_history()
    assert "NSE|777" not in market.history, "order events alone are no last price"
    market.forget(OGDC)
    assert OGDC not in market.history and market.history.prices(OGDC) == ()


async def test_the_spark_column_draws_the_recent_last_prices():
    market = build_market()
    for n, price in enumerate(["215.40", "215.50", "215.45", "215.60"], 1):
        lp(market, OGDC, price, now=NOW + n)
    w = watchlist(market, columns=["symbol", "spark"])
    async with Host(w).run_test(size=(40, 12)) as pilot:
        await pilot.pause()
        assert row(w, OGDC).split() == ["OGDC", "▁▂▅▃█"]
        assert style_of(w, OGDC, "▁▂▅▃█").color == full(w, "watchlist--spark").color


async def test_a_new_sparkline_point_redraws_the_row_on_the_health_tick():
    """A frame computes a changed row's cells; the point the health tick samples after it
    is drawn by ``history_sampled``, not left for the scrip's next change."""
    market = build_market()
    w = watchlist(market, columns=["symbol", "last", "spark"])
    async with Host(w).run_test(size=(40, 12)) as pilot:
        await pilot.pause()
        lp(market, OGDC, "215.40", now=NOW + 1)
        await pilot.pause()
        tick(market, OGDC, lp="215.90")
        frame(market, w, NOW + 2)  # the row computed: its last price, the old sparkline
        await pilot.pause()
        before = row(w, OGDC).split()
        assert before[1] == "215.90"
        strips = dict(w._strips)
        sampled = set(market.unsampled)
        market.sample_history()
        w.history_sampled(sampled)
        await pilot.pause()
        assert row(w, OGDC).split()[2] != before[2] and row(w, OGDC).split()[2].endswith("█")
        assert all(w._strips.get(k) is strip for k, strip in strips.items() if k != OGDC)
        w.history_sampled(sampled)  # nothing new: nothing redrawn
        assert w._strips.get(OGDC) is not None


async def test_a_watchlist_mounted_alone_brings_its_own_styles() -> None:
    """No CSS_PATH on the host: the widget's DEFAULT_CSS (themes/watchlist.tcss) styles it
    with the theme's colours (the host supplies the desk's theme variables)."""
    w = watchlist()
    async with Host(w).run_test(size=WIDE) as pilot:
        await pilot.pause()
        theme = pilot.app.current_theme
        up = w.get_component_rich_style("watchlist--up").color
        locked = w.get_component_rich_style("watchlist--locked")
        assert up is not None and up.triplet is not None
        assert up.triplet.hex.upper() == theme.variables["up"].upper()
        assert locked.bold
