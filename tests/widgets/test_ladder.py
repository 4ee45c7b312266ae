"""The ladder pane, mounted at the desk's pane sizes: levels, bars, marker, summary lines."""

from __future__ import annotations

from typing import Any

import pytest
from support.market_fixtures import FT, NOW, OGDC, RELIANCE, build_market, tick
from textual.app import App, ComposeResult

from tui.market.store import Market
from tui.theme import THEMES, variable_defaults
from tui.widgets.ladder import EIGHTHS, Ladder, bar

GOLD = "MCX|432294"
#: the ladder pane of the desk at 80x24 (44x13 with its border: 42x11 inside) and 160x48
NARROW = (44, 13)
WIDE = (48, 30)


class Host(App[None]):
    """The ladder alone, with a border, filling a screen of the pane's size."""

    CSS = "Ladder { border: round $panel; width: 1fr; height: 1fr; }"

    def __init__(self, ladder: Ladder) -> None:
        super().__init__()
        for theme in THEMES:
            self.register_theme(theme)
        self.theme = THEMES[0].name
        self.ladder = ladder

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return variable_defaults(self.current_theme)

    def compose(self) -> ComposeResult:
        yield self.ladder


async def shown(market: Market, key: str, size: tuple[int, int]) -> list[str]:
    """The ladder's lines as drawn in a pane of ``size`` (border included)."""
    ladder = Ladder(market)
    ladder.show(key)
    async with Host(ladder).run_test(size=size) as pilot:
        await pilot.pause()
        height = ladder.size.height
        return [ladder.render_line(y).text.rstrip() for y in range(height)]


def words(line: str) -> list[str]:
    return line.split()


def deep_book(market: Market, key: str, levels: int, *, start: int = 294550) -> None:
    """An L2 book of ``levels`` prices a side, 0.10 apart from 2945.50/2945.60 outward,
    the quantity at level ``i`` (0-based) being ``100 * (i + 1)``."""
    e, _, tk = key.partition("|")

    def text(units: int) -> str:
        return f"{units // 100}.{units % 100:02d}"

    bids = [[f"B{i}", text(start - 10 * i), str(100 * (i + 1))] for i in range(levels)]
    asks = [[f"S{i}", text(start + 10 + 10 * i), str(100 * (i + 1))] for i in range(levels)]
    market.apply({"t": "lk", "e": e, "tk": tk, "sq": "1", "ft": str(FT), "b": bids, "s": asks})


# -- the levels --------------------------------------------------------------------------


async def test_the_narrow_pane_shows_five_levels_header_and_last_line_and_drops_summary_lines():
    market = build_market()
    tick(market, RELIANCE, **{"52l": "2220.30", "52h": "3217.90"})
    market.flush(NOW)
    lines = await shown(market, RELIANCE, NARROW)
    assert len(lines) == 11
    assert words(lines[0])[:4] == ["last", "2945.60", "+14.40", "+0.49%"]
    assert words(lines[1]) == ["QTY", "BID", "│", "ASK", "QTY"], "order counts go first"
    assert words(lines[2])[0] == "1,250" and "2945.50 │▸2945.60" in lines[2]
    assert words(lines[6])[0] == "3,020" and words(lines[6])[-1] == "5,400"
    # four summary lines fit: spread, imbalance, high/low and circuit limits are kept;
    # open/close, average and the 52-week range are dropped
    assert [words(line)[0] for line in lines[7:]] == ["spread", "buy", "high", "lower"]
    assert not any(word in " ".join(lines) for word in ("open", "avg", "52w"))


async def test_the_wide_pane_shows_order_counts_and_every_summary_line():
    market = build_market()
    tick(market, RELIANCE, **{"52l": "2220.30", "52h": "3217.90"})
    market.flush(NOW)
    lines = await shown(market, RELIANCE, WIDE)
    assert words(lines[1]) == ["ORD", "QTY", "BID", "│", "ASK", "QTY", "ORD"]
    assert words(lines[2])[:2] == ["3", "1,250"] and words(lines[2])[-2:] == ["640", "2"]
    assert lines[7].strip() == "the whole L2 book: 5 bid and 5 ask levels"  # room to spare
    assert [words(line)[0] for line in lines[8:15]] == [
        "spread",
        "buy",
        "high",
        "open",
        "avg",
        "lower",
        "52w",
    ]
    assert words(lines[8]) == ["spread", "0.10", "·", "1", "tick", "volume", "4,823,117"]
    assert words(lines[10]) == ["high", "2951.90", "low", "2928.10"]
    assert words(lines[11]) == ["open", "2935.00", "close", "2931.20"]
    assert words(lines[12]) == ["avg", "2941.37", "tick", "0.10"]
    assert words(lines[13]) == ["lower", "ckt", "2638.10", "upper", "ckt", "3224.30"]
    assert all(line == "" for line in lines[15:]), "no deeper levels: the book has none"


async def test_a_deeper_l2_book_adds_levels_past_the_depth_as_the_height_allows():
    market = build_market(l2=False)
    deep_book(market, RELIANCE, 12)
    market.flush(NOW)
    lines = await shown(market, RELIANCE, WIDE)
    # 28 rows inside: last, header, 6 summary lines (no 52-week range): 20 rows for levels,
    # of which the book has 12 a side (the depth's five, then the book's past 2945.10)
    levels = lines[2:14]
    assert len([line for line in levels if "│" in line]) == 12
    assert words(lines[2])[:2] == ["3", "1,250"], "the depth's five come first"
    assert words(lines[6])[1:2] == ["3,020"] and "2945.10" in lines[6]
    assert "2945.00" in lines[7] and "2944.40" in lines[13].split("│")[0]
    assert "2946.10" in lines[7] and "2946.70" in lines[13].split("│")[1]
    assert lines[14].strip() == "the whole L2 book: 12 bid and 12 ask levels"
    assert words(lines[15])[0] == "spread"
    # the same book in the narrow pane: five levels, nothing past them
    narrow = await shown(market, RELIANCE, NARROW)
    assert "2945.00" not in " ".join(narrow) and words(narrow[7])[0] == "spread"


async def test_a_scrip_with_only_an_l2_book_is_drawn_from_it_in_depth():
    market = Market()
    market.apply({"t": "tk", "e": "NSE", "tk": "2885", "ts": "RELIANCE-EQ", "pp": "2"})
    deep_book(market, RELIANCE, 8)
    market.flush(NOW)
    lines = await shown(market, RELIANCE, WIDE)
    rows = [line for line in lines[2:] if "│" in line]
    assert len(rows) == 8
    assert "2945.50 │ 2945.60" in rows[0] and "2944.80 │ 2946.30" in rows[7]


async def test_bars_are_in_proportion_to_the_largest_quantity_shown_on_either_side():
    market = Market()
    market.apply({"t": "tk", "e": "NSE", "tk": "2885", "ts": "RELIANCE-EQ", "pp": "2"})
    deep_book(market, RELIANCE, 8)  # quantities 100 .. 800 a side
    market.flush(NOW)
    lines = await shown(market, RELIANCE, WIDE)
    rows = [line for line in lines[2:] if "│" in line]

    def eighths(text: str) -> int:
        return sum(8 if ch == "█" else EIGHTHS.index(ch) for ch in text if ch in "█▏▎▍▌▋▊▉")

    bids = [eighths(row.split("│")[0]) for row in rows]
    asks = [eighths(row.split("│")[1]) for row in rows]
    assert bids == asks, "the same quantity draws the same bar on both sides"
    full = bids[-1]  # 800: the largest, a full bar
    assert all(abs(b * 8 - full * (i + 1)) <= 8 for i, b in enumerate(bids))
    assert bids == sorted(bids) and bids[0] < bids[-1]


def test_a_bar_is_made_of_eighth_blocks_and_never_hides_a_small_quantity():
    assert bar(800, 800, 4) == "████"
    assert bar(400, 800, 4) == "██  "
    assert bar(100, 800, 4) == "▌   "
    assert bar(1, 800, 4) == "▏   ", "a quantity always shows"
    assert bar(0, 800, 4) == "    "
    assert bar(5, 0, 3) == "   "


@pytest.mark.parametrize(
    ("lp", "marked"),
    [("2945.60", "│▸2945.60"), ("2945.30", "2945.30◂│"), ("2945.55", None)],
)
async def test_the_level_at_the_last_price_is_marked(lp: str, marked: str | None):
    market = build_market()
    tick(market, RELIANCE, lp=lp)
    market.flush(NOW)
    lines = await shown(market, RELIANCE, WIDE)
    rows = lines[2:7]
    hits = [row for row in rows if "◂" in row or "▸" in row]
    if marked is None:
        assert hits == [], "no level is at the last price"
    else:
        assert len(hits) == 1 and marked in hits[0]


# -- the summary -------------------------------------------------------------------------


def imbalance_line(lines: list[str]) -> str:
    return next(line for line in lines if line.lstrip().startswith("buy"))


async def test_total_buy_and_sell_quantity_show_as_an_imbalance_bar_with_percentages():
    market = build_market()
    lines = await shown(market, RELIANCE, WIDE)
    line = imbalance_line(lines)  # 612,340 against 587,120
    assert words(line)[:2] == ["buy", "51%"] and words(line)[-2:] == ["49%", "sell"]
    tick(market, RELIANCE, tbq="620", tsq="380")
    market.flush(NOW)
    line = imbalance_line(await shown(market, RELIANCE, WIDE))
    assert words(line)[:2] == ["buy", "62%"] and words(line)[-2:] == ["38%", "sell"]
    solid, empty = line.count("█"), line.count("░")
    assert round(100 * solid / (solid + empty)) in (61, 62, 63)


async def test_without_total_quantities_there_is_no_imbalance_line():
    lines = await shown(build_market(), OGDC, WIDE)
    assert not any(line.lstrip().startswith("buy") for line in lines)


@pytest.mark.parametrize(("lp", "at"), [("2220.30", 0.0), ("3217.90", 1.0), ("2719.10", 0.5)])
async def test_the_52_week_line_places_the_last_price_in_the_range(lp: str, at: float):
    market = build_market()
    tick(market, RELIANCE, lp=lp, **{"52l": "2220.30", "52h": "3217.90"})
    market.flush(NOW)
    line = next(line for line in await shown(market, RELIANCE, WIDE) if "52w" in line)
    assert words(line)[1] == "2220.30" and words(line)[-1] == "3217.90"
    track = line[line.index("2220.30") + 8 : line.index("3217.90") - 1]
    assert set(track) == {"─", "●"} and track.count("●") == 1
    assert abs(track.index("●") / (len(track) - 1) - at) < 0.05


async def test_prices_keep_the_scrips_precision_and_quantities_their_separators():
    market = build_market()
    lines = await shown(market, GOLD, WIDE)  # pp 0
    assert "93214 │ 93216" in lines[2]
    market.apply(
        {"t": "dk", "e": "NSE", "tk": "9", "ts": "FX", "pp": "4", "ti": "0.0025", "lp": "83.1250"}
        | {
            "bp1": "83.1225",
            "bq1": "1234567",
            "bo1": "3",
            "sp1": "83.1250",
            "sq1": "25",
            "so1": "1",
        }
    )
    market.flush(NOW)
    lines = await shown(market, "NSE|9", WIDE)
    assert "83.1225 │▸83.1250" in lines[2] and "1,234,567" in lines[2]
    assert lines[7].strip() == "1 level a side: all the feed sends"
    assert words(lines[8])[:2] == ["spread", "0.0025"]


# -- when it is built --------------------------------------------------------------------


async def test_the_ladder_is_rebuilt_only_when_invalidated_or_resized():
    market = build_market()
    ladder = Ladder(market)
    ladder.show(RELIANCE)
    async with Host(ladder).run_test(size=WIDE) as pilot:
        await pilot.pause()
        builds = ladder.builds
        ladder.refresh()
        await pilot.pause()
        assert ladder.builds == builds, "a repaint draws the built lines"
        tick(market, RELIANCE, sp1="2945.55", sq1="99", so1="1")
        market.flush(NOW)
        await pilot.pause()
        assert ladder.builds == builds, "a market change alone does not rebuild"
        ladder.invalidate()
        await pilot.pause()
        assert ladder.builds == builds + 1
        assert "2945.55" in ladder.render_line(2).text
        await pilot.resize_terminal(*NARROW)
        await pilot.pause()
        assert ladder.builds == builds + 2 and ladder.size.height == 11


def test_without_a_selection_or_a_scrip_the_ladder_says_so():
    def lines(key: str | None, market: Any) -> list[str]:
        ladder = Ladder(market)
        ladder.show(key)
        return ladder.lines_text()

    assert lines(None, Market()) == [" No scrip selected."]
    assert lines("NSE|22", Market()) == [" Waiting for NSE|22…"]
