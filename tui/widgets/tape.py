"""The L2 tape: order events and executions, newest at the top.

A Line API ``ScrollView``.  It keeps its own bounded list of the events it shows (those of
the selected scrip, or of every scrip), taken from ``Market.tape`` once a frame; each
event's row is formatted once and cached by its tape position.  Scrolled down, the view
stays on the same events while new ones arrive above.
"""

from __future__ import annotations

import textwrap
from collections import deque
from datetime import tzinfo
from itertools import islice
from typing import TYPE_CHECKING, ClassVar

from textual.cache import LRUCache
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from tui.market.prices import DEFAULT_PRECISION, format_qty, format_units, to_int, to_units
from tui.widgets.strips import (
    Cell,
    Column,
    LineStyles,
    TableCaches,
    clock_text,
    header_strip,
    table_line,
)

if TYPE_CHECKING:
    from tui.market.store import Market
    from tui.market.tape import TapeEvent

ACTIONS = {"A": "add", "M": "modify", "X": "cancel", "T": "TRADE"}
SIDES = {"B": ("BUY", "tape--bid"), "S": ("SELL", "tape--ask")}


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


class L2Tape(TableCaches, ScrollView, can_focus=True):
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "tape--header",
        "tape--bid",
        "tape--ask",
        "tape--trade",
        "tape--cancel",
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
        name: str | None = None,
        id: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id)
        self.market = market
        self.key = key
        self.tz = tz
        #: shown when there is nothing on the tape (e.g. "no L2 data on an L1 feed")
        self.note = ""
        self._rows: deque[TapeEvent] = deque(maxlen=keep)
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

    @property
    def rows(self) -> int:
        return len(self._rows)

    @property
    def seq(self) -> int:
        """The market tape position this view has taken events up to."""
        return self._seq

    # -- the feed side -------------------------------------------------------------------
    def set_key(self, key: str | None) -> None:
        """Show the events of ``key`` (None: every scrip), reloaded from the market's tape."""
        self.key = key
        self._columns = _columns(key is None)
        self._load()
        self._width = -1
        if self.is_mounted:
            self.scroll_to(y=0, animate=False)
        self.refresh()

    def set_note(self, note: str) -> None:
        if note != self.note:
            self.note = note
            if not self._rows:
                self.refresh()

    def pull(self) -> int:
        """Take the events appended to the market's tape since the last call."""
        tape = self.market.tape
        new = tape.since(self._seq)
        self._seq = tape.total
        if self.key is not None:
            new = [event for event in new if event.key == self.key]
        if not new:
            return 0
        self._rows.extend(new)
        top = int(self.scroll_offset.y)
        self._update_virtual_size()
        if top:  # keep looking at the same events
            self.scroll_to(y=top + len(new), animate=False)
        self.refresh()
        return len(new)

    def _load(self) -> None:
        tape = self.market.tape
        self._rows.clear()
        self._strips.clear()
        self._seq = tape.total
        wanted = reversed(tape.events)
        if self.key is not None:
            wanted = (event for event in wanted if event.key == self.key)
        self._rows.extend(reversed(list(islice(wanted, self._rows.maxlen))))
        self._update_virtual_size()

    def _update_virtual_size(self) -> None:
        self.virtual_size = Size(0, len(self._rows) + 1)

    # -- drawing -------------------------------------------------------------------------
    def _cells(self, event: TapeEvent) -> dict[str, Cell]:
        self.rows_built += 1
        scrip = self.market.view(event.key)
        pp = scrip.pp if scrip is not None else DEFAULT_PRECISION
        units = to_units(event.price, pp)
        side, side_style = SIDES.get(event.side, (event.side, ""))
        action = ACTIONS.get(event.action, event.action)
        style = {"T": "tape--trade", "X": "tape--cancel"}.get(event.action, "")
        return {
            "time": (clock_text(event.ft, self.tz), "tape--dim"),
            "symbol": (scrip.symbol if scrip else event.key, ""),
            "side": (side, side_style),
            "action": (action, style),
            "price": (format_units(units, pp) if units is not None else "?", style),
            "qty": (format_qty(to_int(event.qty)) or "?", style),
            "oid": (event.oid, "tape--dim"),
        }

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
        row = y - 1 + int(self.scroll_offset.y)
        if not self._rows:
            note = textwrap.wrap(self.note, max(width - 2, 8))
            if y - 1 < len(note):
                return styles.strip([(" " + note[y - 1], "tape--note")], width)
            return Strip.blank(width, self.rich_style)
        if row >= len(self._rows):
            return Strip.blank(width, self.rich_style)
        event = self._rows[-1 - row]
        strip = self._strips.get(event.seq)
        if strip is None:
            cells = self._cells(event)
            self._widen(cells)
            strip = styles.strip(table_line(self._shown, cells), width)
            self._strips[event.seq] = strip
        return strip
