"""What reaches the terminal: the desk's partial repaints add up to the whole picture.

The panes repaint only what changed (a watchlist row whose shown cells changed, a ladder
line that moved, nothing for a scrip whose shown values stayed the same).  Snapshot tests render the
whole screen, so they cannot see a line that should have been repainted and was not; this
test can.  A virtual terminal applies every update the compositor hands the driver exactly
as the driver writes it (a full layout, or the spans of changed lines, each chop cropped at
the span's end), and after each frame it must equal the compositor's full render of the
screen, cell by cell, text and style.  The frames come from the seeded simulator (depth and
order events), with the keys a user presses, a sort, a theme change and a resize between.

The caches themselves: a row (or ladder line) whose values did not change is not rebuilt
and not repainted; a changed one is; a theme change or a resize draws everything again.
"""

from __future__ import annotations

from datetime import UTC
from typing import Any

from rich.cells import cell_len
from support.market_fixtures import NOW, OGDC, RELIANCE, FixedHealth, build_market, tick
from textual._compositor import ChopsUpdate, LayoutUpdate
from textual.geometry import Region
from textual.strip import Strip

from tui.app import DeskApp, make_app
from tui.market.store import Market
from tui.sim.market import SimMarket
from tui.theme import THEMES
from tui.widgets.columns import COLUMNS, Row

SIZE = (160, 48)
START = 1_750_651_200.0
Grid = list[list[tuple[str, Any]]]


class Terminal:
    """A screen of cells written the way Textual's driver writes compositor updates."""

    def __init__(self, width: int, height: int) -> None:
        self.updates: list[Any] = []
        self.resize(width, height)

    def resize(self, width: int, height: int) -> None:
        """A new, empty screen (a resized terminal is drawn again in full)."""
        self.width, self.height = width, height
        self.grid: Grid = [[("", None)] * width for _ in range(height)]

    def write(self, x: int, y: int, strip: Strip) -> None:
        if y >= self.height:  # an update drawn for the size before (a terminal clips it)
            return
        row = self.grid[y]
        for segment in strip:
            if segment.control:
                continue
            for char in segment.text:
                size = cell_len(char)
                if x < self.width:
                    row[x] = (char, segment.style)
                for extra in range(1, size):
                    if x + extra < self.width:
                        row[x + extra] = ("", segment.style)
                x += size

    def apply(self, update: object) -> None:
        """What ``LayoutUpdate``/``ChopsUpdate.render_segments`` write, as cells."""
        self.updates.append(update)
        if isinstance(update, LayoutUpdate):
            for y, line in enumerate(update.strips, update.region.y):
                x = update.region.x
                for strip in line:
                    self.write(x, y, strip)
                    x += strip.cell_length
        elif isinstance(update, ChopsUpdate):
            for y, x1, x2 in update.spans:
                for end, (x, strip) in zip(update.chop_ends[y], update.chops[y].items()):
                    if strip is None or x > x2 or end <= x1:
                        continue
                    if x2 > x >= x1 and end <= x2:
                        self.write(x, y, strip)
                    else:
                        self.write(x, y, strip.crop(0, min(end, x2) - x))

    def lines_spanned(self) -> set[int]:
        """Screen lines the updates since the last call touched (all for a layout)."""
        lines: set[int] = set()
        for update in self.updates:
            if isinstance(update, ChopsUpdate):
                lines.update(y for y, _, _ in update.spans)
            else:
                lines.update(range(self.height))
        self.updates.clear()
        return lines


def picture(strips: list[Strip], width: int, height: int) -> Grid:
    term = Terminal(width, height)
    for y, strip in enumerate(strips[:height]):
        term.write(0, y, strip)
    return term.grid


def watch(app: DeskApp) -> Terminal:
    """A terminal fed with every update the app displays (the headless driver drops them)."""
    width, height = app.size
    term = Terminal(width, height)
    display = app._display

    def displayed(screen: Any, renderable: Any) -> None:
        if renderable is not None and not app._batch_count and screen is app.screen:
            term.apply(renderable)
        display(screen, renderable)

    app._display = displayed  # type: ignore[method-assign]
    return term


def differences(app: DeskApp, term: Terminal) -> list[str]:
    """Cells where the terminal differs from the screen drawn afresh.

    Afresh: every widget's line cache (Textual's) and the panes' strips and styles are
    dropped first, so the picture is drawn from what the panes hold now, not from what was
    painted; and what the watchlist holds for each row on screen must be what the market
    says (its sparkline too: the health tick's new points are drawn at once)."""
    width, height = app.size
    wl = app.watchlist
    top = int(wl.scroll_offset.y)
    for key in wl.keys[top : top + wl.scrollable_content_region.height]:
        held = wl._cells.get(key)
        scrip = app.market.view(key)
        if held is not None and scrip is not None:
            row = Row.of(scrip)
            now = {c.key: COLUMNS[c.key].cell(wl, row) for c in wl._columns}
            assert held == now, f"the watchlist holds stale cells for {key}"
    for widget in app.screen.walk_children(with_self=True):
        widget._styles_cache.clear()
    wl._strips.clear()
    wl._styles = wl._cursor_styles = wl._header = None
    for pane in (app.ladder, app.health_panel):
        pane._strips, pane._line_styles = None, None
        pane._styled.clear()
    full = picture(app.screen._compositor.render_strips(), width, height)
    out = []
    for y in range(min(height, term.height)):
        if term.grid[y] != full[y]:
            wrote = "".join(c for c, _ in term.grid[y])
            drawn = "".join(c for c, _ in full[y])
            first = next(x for x in range(width) if term.grid[y][x] != full[y][x])
            out.append(f"line {y} from x={first}:\n  terminal {wrote!r}\n  screen   {drawn!r}")
    return out


def sim_desk(level: str = "L2") -> tuple[DeskApp, Market, SimMarket, list[float]]:
    sim = SimMarket(3, start=START)
    market = Market()
    for msg in sim.snapshot_messages(orders=level == "L2"):
        market.apply(msg)
    now = [START]
    stock = next(s.key for s in sim.instruments if not s.index)
    health = FixedHealth()
    app = make_app(
        market,
        None,
        watch=sim.keys,
        selected=stock,
        refresh_hz=0,
        tz=UTC,
        clock=lambda: now[0],
        wall=lambda: now[0],
        health=lambda: health,
    )
    return app, market, sim, now


async def test_every_frame_the_terminal_shows_exactly_the_screen():
    app, market, sim, now = sim_desk()
    async with app.run_test(size=SIZE) as pilot:
        term = watch(app)
        await pilot.pause()
        app.refresh()  # a first full picture on the watched terminal
        await pilot.pause()
        assert differences(app, term) == []
        actions: dict[int, Any] = {
            8: lambda: pilot.press("j", "j", "j"),
            14: lambda: pilot.press("enter"),  # another scrip on the ladder and tape
            20: lambda: pilot.press("s"),  # sorted by a column
            26: lambda: pilot.press("s", "S"),
            32: lambda: pilot.press("k"),
            38: lambda: set_theme(app, pilot),
            44: lambda: resize(app, pilot, term, 140, 40),
            50: lambda: pilot.press("pagedown", "enter"),
        }
        for n in range(60):
            now[0] += 0.05
            for step in sim.run(120, now[0], 0.0004):
                for msg in step.l2:
                    market.apply(msg)
                if step.df is not None:
                    market.apply(step.df)
            app.flush()
            if n % 10 == 0:
                app.update_health()
            if n in actions:
                await actions[n]()
            await pilot.pause()
            assert differences(app, term) == [], f"frame {n}"


async def resize(app: DeskApp, pilot: Any, term: Terminal, width: int, height: int) -> None:
    term.resize(width, height)
    await pilot.resize_terminal(width, height)


async def set_theme(app: DeskApp, pilot: Any) -> None:
    app.theme = next(t.name for t in THEMES if t.name != app.theme)
    await pilot.pause()


# -- the caches ----------------------------------------------------------------------------


def desk(market: Market) -> DeskApp:
    health = FixedHealth()
    return make_app(
        market,
        None,
        selected=RELIANCE,
        refresh_hz=0,
        tz=UTC,
        clock=lambda: NOW,
        health=lambda: health,
    )


async def settled(app: DeskApp, pilot: Any, term: Terminal) -> None:
    """The desk up, its first frame drawn (it repaints the whole screen once), one partial
    repaint of each pane done (Textual's first also carries regions queued while the
    pane was mounted), and the terminal's record of updates emptied."""
    await pilot.pause()
    app.flush()
    await pilot.pause()
    for pane in (app.watchlist, app.ladder, app.tape, app.health_panel):
        pane.refresh(Region(0, 0, 1, 1))
    await pilot.pause()
    term.lines_spanned()


def screen_line(app: DeskApp, key: str) -> int:
    wl = app.watchlist
    return wl.content_region.y + wl.keys.index(key) + 1 - int(wl.scroll_offset.y)


async def test_a_row_whose_shown_values_did_not_change_is_neither_rebuilt_nor_repainted():
    market = build_market()
    app = desk(market)
    async with app.run_test(size=SIZE) as pilot:
        term = watch(app)
        await settled(app, pilot, term)
        wl = app.watchlist
        strip = wl._strips[OGDC]
        tick(market, OGDC, bq3="999")  # a third level: no column shows it
        assert app.flush() == {OGDC}
        await pilot.pause()
        assert wl._strips[OGDC] is strip, "the row's strip stands"
        assert screen_line(app, OGDC) not in term.lines_spanned(), "and is not repainted"
        tick(market, OGDC, lp="215.40")
        app.flush()
        await pilot.pause()
        assert wl._strips[OGDC] is not strip, "a changed row is rebuilt"
        assert screen_line(app, OGDC) in term.lines_spanned()
        assert "215.40" in wl._strips[OGDC].text
        assert differences(app, term) == []


async def test_the_ladder_repaints_only_the_lines_that_changed():
    market = build_market()
    app = desk(market)
    async with app.run_test(size=SIZE) as pilot:
        term = watch(app)
        await settled(app, pilot, term)
        ladder = app.ladder
        before = list(ladder._strips or [])
        styled = ladder.lines_styled
        tick(market, RELIANCE, sq2="77")  # one quantity on one level
        app.flush()
        await pilot.pause()
        after = list(ladder._strips or [])
        kept = sum(1 for a, b in zip(before, after, strict=True) if a is b)
        assert len(after) - kept <= 2, "the level's line (and its bar's) only"
        assert 0 < ladder.lines_styled - styled <= 2
        spanned = {
            y - ladder.content_region.y
            for y in term.lines_spanned()
            if ladder.content_region.y <= y < ladder.content_region.bottom
        }
        assert 0 < len(spanned) <= 2
        assert any("77" in strip.text for strip in after)
        assert differences(app, term) == []


async def test_a_theme_change_or_a_resize_draws_every_line_again():
    market = build_market()
    app = desk(market)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        wl, ladder = app.watchlist, app.ladder
        row, lines = wl._strips[OGDC], list(ladder._strips or [])
        app.theme = next(t.name for t in THEMES if t.name != app.theme)
        await pilot.pause()
        assert wl._strips[OGDC] is not row
        assert wl._strips[OGDC].text == row.text and wl._strips[OGDC] != row, "new colours"
        assert not set(map(id, ladder._strips or [])) & set(map(id, lines))
        row, builds, size = wl._strips[OGDC], ladder.builds, ladder.size
        await pilot.resize_terminal(140, 40)
        await pilot.pause()
        assert wl._strips[OGDC] is not row and wl._strips[OGDC].cell_length == wl._width
        assert ladder.size != size and ladder.builds == builds + 1, "built for the new size"
        assert all(strip.cell_length == ladder.size.width for strip in ladder._strips or [])
