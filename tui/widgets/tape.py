"""The L2 tape: order events and executions, newest at the top; filtered, pausable.

A Line API ``ScrollView``.  Three bounded collections, oldest first:

- ``_kept``: the events of the selected scrip (or of every scrip) taken from
  ``Market.tape`` once a frame, at most ``keep`` (the store; filters never drop from it);
- ``_rows``: those of ``_kept`` that pass the filter, extended with the new events that
  pass (a frame's worth, never a re-filter of everything) and trimmed as ``_kept`` drops
  its oldest: what is shown while live;
- while paused, a frozen copy of what was kept and shown at that moment (:class:`_Pause`):
  the view stays still to be scrolled back while ``_kept``/``_rows`` go on filling, so
  resuming shows everything at once.  What arrives beyond ``keep`` while paused is lost
  and counted.

Each event's row is formatted once, when first drawn, and cached by its tape position, so
a frame formats only new rows that are on screen (``rows_built`` counts them).  Scrolled
down while live, the view stays on the same events while new ones arrive above.
"""

from __future__ import annotations

import textwrap
from collections import deque
from dataclasses import dataclass
from datetime import tzinfo
from itertools import islice
from typing import TYPE_CHECKING, ClassVar, Final

from textual.binding import Binding, BindingType
from textual.cache import LRUCache
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from tui.market.tape import TapeFilter
from tui.widgets.strips import (
    Cell,
    Column,
    LineStyles,
    TableCaches,
    clock_text,
    header_strip,
    table_line,
)
from tui.widgets.styles import theme_css
from tui.wire.prices import DEFAULT_PRECISION, format_qty, format_units, to_int, to_units

if TYPE_CHECKING:
    from collections.abc import Sequence

    from tui.market.store import Market
    from tui.market.tape import TapeEvent

ACTIONS = {"A": "add", "M": "modify", "X": "cancel", "T": "TRADE"}
SIDES = {"B": ("BUY", "tape--bid"), "S": ("SELL", "tape--ask")}
#: ``b`` cycles the side filter through these
SIDE_STEPS: Final[tuple[str | None, ...]] = (None, "B", "S")
#: ``m`` cycles the minimum quantity through these
MIN_QTY_STEPS: Final = (0, 100, 500, 1_000, 5_000, 10_000)
#: the mark in the lead cell of a large order's row (readable without colour)
LARGE_MARK: Final = "◆"


def _columns(all_scrips: bool) -> list[Column]:
    columns = [
        Column("time", "TIME", 8, "left", drop=3),
        Column("symbol", "SCRIP", 10, "left", drop=2, max_width=14),
        Column("side", "SIDE", 4, "left"),
        Column("action", "ACTION", 6, "left"),
        Column("price", "PRICE", 8),
        Column("qty", "QTY", 6),
        Column("oid", "ORDER", 8, "left", drop=4, max_width=16),
    ]
    return columns if all_scrips else [c for c in columns if c.key != "symbol"]


def _side(side: str | None) -> str | None:
    """``"B"``/``"S"`` from any spelling the app may pass (``"buy"``, ``"S"``, None/"all")."""
    if side is None:
        return None
    text = side.strip().upper()
    found = {"": None, "ALL": None, "B": "B", "BUY": "B", "S": "S", "SELL": "S"}
    if text not in found:
        raise ValueError(f"unknown tape side {side!r}: use 'buy', 'sell' or None")
    return found[text]


@dataclass(slots=True)
class _Pause:
    """The frozen view and what happened since (all counts are of in-scope events)."""

    #: market tape position when paused (later events are "new")
    seq: int
    #: everything kept at that moment, so a filter change while paused can re-filter it
    kept: tuple[TapeEvent, ...]
    #: what is shown: those of ``kept`` that pass the filter, oldest first
    rows: Sequence[TapeEvent]
    #: events that arrived since
    arrived: int = 0
    #: of those, the ones still kept that pass the filter (shown on resume)
    fresh: int = 0
    #: events the market's tape no longer held when taken (the reader fell behind)
    missed: int = 0


class L2Tape(TableCaches, ScrollView, can_focus=True):
    DEFAULT_CSS: ClassVar[str] = theme_css("tape")  # its own styles, mounted anywhere
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("space", "toggle_pause", "Pause", id="tape.pause"),
        Binding("b", "cycle_side", "Side", id="tape.side"),
        Binding("m", "cycle_min_qty", "Min qty", id="tape.min_qty"),
        Binding("j,down", "line(1)", "Down", id="tape.down", show=False),
        Binding("k,up", "line(-1)", "Up", id="tape.up", show=False),
        Binding("pagedown", "page(1)", "Page down", id="tape.page_down", show=False),
        Binding("pageup", "page(-1)", "Page up", id="tape.page_up", show=False),
        Binding("g,home", "newest", "Newest", id="tape.home", show=False),
        Binding("G,end", "oldest", "Oldest", id="tape.end", show=False),
    ]
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "tape--header",
        "tape--bid",
        "tape--ask",
        "tape--trade",
        "tape--cancel",
        "tape--large",
        "tape--dim",
        "tape--note",
    }

    def __init__(
        self,
        market: Market,
        *,
        key: str | None = None,
        tz: tzinfo | None = None,
        keep: int = 2000,
        large_qty: int = 5000,
        name: str | None = None,
        id: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id)
        self.market = market
        self.key = key
        self.tz = tz
        #: orders of at least this quantity are marked (``◆``, ``tape--large``)
        self.large_qty = large_qty
        #: shown when there is nothing on the tape (e.g. "no L2 data on an L1 feed")
        self.note = ""
        self.filter = TapeFilter()
        self._kept: deque[TapeEvent] = deque(maxlen=max(keep, 1))
        self._rows: deque[TapeEvent] = deque()
        self._pause: _Pause | None = None
        self._seq = 0
        self._columns = _columns(key is None)
        self._shown: list[Column] = []
        self._width = -1
        self._strips: LRUCache[int, Strip] = LRUCache(512)
        self._header: Strip | None = None
        self._styles: LineStyles | None = None
        #: rows formatted (tests and benchmarks read it)
        self.rows_built = 0
        self._load()

    # -- what is shown -------------------------------------------------------------------
    @property
    def rows(self) -> int:
        """Rows in the view (those that pass the filter; while paused, the frozen ones)."""
        return len(self._view)

    @property
    def kept(self) -> int:
        """Events held for the current scope, whatever the filter (at most ``keep``)."""
        return len(self._kept)

    @property
    def keep(self) -> int:
        return self._kept.maxlen or 0

    @property
    def seq(self) -> int:
        """The market tape position this view has taken events up to."""
        return self._seq

    @property
    def paused(self) -> bool:
        return self._pause is not None

    @property
    def pending(self) -> int:
        """Events that arrived while paused, pass the filter and will show on resume."""
        return self._pause.fresh if self._pause is not None else 0

    @property
    def dropped(self) -> int:
        """Events that arrived while paused and are lost (beyond ``keep``, or missed)."""
        pause = self._pause
        if pause is None:
            return 0
        return max(pause.arrived - self.keep, 0) + pause.missed

    @property
    def _view(self) -> Sequence[TapeEvent]:
        return self._pause.rows if self._pause is not None else self._rows

    def shown(self) -> list[TapeEvent]:
        """The events in the view, newest first (as drawn)."""
        return list(reversed(self._view))

    def status(self) -> str:
        """The active filter and pause state, e.g. ``BUY · ≥1,000 · paused (+312)``;
        ``""`` when live and unfiltered.  Also kept in the border subtitle."""
        parts: list[str] = []
        if self.filter.side is not None:
            parts.append(SIDES[self.filter.side][0])
        if self.filter.min_qty:
            parts.append(f"≥{self.filter.min_qty:,}")
        if self._pause is not None:
            counts = f"+{self.pending:,}"
            if self.dropped:
                counts += f", {self.dropped:,} dropped"
            parts.append(f"paused ({counts})")
        return " · ".join(parts)

    # -- the feed side -------------------------------------------------------------------
    def set_key(self, key: str | None) -> None:
        """Show the events of ``key`` (None: every scrip), reloaded from the market's tape.

        A paused tape stays paused, frozen on the new scope's events."""
        self.key = key
        self._columns = _columns(key is None)
        self._load()
        self._width = -1
        if self._pause is not None:
            self._freeze()
        self._changed(top=True)

    def set_note(self, note: str) -> None:
        if note != self.note:
            self.note = note
            if not self._view:
                self.refresh()

    def set_filter(self, side: str | None, min_qty: int) -> None:
        """Show only ``side`` (``"buy"``/``"sell"``/``"B"``/``"S"``; None: both) and
        quantities of at least ``min_qty``.  Re-filters what is kept: nothing is dropped,
        so widening the filter brings events back."""
        wanted = TapeFilter(_side(side), max(int(min_qty), 0))
        if wanted == self.filter:
            return
        self.filter = wanted
        self._rows = deque(wanted.select(self._kept))
        pause = self._pause
        if pause is not None:
            pause.rows = wanted.select(pause.kept)
            pause.fresh = sum(1 for event in self._rows if event.seq > pause.seq)
        self._changed(top=True)

    def pause(self) -> None:
        """Freeze the view; events go on arriving (up to ``keep``) and show on resume."""
        if self._pause is None:
            self._freeze()
            self._show_status()

    def resume(self) -> None:
        """Show everything kept at once, newest at the top."""
        if self._pause is not None:
            self._pause = None
            self._changed(top=True)

    def pull(self) -> int:
        """Take the events appended to the market's tape since the last call; how many
        were for this scope.  Filters only the new events; formats nothing."""
        tape = self.market.tape
        new = tape.since(self._seq)
        missed = tape.total - self._seq - len(new)
        self._seq = tape.total
        pause = self._pause
        if missed and pause is not None and self.key is None:
            pause.missed += missed  # of a scope we cannot tell: counted only for "all"
        if self.key is not None:
            key = self.key
            new = [event for event in new if event.key == key]
        if not new:
            return 0
        kept, rows = self._kept, self._rows
        kept.extend(new)
        passed = self.filter.select(new)
        rows.extend(passed)
        oldest = kept[0].seq
        trimmed = trimmed_fresh = 0
        while rows and rows[0].seq < oldest:  # gone from the store: gone from the view
            gone = rows.popleft()
            trimmed += 1
            if pause is not None and gone.seq > pause.seq:
                trimmed_fresh += 1
        if pause is not None:
            pause.arrived += len(new)
            pause.fresh += len(passed) - trimmed_fresh
            self._show_status()
            return len(new)
        if not passed and not trimmed:
            return len(new)  # none shown (filtered out): the view stands
        top = int(self.scroll_offset.y)
        self._update_virtual_size()
        if top and passed:  # keep looking at the same events
            self.scroll_to(y=top + len(passed), animate=False)
        self.refresh()
        return len(new)

    def _load(self) -> None:
        """Fill ``_kept`` from the market's tape for the current scope (newest ``keep``)."""
        tape = self.market.tape
        self._kept.clear()
        self._strips.clear()
        self._seq = tape.total
        wanted = reversed(tape.events)
        if self.key is not None:
            key = self.key
            wanted = (event for event in wanted if event.key == key)
        self._kept.extend(reversed(list(islice(wanted, self._kept.maxlen))))
        self._rows = deque(self.filter.select(self._kept))
        self._update_virtual_size()

    def _freeze(self) -> None:
        self._pause = _Pause(self._seq, tuple(self._kept), list(self._rows))

    def _changed(self, *, top: bool) -> None:
        """The view was replaced: size it, optionally go to the newest, redraw, retitle."""
        self._update_virtual_size()
        if top and self.is_mounted:
            self.scroll_to(y=0, animate=False)
        self.refresh()
        self._show_status()

    def _update_virtual_size(self) -> None:
        """Size the view to its rows.  While the rows overflow the pane before and after,
        only the scrollbar's thumb moves: it is updated as ``ScrollView`` does after a
        layout, without laying the screen out again (a layout a frame while the tape fills
        costs the desk more than the tape's own lines)."""
        size = Size(0, len(self._view) + 1)
        if size == self.virtual_size:
            return
        viewport = self.scrollable_content_region.height
        if self.is_mounted and viewport and min(size.height, self.virtual_size.height) > viewport:
            self.set_reactive(L2Tape.virtual_size, size)
            self._scroll_update(size)
        else:
            self.virtual_size = size

    def _show_status(self) -> None:
        status = self.status()
        if self.border_subtitle != status:
            self.border_subtitle = status

    # -- keys ----------------------------------------------------------------------------
    def action_toggle_pause(self) -> None:
        if self._pause is None:
            self.pause()
        else:
            self.resume()

    def action_cycle_side(self) -> None:
        side = self.filter.side
        following = SIDE_STEPS[(SIDE_STEPS.index(side) + 1) % len(SIDE_STEPS)]
        self.set_filter(following, self.filter.min_qty)

    def action_cycle_min_qty(self) -> None:
        """The next step above the current minimum (an exact value set by the app goes to
        the next step up), after the last back to 0."""
        current = self.filter.min_qty
        following = next((step for step in MIN_QTY_STEPS if step > current), 0)
        self.set_filter(self.filter.side, following)

    def action_line(self, delta: int) -> None:
        self.scroll_to(y=self.scroll_offset.y + delta, animate=False)

    def action_page(self, direction: int) -> None:
        page = max(self.scrollable_content_region.height - 1, 1)
        self.scroll_to(y=self.scroll_offset.y + direction * page, animate=False)

    def action_newest(self) -> None:
        self.scroll_to(y=0, animate=False)

    def action_oldest(self) -> None:
        self.scroll_to(y=self.max_scroll_y, animate=False)

    # -- drawing -------------------------------------------------------------------------
    def _cells(self, event: TapeEvent) -> tuple[dict[str, Cell], bool]:
        """The row's cells, and whether the order is large."""
        self.rows_built += 1
        scrip = self.market.view(event.key)
        pp = scrip.pp if scrip is not None else DEFAULT_PRECISION
        units = to_units(event.price, pp)
        qty = to_int(event.qty)
        large = qty is not None and qty >= self.large_qty
        side, side_style = SIDES.get(event.side, (event.side, ""))
        action = ACTIONS.get(event.action, event.action)
        style = {"T": "tape--trade", "X": "tape--cancel"}.get(event.action, "")
        figures = f"{style} tape--large" if large else style
        return {
            "time": (clock_text(event.ft, self.tz), "tape--dim"),
            "symbol": (scrip.symbol if scrip else event.key, ""),
            "side": (side, side_style),
            "action": (action, style),
            "price": (format_units(units, pp) if units is not None else "?", figures),
            "qty": (format_qty(qty) or "?", figures),
            "oid": (event.oid, "tape--dim"),
        }, large

    def _empty_line(self, y: int, width: int, styles: LineStyles) -> Strip:
        """Line ``y`` of an empty view: the note, or why a filter shows nothing."""
        note = self.note
        if self._kept and self.filter.active:
            note = f"Nothing on the tape passes the filter ({self.status()})."
        elif self._pause is not None and self._kept:
            note = "Paused before any event arrived: space shows them."
        lines = textwrap.wrap(note, max(width - 2, 8))
        if y - 1 < len(lines):
            return styles.strip([(" " + lines[y - 1], "tape--note")], width)
        return Strip.blank(width, self.rich_style)

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        if width != self._width:
            self._layout(width)
        styles = self._styles
        if styles is None:
            styles = self._styles = LineStyles(self)
        if y == 0:
            if self._header is None:
                self._header = header_strip(self, self._shown, "tape--header", width)
            return self._header
        view = self._view
        if not view:
            return self._empty_line(y, width, styles)
        row = y - 1 + int(self.scroll_offset.y)
        if row >= len(view):
            return Strip.blank(width, self.rich_style)
        event = view[-1 - row]
        strip = self._strips.get(event.seq)
        if strip is None:
            cells, large = self._cells(event)
            self._widen(cells)
            lead = (LARGE_MARK, "tape--large") if large else (" ", "")
            strip = styles.strip(table_line(self._shown, cells, lead=lead), width)
            self._strips[event.seq] = strip
        return strip
