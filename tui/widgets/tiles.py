"""The surveillance grid: one compact tile per scrip, the whole grid drawn by one widget.

A Line API ``ScrollView``: a screen line crosses a row of tiles, so
it is joined from each tile's own strip for that line.  Two caches, by key, as in the
watchlist: a tile's *content* (its lines as cells, computed from the scrip's typed values:
``builds`` counts it) is dropped only when the scrip changes or the width does; its
*strips* (the content styled with the tile's state: cursor, alert severity, stale) are
dropped when any of those change and are cheap to rebuild.  So a flush that changed one
scrip formats one tile and repaints only its lines.

A tile, ``width`` cells by ``3 + depth`` lines, tiles a cell apart and tile rows a line
apart::

    ▸RELIANCE-EQ     ! spread     cursor, symbol; newest unacknowledged alert: mark, rule
    2945.60          ▲ +0.49%     last; change % (▲/▼ and the up/down colour)
    spr 1t  buy 51%     ▲9.5%     spread in ticks; buy share of tbq+tsq; circuit distance
    1,250 2945.50│2945.60 640     the mini ladder: best ``depth`` bids | asks, qty and price
      880 2945.40│2945.70 1.9k

The title line takes the colour of the severity of the scrip's newest unacknowledged alert
(:meth:`Tiles.set_alerts`, fed from ``AlertBook.latest_by_key()``) and its mark (``!!``,
``!``, ``·``), so it reads without colour.  A scrip with no update for a while is dimmed
and marked ``◌`` (:meth:`Tiles.mark_stale`, on the app's clock).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, Final

from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from tui.market.stale import StaleMarks
from tui.widgets.circuit import circuit
from tui.widgets.glyphs import DOWN_ARROW, MARK, SEVERITY_MARKS, STALE_MARK, UP_ARROW
from tui.widgets.strips import Cell, LineStyles, pad
from tui.widgets.styles import theme_css
from tui.widgets.tile_lines import buy_share, ladder_line, spaced, spread_text
from tui.wire.prices import format_units

if TYPE_CHECKING:
    from tui.market.alerts import Alert
    from tui.market.scrip import Scrip
    from tui.market.store import Market

#: the narrowest a tile gets; tiles stretch (up to :data:`TILE_MAX`) to share the width
TILE_WIDTH: Final = 24
TILE_MAX: Final = 32
#: cells between tiles, and lines between rows of tiles
GAP: Final = 1
#: circuit distance shown for any distance: a threshold no price reaches (basis points)
_ANY_DISTANCE: Final = 10**9
#: cells of the tile's state that keep their colour on a stale tile (a locked scrip is quiet)
_VIVID: Final = frozenset({"tiles--locked"})


@dataclass(slots=True)
class _Content:
    """A tile's figures as cells: its symbol and its lines under the title."""

    symbol: str
    lines: list[list[Cell]]


@dataclass(frozen=True, slots=True)
class _Alerted:
    """What a tile shows of its scrip's newest unacknowledged alert."""

    severity: str
    rule: str


class Tiles(ScrollView, can_focus=True):
    """A grid of tiles for ``keys``, as many columns as fit the width.

    ``depth``: levels a side in the mini ladder.  ``circuit_near``: percent from a circuit
    limit within which the distance is coloured (as in the watchlist).
    """

    DEFAULT_CSS: ClassVar[str] = theme_css("tiles")  # its own styles, mounted anywhere
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("left,h", "move(-1, 0)", "Left", id="tiles.left", show=False),
        Binding("right,l", "move(1, 0)", "Right", id="tiles.right", show=False),
        Binding("up,k", "move(0, -1)", "Up", id="tiles.up", show=False),
        Binding("down,j", "move(0, 1)", "Down", id="tiles.down", show=False),
        Binding("pageup", "page(-1)", "Page up", id="tiles.page_up", show=False),
        Binding("pagedown", "page(1)", "Page down", id="tiles.page_down", show=False),
        Binding("g,home", "first", "First", id="tiles.first", show=False),
        Binding("G,end", "last", "Last", id="tiles.last", show=False),
        Binding("enter", "open", "Open on desk", id="tiles.open"),
    ]
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "tiles--head",
        "tiles--body",
        "tiles--cursor",
        "tiles--symbol",
        "tiles--alert",
        "tiles--warn",
        "tiles--info",
        "tiles--up",
        "tiles--down",
        "tiles--flat",
        "tiles--bid",
        "tiles--ask",
        "tiles--qty",
        "tiles--label",
        "tiles--dim",
        "tiles--near",
        "tiles--locked",
        "tiles--crossed",
        "tiles--stale",
        "tiles--note",
    }

    class Open(Message):
        """The user asked for this scrip on the desk (enter, or a double click)."""

        def __init__(self, key: str) -> None:
            super().__init__()
            self.key = key

    def __init__(
        self,
        market: Market,
        keys: Sequence[str] = (),
        *,
        depth: int = 2,
        circuit_near: float = 2.0,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.market = market
        self.depth = max(depth, 1)
        #: ``circuit_near`` percent in basis points (a threshold, not a price)
        self.near_bp = round(circuit_near * 100)
        self.keys: list[str] = list(dict.fromkeys(keys))
        self._index = {key: i for i, key in enumerate(self.keys)}
        self.cursor = 0
        self._width = -1
        self._cols = 1
        self._tile_width = TILE_WIDTH
        self._content: dict[str, _Content] = {}
        self._strips: dict[str, list[Strip]] = {}
        self._styles: LineStyles | None = None
        self._alerted: dict[str, _Alerted] = {}
        self._marks = StaleMarks()
        #: clock time each key was first seen listed (the stale clock of a silent scrip)
        #: tiles computed from market values, by key (tests and benchmarks read it)
        self.builds: Counter[str] = Counter()

    # -- geometry ------------------------------------------------------------------------
    @property
    def lines(self) -> int:
        """Lines of one tile: title, last, figures, the mini ladder."""
        return 3 + self.depth

    @property
    def columns(self) -> int:
        """Tiles a row at the current width."""
        return self._cols

    def _layout(self, width: int) -> None:
        """As many columns of at least :data:`TILE_WIDTH` as fit; tiles share the rest."""
        self._width = width
        cols = max(1, (width + GAP) // (TILE_WIDTH + GAP))
        self._cols = cols
        self._tile_width = max(1, min((width - GAP * (cols - 1)) // cols, TILE_MAX))
        self._content.clear()
        self._strips.clear()
        self._update_virtual_size()

    def _update_virtual_size(self) -> None:
        rows = -(-len(self.keys) // self._cols)
        self.virtual_size = Size(0, max(rows * (self.lines + GAP) - GAP, 1))

    def on_resize(self, event: events.Resize) -> None:
        width = self.scrollable_content_region.width
        if width != self._width:
            self._layout(width)
            self._scroll_to_cursor()

    def _top(self, i: int) -> int:
        """The virtual line of tile ``i``'s title."""
        return (i // self._cols) * (self.lines + GAP)

    # -- the feed side -------------------------------------------------------------------
    def refresh_keys(self, changed: Iterable[str]) -> int:
        """Redraw the tiles of ``changed`` keys that are listed; how many."""
        redrawn = [key for key in changed if key in self._index]
        for key in redrawn:
            self._content.pop(key, None)
        self._redraw(redrawn)
        return len(redrawn)

    def set_alerts(self, latest: Mapping[str, Alert]) -> set[str]:
        """Colour each tile by its scrip's newest unacknowledged alert (``latest``: what
        ``AlertBook.latest_by_key()`` returns); the keys whose tile changed."""
        alerted = {
            key: _Alerted(alert.severity, alert.rule)
            for key, alert in latest.items()
            if key in self._index
        }
        moved = {key for key in alerted.keys() | self._alerted.keys()
                 if alerted.get(key) != self._alerted.get(key)}  # fmt: skip
        self._alerted = alerted
        self._redraw(moved)
        return moved

    def mark_stale(self, now: float, after: float) -> set[str]:
        """Dim the tiles of scrips with no update for more than ``after`` seconds (a scrip
        never updated counts from when it was first listed); the stale keys."""
        moved = self._marks.check(self.market.updated, self.keys, now, after)
        if moved:
            self._redraw(moved)
        return set(self._marks.stale)

    @property
    def stale(self) -> frozenset[str]:
        return frozenset(self._marks.stale)

    @property
    def alerted(self) -> dict[str, str]:
        """Severity of the newest unacknowledged alert, by key (listed scrips only)."""
        return {key: state.severity for key, state in self._alerted.items()}

    def set_keys(self, keys: Sequence[str]) -> None:
        """Show ``keys``; the cursor stays on its scrip if still listed (else its place)."""
        order = list(dict.fromkeys(keys))
        cursor_key, cursor = self.cursor_key, self.cursor
        for key in set(self.keys).difference(order):
            self._content.pop(key, None)
            self._alerted.pop(key, None)
            self._marks.forget(key)
        self.keys = order
        self._index = {key: i for i, key in enumerate(order)}
        if cursor_key in self._index:
            self.cursor = self._index[cursor_key]
        else:
            self.cursor = max(0, min(cursor, len(order) - 1))
        self._strips.clear()  # tiles moved to other places: every line is another join
        self._update_virtual_size()
        self._scroll_to_cursor()
        self.refresh()

    @property
    def cursor_key(self) -> str | None:
        return self.keys[self.cursor] if self.keys else None

    def _redraw(self, keys: Iterable[str]) -> None:
        """Drop the strips of ``keys`` and repaint the lines of their tiles on screen."""
        top = int(self.scroll_offset.y)
        bottom = top + self.scrollable_content_region.height
        lines, strips, index = self.lines, self._strips, self._index
        for key in keys:
            strips.pop(key, None)
            i = index.get(key)
            if i is None:
                continue
            first = self._top(i)
            if first < bottom and first + lines > top:
                self.refresh_lines(first, lines)

    # -- content -------------------------------------------------------------------------
    def _build(self, key: str, width: int) -> _Content:
        """The tile's lines under its title, from the scrip's typed values."""
        self.builds[key] += 1
        scrip = self.market.view(key)
        blank: list[Cell] = [(" " * width, "")]
        if scrip is None:
            waiting = [(pad("waiting for data…", width), "tiles--note")]
            return _Content(key.partition("|")[2], [waiting] + [blank] * (self.lines - 2))
        return _Content(scrip.symbol, [
            self._price_line(scrip, width),
            self._figures_line(scrip, width),
            *self._ladder(scrip, width),
        ])  # fmt: skip

    def _price_line(self, scrip: Scrip, width: int) -> list[Cell]:
        lp, pc = scrip.get("lp"), scrip.get("pc")
        trend = "tiles--flat" if not pc else ("tiles--up" if pc > 0 else "tiles--down")
        arrow = "" if not pc else (UP_ARROW if pc > 0 else DOWN_ARROW)
        change = f"{arrow} {format_units(pc, 2, sign=True)}%" if pc is not None else ""
        return spaced([(format_units(lp, scrip.pp) or "—", f"{trend} tiles--symbol")],
                      [(change, trend)], width)  # fmt: skip

    def _figures_line(self, scrip: Scrip, width: int) -> list[Cell]:
        bids, asks = scrip.bids(), scrip.asks()
        spread = spread_text(bids[0] if bids else None, asks[0] if asks else None, scrip.get("ti"))
        share = buy_share(scrip.get("tbq"), scrip.get("tsq"))
        left: list[Cell] = []
        if spread[0]:
            left += [("spr ", "tiles--label"), spread, ("  ", "")]
        if share[0]:
            left.append(share)
        lp, lc, uc = scrip.get("lp"), scrip.get("lc"), scrip.get("uc")
        text, style, bp = circuit(lp, lc, uc, self.near_bp)
        if not text and bp is not None:
            text, style = circuit(lp, lc, uc, _ANY_DISTANCE)[0], "tiles--dim"
        style = style.replace("watchlist--", "tiles--")
        return spaced(left, [(text, style)] if text else [], width)

    def _ladder(self, scrip: Scrip, width: int) -> list[list[Cell]]:
        depth = self.depth
        bids, asks = scrip.bids()[:depth], scrip.asks()[:depth]
        if not bids and not asks:
            blank: list[Cell] = [(" " * width, "")]
            return [[(pad("no depth", width), "tiles--note")]] + [blank] * (depth - 1)
        pp = scrip.pp
        price_w = max(len(format_units(lv.price, pp)) for lv in (*bids, *asks))
        pairs = [(bids[i] if i < len(bids) else None, asks[i] if i < len(asks) else None)
                 for i in range(depth)]  # fmt: skip
        return [ladder_line(bid, ask, pp, price_w, width) for bid, ask in pairs]

    # -- drawing -------------------------------------------------------------------------
    def _title(self, key: str, symbol: str, cursor: bool, width: int) -> list[Cell]:
        """``▸SYMBOL   ◌ !! rule``: the cursor, the symbol, stale and alert marks."""
        right: list[Cell] = []
        if key in self._marks.stale:
            right.append((STALE_MARK + " ", "tiles--dim"))
        alerted = self._alerted.get(key)
        if alerted is not None:
            right.append((f"{SEVERITY_MARKS.get(alerted.severity, '?')} {alerted.rule}", ""))
        right_len = sum(len(text) for text, _ in right)
        room = max(width - 1 - right_len - 1, 1)  # the cursor mark; a space before the marks
        symbol = pad(symbol, min(len(symbol), room))
        lead = (MARK, "") if cursor else (" ", "")
        return spaced([lead, (symbol, "tiles--symbol")], right, width)

    def _tile(self, key: str) -> list[Strip]:
        """The tile's strips, one a line, styled with its state (cached until it moves)."""
        strips = self._strips.get(key)
        if strips is not None:
            return strips
        width = self._tile_width
        content = self._content.get(key)
        if content is None:
            content = self._content[key] = self._build(key, width)
        styles = self._styles
        if styles is None:
            styles = self._styles = LineStyles(self)
        cursor = key == self.cursor_key
        stale = key in self._marks.stale
        alerted = self._alerted.get(key)
        head = "tiles--head" + (f" tiles--{alerted.severity}" if alerted else "")
        body = "tiles--body tiles--cursor" if cursor else "tiles--body"

        def styled(line: list[Cell], base: str) -> list[Cell]:
            out = []
            for text, style in line:
                name = f"{base} {style}" if style else base
                if stale and style not in _VIVID:
                    name += " tiles--stale"
                out.append((text, name))
            return out

        lines = [styled(self._title(key, content.symbol, cursor, width), head)]
        lines += [styled(line, body) for line in content.lines]
        strips = self._strips[key] = [styles.strip(line, width) for line in lines]
        return strips

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        if width != self._width:
            self._layout(width)
        if not self.keys:
            if y == 0:
                return LineStyles(self).strip([(" No scrips to watch.", "tiles--note")], width)
            return Strip.blank(width, self.rich_style)
        row, line = divmod(y + int(self.scroll_offset.y), self.lines + GAP)
        start = row * self._cols
        keys = self.keys[start : start + self._cols]
        if line >= self.lines or not keys:
            return Strip.blank(width, self.rich_style)
        gap = Strip.blank(GAP, self.rich_style)
        parts: list[Strip] = []
        for i, key in enumerate(keys):
            if i:
                parts.append(gap)
            parts.append(self._tile(key)[line])
        return Strip.join(parts).adjust_cell_length(width, self.rich_style)

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._strips.clear()
        self._styles = None

    def tile_text(self, key: str) -> list[str]:
        """The tile of ``key`` as plain text, line by line (tests)."""
        return [strip.text.rstrip() for strip in self._tile(key)]

    # -- keys ----------------------------------------------------------------------------
    def move_cursor(self, i: int) -> None:
        if not self.keys:
            return
        i = max(0, min(i, len(self.keys) - 1))
        old, self.cursor = self.cursor_key, i
        self._redraw([k for k in (old, self.cursor_key) if k is not None])
        self._scroll_to_cursor()

    def _scroll_to_cursor(self) -> None:
        if not self.keys or not self.is_mounted:
            return
        first = self._top(self.cursor)
        height = self.scrollable_content_region.height
        top = int(self.scroll_offset.y)
        if first < top:
            self.scroll_to(y=first, animate=False)
        elif first + self.lines > top + height:
            self.scroll_to(y=first + self.lines - height, animate=False)

    def action_move(self, dx: int, dy: int) -> None:
        """Left/right along the grid (wrapping to the next row); up/down a row."""
        target = self.cursor + dx + dy * self._cols
        if dy and not 0 <= target < len(self.keys):
            if dy > 0 and (self.cursor // self._cols) < (len(self.keys) - 1) // self._cols:
                target = len(self.keys) - 1  # a short last row: its last tile
            else:
                return
        self.move_cursor(target)

    def action_page(self, direction: int) -> None:
        rows = max(self.scrollable_content_region.height // (self.lines + GAP), 1)
        self.move_cursor(self.cursor + direction * rows * self._cols)

    def action_first(self) -> None:
        self.move_cursor(0)

    def action_last(self) -> None:
        self.move_cursor(len(self.keys) - 1)

    def action_open(self) -> None:
        key = self.cursor_key
        if key is not None:
            self.post_message(self.Open(key))

    def on_click(self, event: events.Click) -> None:
        """A click puts the cursor on a tile; a double click opens it."""
        offset = event.get_content_offset(self)
        if offset is None:
            return
        row, line = divmod(offset.y + int(self.scroll_offset.y), self.lines + GAP)
        col, cell = divmod(offset.x, self._tile_width + GAP)
        i = row * self._cols + col
        if (
            line >= self.lines
            or cell >= self._tile_width
            or col >= self._cols
            or i >= len(self.keys)
        ):
            return
        self.move_cursor(i)
        if event.chain >= 2:
            self.action_open()
