"""The L2 tape pane, mounted at a fixed size: large orders, filters, pause, bounds, cost."""

from __future__ import annotations

from datetime import UTC
from itertools import count

import pytest
from support.market_fixtures import FT, RELIANCE, build_market
from textual.app import App, ComposeResult
from textual.pilot import Pilot

from tui.market.store import Market
from tui.market.tape import TapeFilter
from tui.theme import THEMES, variable_defaults
from tui.widgets.tape import LARGE_MARK, L2Tape

SIZE = (70, 14)  # 12 rows inside the border: the header and 11 events


class Host(App[None]):
    CSS = "L2Tape { border: round $panel; width: 1fr; height: 1fr; }"

    def __init__(self, tape: L2Tape) -> None:
        super().__init__()
        for theme in THEMES:
            self.register_theme(theme)
        self.theme = THEMES[0].name
        self.tape = tape

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return variable_defaults(self.current_theme)

    def compose(self) -> ComposeResult:
        yield self.tape

    def on_mount(self) -> None:
        self.tape.focus()


class Feed:
    """L2 order events for RELIANCE, one second apart, with their own order ids."""

    def __init__(self, market: Market) -> None:
        self.market = market
        self._n = count(1)

    def add(self, side: str = "B", qty: int = 10, *, ac: str = "A") -> str:
        n = next(self._n)
        oid = f"N{n}"
        self.market.apply(
            {
                "t": "lo",
                "e": "NSE",
                "tk": "2885",
                "sq": str(100 + n),
                "ft": str(FT + 600 + n),
                "oid": oid,
                "sd": side,
                "ac": ac,
                "pr": "2945.20",
                "q": str(qty),
            }
        )
        return oid

    def many(self, n: int, side: str = "B", qty: int = 10) -> list[str]:
        return [self.add(side, qty) for _ in range(n)]


def screen(tape: L2Tape) -> list[str]:
    """The event rows as drawn (the header left out), trailing blanks dropped."""
    rows = [tape.render_line(y).text.rstrip() for y in range(1, tape.size.height)]
    while rows and not rows[-1]:
        rows.pop()
    return rows


def oids(tape: L2Tape) -> list[str]:
    """Order ids of the rows on screen, top first."""
    return [row.split()[-1] for row in screen(tape)]


async def frame(tape: L2Tape, pilot: Pilot[None]) -> None:
    """What the app does once a frame: take the new events, then let Textual paint."""
    tape.pull()
    await pilot.pause()


# -- large orders ------------------------------------------------------------------------


async def test_large_orders_are_marked_and_styled():
    market = build_market()
    feed = Feed(market)
    tape = L2Tape(market, key=RELIANCE, tz=UTC, large_qty=1_000)
    async with Host(tape).run_test(size=SIZE) as pilot:
        big, small = feed.add(qty=1_000), feed.add(qty=999)
        await frame(tape, pilot)
        rows = screen(tape)
        assert rows[0].startswith(" ") and rows[0].endswith(small)
        assert rows[1].startswith(LARGE_MARK) and rows[1].endswith(big)
        assert rows[-1].startswith(LARGE_MARK), "B1004, 2,310 of the fixture, is large too"
        large = tape.get_component_rich_style("tape--large", partial=True)
        assert large.bold and large.color is not None
        qty_segment = next(s for s in tape.render_line(2) if s.text.strip() == "1,000")
        assert qty_segment.style is not None and qty_segment.style.bold
        assert qty_segment.style.color == large.color


def test_large_qty_defaults_to_5000():
    assert L2Tape(Market()).large_qty == 5_000


# -- filters -----------------------------------------------------------------------------


async def test_b_cycles_the_side_filter_and_the_status_says_so():
    market = build_market()
    tape = L2Tape(market, key=RELIANCE, tz=UTC)
    async with Host(tape).run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert tape.rows == 7 and tape.status() == ""
        await pilot.press("b")
        assert tape.status() == "BUY" and tape.border_subtitle == "BUY"
        assert [row.split()[1] for row in screen(tape)] == ["BUY"] * 4
        await pilot.press("b")
        assert tape.status() == "SELL"
        assert [row.split()[1] for row in screen(tape)] == ["SELL"] * 3
        await pilot.press("b")
        assert tape.status() == "" and tape.rows == 7


async def test_m_cycles_the_minimum_quantity_and_back_to_everything():
    market = build_market()
    tape = L2Tape(market, key=RELIANCE, tz=UTC)
    async with Host(tape).run_test(size=SIZE) as pilot:
        await pilot.pause()
        seen: list[tuple[str, int]] = []
        for _ in range(6):
            await pilot.press("m")
            seen.append((tape.status(), tape.rows))
        # quantities on the fixture's tape: 2,310 700 150 75 880 250 880
        assert seen == [
            ("≥100", 6),
            ("≥500", 4),
            ("≥1,000", 1),
            ("≥5,000", 0),
            ("≥10,000", 0),
            ("", 7),
        ]


async def test_an_empty_filtered_view_says_why():
    market = build_market()
    tape = L2Tape(market, key=RELIANCE, tz=UTC)
    async with Host(tape).run_test(size=SIZE) as pilot:
        tape.set_filter("sell", 5_000)
        await pilot.pause()
        assert tape.rows == 0
        assert "passes the filter (SELL · ≥5,000)" in tape.render_line(1).text


async def test_widening_the_filter_brings_back_the_events_that_arrived_while_filtered():
    market = build_market()
    feed = Feed(market)
    tape = L2Tape(market, key=RELIANCE, tz=UTC)
    async with Host(tape).run_test(size=SIZE) as pilot:
        tape.set_filter("sell", 0)
        buys = feed.many(3, "B")
        sell = feed.add("S", 40)
        await frame(tape, pilot)
        assert oids(tape)[0] == sell and not set(buys) & set(oids(tape))
        assert tape.kept == 11, "the store keeps every event; the filter is a view"
        tape.set_filter(None, 0)
        await pilot.pause()
        assert oids(tape)[:4] == [sell, *reversed(buys)]
        assert tape.rows == 11


def test_set_filter_takes_the_apps_spellings_and_refuses_others():
    tape = L2Tape(build_market(), key=RELIANCE)
    tape.set_filter("buy", 250)
    assert tape.filter == TapeFilter("B", 250)
    tape.set_filter("S", 0)
    assert tape.filter == TapeFilter("S", 0)
    tape.set_filter(None, 0)
    assert tape.filter == TapeFilter()
    with pytest.raises(ValueError, match="unknown tape side"):
        tape.set_filter("both", 0)


async def test_m_after_an_exact_minimum_from_the_app_goes_to_the_next_step_up():
    tape = L2Tape(build_market(), key=RELIANCE)
    async with Host(tape).run_test(size=SIZE) as pilot:
        tape.set_filter(None, 2_500)
        await pilot.press("m")
        assert tape.filter.min_qty == 5_000


# -- pause -------------------------------------------------------------------------------


async def test_pause_keeps_the_view_still_while_events_arrive_and_resume_shows_them():
    market = build_market()
    feed = Feed(market)
    tape = L2Tape(market, key=RELIANCE, tz=UTC)
    async with Host(tape).run_test(size=SIZE) as pilot:
        await pilot.pause()
        before = screen(tape)
        await pilot.press("space")
        assert tape.paused and tape.status() == "paused (+0)"
        arrived = feed.many(5)
        await frame(tape, pilot)
        arrived += feed.many(3)
        await frame(tape, pilot)
        assert screen(tape) == before and tape.rows == 7
        assert tape.status() == "paused (+8)" and tape.border_subtitle == "paused (+8)"
        await pilot.press("space")
        assert not tape.paused and tape.status() == "" and tape.border_subtitle == ""
        assert tape.rows == 15 and tape.scroll_offset.y == 0
        assert oids(tape)[:8] == list(reversed(arrived)), "newest at the top"


async def test_paused_the_view_scrolls_back_with_the_keys():
    market = build_market()
    feed = Feed(market)
    tape = L2Tape(market, key=RELIANCE, tz=UTC)
    async with Host(tape).run_test(size=SIZE) as pilot:
        old = feed.many(30)
        await frame(tape, pilot)
        await pilot.press("space")
        feed.many(10)
        await frame(tape, pilot)
        assert oids(tape)[0] == old[-1]
        await pilot.press("j", "down")
        assert tape.scroll_offset.y == 2 and oids(tape)[0] == old[-3]
        await pilot.press("k")
        assert tape.scroll_offset.y == 1
        await pilot.press("pagedown")  # a page: the 11 event rows on screen
        assert tape.scroll_offset.y == 12
        await pilot.press("end")
        assert oids(tape)[-1] == "B1004", "the oldest event is at the bottom"
        await pilot.press("pageup", "home")
        assert tape.scroll_offset.y == 0 and oids(tape)[0] == old[-1]


async def test_more_arrivals_than_the_tape_keeps_are_counted_as_dropped():
    market = Market()
    feed = Feed(market)
    tape = L2Tape(market, key=RELIANCE, tz=UTC, keep=10)
    async with Host(tape).run_test(size=SIZE) as pilot:
        first = feed.many(4)
        await frame(tape, pilot)
        await pilot.press("space")
        arrived = feed.many(25)
        await frame(tape, pilot)
        assert oids(tape) == list(reversed(first)), "the frozen view is kept whole"
        assert tape.pending == 10 and tape.dropped == 15
        assert tape.status() == "paused (+10, 15 dropped)"
        await pilot.press("space")
        assert tape.rows == 10 and oids(tape) == list(reversed(arrived[-10:]))


async def test_the_filter_changes_while_paused_refilter_the_frozen_view_and_the_count():
    market = build_market()
    feed = Feed(market)
    tape = L2Tape(market, key=RELIANCE, tz=UTC)
    async with Host(tape).run_test(size=SIZE) as pilot:
        await pilot.press("space")
        feed.many(3, "B")
        feed.many(2, "S")
        await frame(tape, pilot)
        assert tape.status() == "paused (+5)"
        await pilot.press("b")
        assert tape.status() == "BUY · paused (+3)"
        assert tape.rows == 4, "the fixture's four buys, frozen"
        await pilot.press("space")
        assert tape.rows == 7 and tape.status() == "BUY"


# -- cost --------------------------------------------------------------------------------


async def test_a_frame_formats_only_the_new_rows_on_screen_and_a_paused_one_none():
    market = build_market()
    feed = Feed(market)
    tape = L2Tape(market, key=None, tz=UTC)
    async with Host(tape).run_test(size=SIZE) as pilot:
        await pilot.pause()
        built = tape.rows_built
        assert built == 7
        feed.many(1_000)
        await frame(tape, pilot)
        assert tape.rows == 1_007
        assert tape.rows_built - built == 11, "the 11 rows on screen, not the thousand"
        tape.refresh()
        await pilot.pause()
        assert tape.rows_built - built == 11, "a repaint draws cached rows"
        await pilot.press("space")
        built = tape.rows_built
        feed.many(500)
        await frame(tape, pilot)
        assert tape.rows_built == built


async def test_a_filtered_frame_filters_only_the_new_events(monkeypatch: pytest.MonkeyPatch):
    market = build_market()
    feed = Feed(market)
    tape = L2Tape(market, key=RELIANCE, tz=UTC)
    async with Host(tape).run_test(size=SIZE) as pilot:
        tape.set_filter("buy", 100)
        feed.many(500, "B", 200)
        await frame(tape, pilot)
        checked: list[int] = []
        accepts = TapeFilter.accepts

        def counting(self: TapeFilter, event: object) -> bool:
            checked.append(1)
            return accepts(self, event)  # type: ignore[arg-type]

        monkeypatch.setattr(TapeFilter, "accepts", counting)
        feed.many(3, "B", 200)
        feed.add("S", 200)
        await frame(tape, pilot)
        assert len(checked) == 4, "the four new events, not the 504 kept"
        assert tape.rows == 4 + 500 + 3, "the fixture's four buys of 100 or more, then ours"


async def test_a_growing_tape_moves_its_scrollbar_without_a_layout_of_the_screen():
    market = build_market()
    feed = Feed(market)
    tape = L2Tape(market, key=RELIANCE, tz=UTC)
    async with Host(tape).run_test(size=SIZE) as pilot:
        await pilot.pause()
        layouts: list[int] = []
        relayout = pilot.app.screen._refresh_layout

        def counted(*args: object, **kw: object) -> None:
            layouts.append(1)
            relayout(*args, **kw)  # type: ignore[arg-type]

        pilot.app.screen._refresh_layout = counted  # type: ignore[method-assign]
        feed.many(20)  # past the pane's 11 rows: the scrollbar appears, by a layout
        await frame(tape, pilot)
        assert tape.show_vertical_scrollbar and layouts
        await pilot.pause()  # what the layout set off (the scrollbar's own resize)
        await pilot.pause()
        layouts.clear()
        for _ in range(3):
            feed.many(5)
            await frame(tape, pilot)
        assert not layouts, "the scrollbar stays: no layout"
        bar = tape.vertical_scrollbar
        assert bar.window_virtual_size == tape.virtual_size.height == tape.rows + 1
        assert tape.max_scroll_y == tape.rows + 1 - tape.scrollable_content_region.height
        await pilot.press("G")  # the oldest event, at the bottom
        assert tape.scroll_offset.y == tape.max_scroll_y
        assert oids(tape)[-1] == tape.shown()[-1].oid, "the oldest kept, on the last line"


async def test_new_events_the_filter_drops_do_not_repaint_the_tape():
    market = build_market()
    feed = Feed(market)
    tape = L2Tape(market, key=RELIANCE, tz=UTC)
    async with Host(tape).run_test(size=SIZE) as pilot:
        tape.set_filter("sell", 0)
        await pilot.pause()
        kept, rows = tape.kept, tape.rows
        feed.many(3, "B")
        tape.pull()
        assert tape.kept == kept + 3 and tape.rows == rows, "kept, not shown"
        assert not tape._repaint_regions, "nothing to repaint"
        feed.add("S")
        tape.pull()
        assert tape._repaint_regions and tape.rows == rows + 1
        await pilot.pause()


# -- notes -------------------------------------------------------------------------------


async def test_the_note_shows_when_there_is_no_l2_data():
    tape = L2Tape(build_market(l2=False), key=RELIANCE, tz=UTC)
    async with Host(tape).run_test(size=SIZE) as pilot:
        tape.set_note("No L2 data: this feed is L1. Order-level data needs an L2 endpoint.")
        await pilot.pause()
        assert tape.rows == 0
        assert "this feed is L1" in tape.render_line(1).text
