"""The desk's widgets, drawn from typed market values (no app needed for their lines)."""

from __future__ import annotations

from support.market_fixtures import NOW, OGDC, RELIANCE, FixedHealth, build_market, tick
from textual.app import App, ComposeResult

from tui.market.store import Market
from tui.market.tape import Tape
from tui.theme import variable_defaults
from tui.widgets.health import HealthPanel
from tui.widgets.ladder import Ladder
from tui.widgets.strips import Column, fit, pad
from tui.widgets.tape import L2Tape
from tui.widgets.watchlist import Watchlist


def ladder_lines(market: Market, key: str, width: int = 46) -> list[str]:
    ladder = Ladder(market)
    ladder.show(key)
    return ["".join(text for text, _ in line).rstrip() for line in ladder.build(width)]


# -- columns ---------------------------------------------------------------------------


def test_columns_drop_the_most_droppable_first_and_never_the_essential():
    columns = [Column("a", "A", 10), Column("b", "B", 10, drop=1), Column("c", "C", 10, drop=2)]
    assert [c.key for c in fit(columns, 32)] == ["a", "b", "c"]
    assert [c.key for c in fit(columns, 31)] == ["a", "b"]
    assert [c.key for c in fit(columns, 15)] == ["a"]
    assert [c.key for c in fit(columns, 3)] == ["a"]


def test_a_column_grows_to_its_widest_value_up_to_a_cap():
    column = Column("s", "S", 4, max_width=8)
    assert column.widen("RELIANCE") and column.width == 8
    assert not column.widen("RELIANCE-EQ") and column.width == 8


def test_pad_aligns_and_cuts_with_an_ellipsis():
    assert pad("215.37", 8, "right") == "  215.37"
    assert pad("OGDC", 6) == "OGDC  "
    assert pad("RELIANCE-EQ", 6) == "RELIA…"


# -- ladder ----------------------------------------------------------------------------


def test_the_ladder_shows_five_levels_a_side_best_prices_meeting_in_the_middle():
    lines = ladder_lines(build_market(), RELIANCE)
    assert lines[0].split()[:4] == ["last", "2945.60", "+14.40", "+0.49%"]
    assert lines[1].split() == ["ORD", "QTY", "BID", "│", "ASK", "QTY", "ORD"]
    # quantity bars beside the prices; ▸ marks the level at the last price
    assert lines[2].split() == ["3", "1,250", "▌", "2945.50", "│▸2945.60", "▎", "640", "2"]
    assert lines[6].split() == ["9", "3,020", "█▏", "2945.10", "│", "2946.00", "██", "5,400", "12"]
    assert lines[7].split() == ["spread", "0.10", "·", "1", "tick", "volume", "4,823,117"]
    assert lines[12].split() == ["lower", "ckt", "2638.10", "upper", "ckt", "3224.30"]


def test_a_narrow_ladder_drops_the_order_counts_first():
    lines = ladder_lines(build_market(), RELIANCE, width=34)
    assert lines[1].split() == ["QTY", "BID", "│", "ASK", "QTY"]
    assert lines[2].split() == ["1,250", "2945.50", "│▸2945.60", "640"]


def test_an_emptied_level_is_blank_not_zero():
    market = build_market()
    tick(market, RELIANCE, bp5="0", bq5="0", bo5="0")
    market.flush(NOW)
    lines = ladder_lines(market, RELIANCE)
    assert lines[6].split() == ["│", "2946.00", "██", "5,400", "12"]


def test_a_scrip_without_depth_is_drawn_from_its_l2_book():
    market = Market()
    market.apply({"t": "tk", "e": "PSX", "tk": "OGDC", "ts": "OGDC", "pp": "2", "lp": "215.37"})
    market.apply(
        {
            "t": "lk",
            "e": "PSX",
            "tk": "OGDC",
            "sq": "1",
            "b": [["b1", "215.30", "100"], ["b2", "215.30", "50"]],
            "s": [["s1", "215.40", "70"]],
        }
    )
    market.flush(NOW)
    lines = ladder_lines(market, OGDC)
    assert lines[2].split() == ["2", "150", "█████", "215.30", "│", "215.40", "██▍", "70", "1"]


def test_the_ladder_waits_for_a_scrip_it_has_not_seen():
    assert ladder_lines(Market(), "NSE|22") == [" Waiting for NSE|22…"]


# -- health ----------------------------------------------------------------------------


def health_lines(health, errors=None, now=NOW) -> list[str]:
    panel = HealthPanel()
    panel.show(health, errors or {}, now)
    return ["".join(text for text, _ in line).rstrip() for line in panel.build(60)]


def test_the_health_panel_shows_the_figures_of_a_live_feed():
    lines = health_lines(FixedHealth(), {"not-json": 2, "bad-number": 5})
    assert lines[0].split() == ["state", "live", "·", "L2"]
    assert lines[1].split()[:3] == ["rate", "1,234", "msg/s"]
    assert lines[2].split() == ["lag", "0.04", "s"]
    assert lines[3].split() == ["bad", "frames", "bad-number", "5", "·", "not-json", "2"]
    assert lines[5].split() == ["connection", "1", "of", "2", "·", "8", "subscribed"]
    assert "ws://127.0.0.1:8765/2.0/market/feed/l2" in lines[6]


def test_a_feed_in_backoff_counts_down_on_the_injected_clock():
    health = FixedHealth(state="backoff", next_retry_at=NOW + 2.5, lag=None, last_error="refused")
    lines = health_lines(health)
    assert any(line.split() == ["lag", "—"] for line in lines)
    assert any("retry in 2.5 s" in line for line in lines)
    assert lines[1].split() == ["last", "error", "refused"], "why it is down, under the state"
    assert any("retry in 1.0 s" in line for line in health_lines(health, now=NOW + 1.5))


def test_without_a_feed_the_panel_says_so():
    assert health_lines(None)[0].split() == ["state", "no", "feed"]


def test_the_panel_is_rebuilt_only_when_a_shown_figure_moves():
    panel = HealthPanel()
    health = FixedHealth()
    for _ in range(30):  # a full sparkline of a steady rate
        panel.show(health, {}, NOW)
    figures = panel._figures
    health.messages += 0
    panel.show(health, {}, NOW + 0.1)
    assert panel._figures is figures
    health.msg_rate = 2000.0
    panel.show(health, {}, NOW + 0.2)
    assert panel._figures is not figures


# -- tape ------------------------------------------------------------------------------


def test_the_tape_keeps_a_bounded_list_of_the_selected_scrips_events():
    market = build_market()
    tape = L2Tape(market, key=RELIANCE, keep=5)
    assert tape.rows == 5
    for n in range(3):
        market.apply(
            {
                "t": "lo",
                "e": "PSX",
                "tk": "OGDC",
                "sq": str(n + 1),
                "oid": f"o{n}",
                "sd": "B",
                "ac": "A",
                "pr": "215.00",
                "q": "10",
            }
        )
    assert tape.pull() == 0 and tape.seq == market.tape.total
    tape.set_key(None)
    assert tape.rows == 5


def test_a_tape_reader_that_fell_behind_takes_what_is_still_held():
    market = Market(tape_len=4)
    tape = L2Tape(market, key=None)
    for n in range(10):
        market.apply(
            {
                "t": "lo",
                "e": "PSX",
                "tk": "OGDC",
                "sq": str(n + 1),
                "oid": f"o{n}",
                "sd": "S",
                "ac": "A",
                "pr": "215.00",
                "q": "10",
            }
        )
    assert isinstance(market.tape, Tape)
    assert tape.pull() == 4
    assert [event.oid for event in tape._rows] == ["o6", "o7", "o8", "o9"]


# -- watchlist in an app ---------------------------------------------------------------


class Host(App[None]):
    def __init__(self, widget) -> None:
        super().__init__()
        self.widget = widget

    def get_theme_variable_defaults(self) -> dict[str, str]:
        # the desk's colour variables (the widgets' own styles use them) for Textual's theme
        return variable_defaults(self.current_theme)

    def compose(self) -> ComposeResult:
        yield self.widget


async def test_the_watchlist_posts_selected_on_enter():
    market = build_market()
    watchlist = Watchlist(market, [OGDC, RELIANCE])
    seen: list[str] = []

    class Recorder(Host):
        def on_watchlist_selected(self, event: Watchlist.Selected) -> None:
            seen.append(event.key)

    async with Recorder(watchlist).run_test(size=(60, 12)) as pilot:
        watchlist.focus()
        assert watchlist.selected == OGDC
        await pilot.press("down", "enter")
        await pilot.pause()
    assert seen == [RELIANCE] and watchlist.selected == RELIANCE


async def test_watchlist_rows_are_built_once_until_their_scrip_changes():
    market = build_market()
    watchlist = Watchlist(market, [OGDC, RELIANCE])
    async with Host(watchlist).run_test(size=(60, 12)) as pilot:
        await pilot.pause()
        assert watchlist.rows_built == {OGDC: 1, RELIANCE: 1}
        watchlist.refresh()  # a full repaint draws from the cache
        await pilot.pause()
        assert watchlist.rows_built == {OGDC: 1, RELIANCE: 1}
        watchlist.refresh_keys({RELIANCE, "NSE|99999"})  # an unknown key is ignored
        await pilot.pause()
        assert watchlist.rows_built == {OGDC: 1, RELIANCE: 2}


def test_the_panel_reads_the_clients_own_health_figures():
    from tui.feed.health import Health

    health = Health(state="live", endpoint="ws://h:1/2.0/market/feed/full", level="L1")
    health.msg_rate, health.subscriptions = 12.6, 3
    lines = health_lines(health)
    assert lines[0].split() == ["state", "live", "·", "L1"]
    assert lines[1].split()[:3] == ["rate", "13", "msg/s"]
    assert lines[5].split()[-2:] == ["3", "subscribed"]


def test_trade_clock_reads_an_exchange_clock_in_its_zone_and_shows_it_in_the_desks():
    from datetime import UTC
    from zoneinfo import ZoneInfo

    from tui.widgets.strips import trade_clock

    ft = 1747038600  # 2025-05-12 08:30:00 UTC
    assert trade_clock("14:00:00", "NSE", ft, UTC) == "08:30:00"  # IST is UTC+5:30
    assert trade_clock("13:30:00", "PSX", ft, UTC) == "08:30:00"  # PKT is UTC+5
    assert trade_clock("13:30:00", "PSX", ft, ZoneInfo("Asia/Karachi")) == "13:30:00"
    assert trade_clock(str(ft), "NSE", None, UTC) == "08:30:00"  # epoch seconds
    assert trade_clock("14:00:00", "XYZ", ft, UTC) == "14:00:00"  # unknown zone: as sent
    assert trade_clock("14:00:00", "NSE", None, UTC) == "14:00:00"  # no day to place it on
    assert trade_clock("soon", "NSE", ft, UTC) == "soon"
