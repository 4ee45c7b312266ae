"""The alert list: what the rule engine raised, newest first; acknowledge, mute, filter.

A Line API ``ScrollView`` over the :class:`~tui.market.alerts.AlertBook` (the source of
truth for acknowledgements and mutes).  The widget mirrors what the book holds, oldest
first, in ``_held``, and the alerts that pass the filter in ``_rows``: :meth:`AlertList.add`
extends both with a frame's new alerts (filtering only those) and drops what the book's
bound dropped, so nothing old is looked at again.  A row is formatted once, when first
drawn, and cached by ``seq`` (``rows_built`` counts it); acknowledging one redraws one.

Each row: ``✓`` when acknowledged (the row dimmed), time (``HH:MM:SS`` in the injected
zone), severity mark (``!!`` alert, ``!`` warn, ``·`` info: readable without colour),
symbol, rule, then the alert's text and the figures behind it.  The border subtitle holds
the counts (shown/held, unacknowledged) and the active filter (:meth:`AlertList.status`).
"""

from __future__ import annotations

import textwrap
from collections import deque
from collections.abc import Iterable
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING, ClassVar, Final

from textual.binding import Binding, BindingType
from textual.cache import LRUCache
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from tui.market.alerts import SEVERITIES
from tui.widgets.glyphs import SEVERITY_MARKS
from tui.widgets.strips import Cell, Column, LineStyles, TableCaches, fit, pad, table_line
from tui.widgets.styles import theme_css

if TYPE_CHECKING:
    from tui.market.alerts import Alert, AlertBook

#: the mark in the lead cell of an acknowledged row
ACKED_MARK: Final = "✓"
#: the text column keeps at least this many cells: narrower, the time and rule columns go
WHAT_MIN: Final = 24
_RANK: Final = {name: i for i, name in enumerate(SEVERITIES)}


def _columns() -> list[Column]:
    return [
        Column("time", "TIME", 8, "left", drop=2),
        Column("sev", "SEV", 3, "left"),
        Column("symbol", "SCRIP", 11, "left", max_width=16),
        Column("rule", "RULE", 9, "left", drop=1, max_width=12),
    ]


#: how each figure of the rules (tui/market/rules.py; the log keeps their names) reads in
#: the list: plain words around the value
FIGURE_WORDS: Final[dict[str, str]] = {
    "spread_ticks": "spread {} ticks",
    "usual_ticks": "usual {} ticks",
    "times": "{}× usual",
    "seconds": "{} s",
    "usual": "usual {}",
    "volume": "volume {}",
    "qty": "qty {}",
    "price": "at {}",
    "ticks": "{} ticks",
    "pct": "{}%",
    "from": "from {}",
    "to": "to {}",
    "tbq": "bid qty {}",
    "tsq": "ask qty {}",
    "ratio": "{}× the other side",
    "behind_s": "{} s behind",
    "ft": "feed time {}",
    "silent_s": "silent {} s",
    "last": "last {}",
    "limit": "limit {}",
    "distance_pct": "{}% away",
    "waiting_qty": "waiting {}",
    "ticks_from_touch": "{} ticks away",
    "oid": "order {}",
    "count": "{} times",
    "bid": "bid {}",
    "ask": "ask {}",
    "side": "{} side",
    "direction": "{}",
}
#: figures shown as they are, never with separators (a time, an id)
_RAW: Final = frozenset({"ft", "oid"})


def figure_value(value: str | float) -> str:
    """Whole numbers with thousands separators; others to two decimals at most."""
    if isinstance(value, str | bool):
        return str(value)
    if isinstance(value, int) or float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def figures_text(figures: dict[str, str | int | float]) -> str:
    """The figures in plain words, ``spread 12 ticks · usual 1.5 ticks · 8× usual``; a
    name not known reads as itself (``_`` as a space)."""
    parts = []
    for name, value in figures.items():
        if name in ("times", "ratio") and (value == 0 or figures.get("usual") == 0):
            continue  # against nothing: no multiple to speak of
        text = str(value) if name in _RAW else figure_value(value)
        words = FIGURE_WORDS.get(name) or name.replace("_", " ") + " {}"
        if text == "1":
            words = words.replace("ticks", "tick")
        parts.append(words.format(text))
    return " · ".join(parts)


class AlertList(TableCaches, ScrollView, can_focus=True):
    """The alerts of ``book``, newest first; times shown in ``tz`` (None: local)."""

    DEFAULT_CSS: ClassVar[str] = theme_css("alerts")  # its own styles, mounted anywhere
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j,down", "cursor(1)", "Down", id="alerts.down", show=False),
        Binding("k,up", "cursor(-1)", "Up", id="alerts.up", show=False),
        Binding("pagedown", "page(1)", "Page down", id="alerts.page_down", show=False),
        Binding("pageup", "page(-1)", "Page up", id="alerts.page_up", show=False),
        Binding("g,home", "first", "Newest", id="alerts.first", show=False),
        Binding("G,end", "last", "Oldest", id="alerts.last", show=False),
        Binding("a", "ack", "Ack", id="alerts.ack"),
        Binding("A", "ack_all", "Ack all", id="alerts.ack_all"),
        Binding("x", "mute", "Mute rule for scrip", id="alerts.mute"),
        Binding("f", "cycle_rule", "Rule filter", id="alerts.rule"),
        Binding("s", "cycle_severity", "Min severity", id="alerts.severity"),
        Binding("enter", "open", "Open on desk", id="alerts.open"),
    ]
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "alerts--header",
        "alerts--cursor",
        "alerts--alert",
        "alerts--warn",
        "alerts--info",
        "alerts--symbol",
        "alerts--rule",
        "alerts--figures",
        "alerts--dim",
        "alerts--acked",
        "alerts--note",
    }

    class Open(Message):
        """The user asked for the scrip of this alert on the desk."""

        def __init__(self, key: str) -> None:
            super().__init__()
            self.key = key

    class Changed(Message):
        """Alerts were acknowledged: the tiles' colours may change."""

    def __init__(
        self,
        book: AlertBook,
        *,
        tz: tzinfo | None = None,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.book = book
        self.tz = tz
        #: show only this rule (None: every rule) and at least this severity
        self.rule: str | None = None
        self.min_severity = SEVERITIES[0]
        #: the row of the cursor, 0 the newest shown
        self.cursor = 0
        self._held: deque[Alert] = deque()
        self._rows: deque[Alert] = deque()
        self._acked: set[int] = set()
        #: (rule, key) pairs muted from this list
        self._mutes: set[tuple[str, str]] = set()
        self._total_seen = 0
        self._dropped_seen = 0
        self._columns = _columns()
        self._shown: list[Column] = []
        self._width = -1
        self._strips: LRUCache[int, Strip] = LRUCache(1024)
        self._cells: LRUCache[int, list[Cell]] = LRUCache(1024)
        self._header: Strip | None = None
        self._styles: LineStyles | None = None
        #: rows formatted (tests and benchmarks read it)
        self.rows_built = 0
        self.reload()

    # -- what is shown -------------------------------------------------------------------
    @property
    def rows(self) -> int:
        return len(self._rows)

    @property
    def held(self) -> int:
        return len(self._held)

    @property
    def unacked(self) -> int:
        return len(self._held) - len(self._acked)

    def shown(self) -> list[Alert]:
        """The alerts shown, newest first (as drawn)."""
        return list(reversed(self._rows))

    @property
    def cursor_alert(self) -> Alert | None:
        return self._rows[-1 - self.cursor] if self._rows else None

    def status(self) -> str:
        """``12/40 shown · 5 unacked · rule spread · ≥ warn · 1 muted``."""
        parts = [f"{len(self._rows):,}/{len(self._held):,} shown", f"{self.unacked:,} unacked"]
        if self.rule is not None:
            parts.append(f"rule {self.rule}")
        if self.min_severity != SEVERITIES[0]:
            parts.append(f"≥ {self.min_severity}")
        if self._mutes:
            parts.append(f"{len(self._mutes)} muted")
        if self.book.dropped:
            parts.append(f"{self.book.dropped:,} dropped")
        return " · ".join(parts)

    def _passes(self, alert: Alert) -> bool:
        return (self.rule is None or alert.rule == self.rule) and _RANK.get(
            alert.severity, 0
        ) >= _RANK[self.min_severity]

    # -- the feed side -------------------------------------------------------------------
    def add(self, alerts: Iterable[Alert]) -> int:
        """Show ``alerts`` the book just added (oldest first, the return of
        ``AlertBook.add``); how many pass the filter.  Only these are filtered, nothing is
        formatted until drawn; alerts that fell off the book's bound go from the list too.
        A muted pair's alerts are never shown, even if handed in."""
        book = self.book
        new = [alert for alert in alerts if not book.muted(alert.rule, alert.key)]
        self._held.extend(new)
        self._total_seen += len(new)
        if self._total_seen != book.total:  # alerts reached the book some other way
            self.reload()
            return sum(1 for alert in new if self._passes(alert))
        passed = [alert for alert in new if self._passes(alert)]
        self._rows.extend(passed)
        self._trim()
        if passed:
            self._arrived(len(passed))
        self._show_status()
        return len(passed)

    def reload(self) -> None:
        """Take everything from the book again (at start, and when the list missed some
        alerts, e.g. while its screen was not shown)."""
        book = self.book
        self._held = deque(reversed(book.alerts()))
        self._acked = {alert.seq for alert in self._held if book.acked(alert.seq)}
        self._total_seen, self._dropped_seen = book.total, book.dropped
        self._strips.clear()
        self._cells.clear()
        self._refilter()

    def sync(self) -> None:
        """Reload if the book moved on without this list (cheap when it did not)."""
        if self.book.total != self._total_seen:
            self.reload()

    def _trim(self) -> None:
        """Forget what the book's bound dropped (its oldest, in order)."""
        dropped = self.book.dropped - self._dropped_seen
        self._dropped_seen = self.book.dropped
        held, rows = self._held, self._rows
        for _ in range(min(dropped, len(held))):
            self._acked.discard(held.popleft().seq)
        oldest = held[0].seq if held else None
        while rows and (oldest is None or rows[0].seq < oldest):
            rows.popleft()
        if self.cursor >= len(rows):
            self.cursor = max(len(rows) - 1, 0)

    def _arrived(self, count: int) -> None:
        """``count`` rows arrived at the top.  At the top with the cursor on the newest,
        the view follows the newest; otherwise the cursor stays on its alert and the
        view on the same rows."""
        top = int(self.scroll_offset.y)
        following = self.cursor == 0 and top == 0
        self._update_virtual_size()
        if not following:
            self.cursor += count
            if top and self.is_mounted:
                self.scroll_to(y=top + count, animate=False)
        self.refresh()

    def _refilter(self) -> None:
        self._rows = deque(alert for alert in self._held if self._passes(alert))
        self.cursor = 0
        self._update_virtual_size()
        if self.is_mounted:
            self.scroll_to(y=0, animate=False)
        self.refresh()
        self._show_status()

    def _update_virtual_size(self) -> None:
        self.virtual_size = Size(0, len(self._rows) + 1)

    def _show_status(self) -> None:
        status = self.status()
        if self.border_subtitle != status:
            self.border_subtitle = status

    # -- acknowledging, muting, filtering --------------------------------------------------
    def ack(self, alert: Alert) -> None:
        if alert.seq in self._acked:
            return
        self.book.ack(alert.seq)
        self._acked.add(alert.seq)
        self._redraw(alert)
        self._show_status()
        self.post_message(self.Changed())

    def ack_all(self) -> None:
        self.book.ack_all()
        self._acked = {alert.seq for alert in self._held}
        self._strips.clear()
        self.refresh()
        self._show_status()
        self.post_message(self.Changed())

    def toggle_mute(self, alert: Alert) -> bool:
        """Mute ``alert``'s rule for its scrip (or unmute it); True if now muted.  Held
        alerts stay (history); new ones of the pair are not added."""
        pair = (alert.rule, alert.key)
        book = self.book
        if book.muted(*pair):
            book.unmute(*pair)
            self._mutes.discard(pair)
        else:
            book.mute(*pair)
            self._mutes.add(pair)
        self._show_status()
        return pair in self._mutes

    def set_filter(self, rule: str | None = None, min_severity: str = SEVERITIES[0]) -> None:
        """Show only ``rule`` (None: every rule) at ``min_severity`` or above."""
        if min_severity not in _RANK:
            raise ValueError(f"unknown severity {min_severity!r}: one of {', '.join(SEVERITIES)}")
        self.rule, self.min_severity = rule, min_severity
        self._refilter()

    def rules_present(self) -> list[str]:
        """The rules of the alerts held, sorted (what ``f`` cycles through)."""
        return sorted({alert.rule for alert in self._held})

    # -- keys ----------------------------------------------------------------------------
    def move_cursor(self, row: int) -> None:
        if not self._rows:
            return
        row = max(0, min(row, len(self._rows) - 1))
        old, self.cursor = self.cursor, row
        self.refresh_line(old + 1)
        self.refresh_line(row + 1)
        visible = max(self.scrollable_content_region.height - 1, 1)
        top = int(self.scroll_offset.y)
        if row < top:
            self.scroll_to(y=row, animate=False)
        elif row >= top + visible:
            self.scroll_to(y=row - visible + 1, animate=False)

    def action_cursor(self, delta: int) -> None:
        self.move_cursor(self.cursor + delta)

    def action_page(self, direction: int) -> None:
        page = max(self.scrollable_content_region.height - 2, 1)
        self.move_cursor(self.cursor + direction * page)

    def action_first(self) -> None:
        self.move_cursor(0)

    def action_last(self) -> None:
        self.move_cursor(len(self._rows) - 1)

    def action_ack(self) -> None:
        alert = self.cursor_alert
        if alert is not None:
            self.ack(alert)

    def action_ack_all(self) -> None:
        self.ack_all()

    def action_mute(self) -> None:
        alert = self.cursor_alert
        if alert is None:
            return
        if self.toggle_mute(alert):
            self.notify(f"Muted {alert.rule} for {alert.symbol}: its new alerts will not show "
                        "(x on one of its alerts unmutes).", title="alerts", timeout=5)  # fmt: skip
        else:
            self.notify(f"Unmuted {alert.rule} for {alert.symbol}.", title="alerts", timeout=3)

    def action_cycle_rule(self) -> None:
        """Every rule → each rule held, in order → every rule."""
        steps: list[str | None] = [None, *self.rules_present()]
        at = steps.index(self.rule) if self.rule in steps else 0
        self.set_filter(steps[(at + 1) % len(steps)], self.min_severity)

    def action_cycle_severity(self) -> None:
        at = SEVERITIES.index(self.min_severity)
        self.set_filter(self.rule, SEVERITIES[(at + 1) % len(SEVERITIES)])

    def action_open(self) -> None:
        alert = self.cursor_alert
        if alert is not None:
            self.post_message(self.Open(alert.key))

    # -- drawing -------------------------------------------------------------------------
    def _layout(self, width: int) -> None:
        super()._layout(width)
        self._shown = fit(self._columns, max(width - 2 - WHAT_MIN, 0))
        self._cells.clear()  # the columns moved

    def _redraw(self, alert: Alert) -> None:
        """Repaint ``alert``'s row (a key press: finding it may look through the rows)."""
        self._strips.discard(alert.seq)
        if self.cursor_alert is alert:
            row: int | None = self.cursor
        else:
            row = next((i for i, shown in enumerate(reversed(self._rows)) if shown is alert), None)
        if row is not None:
            self.refresh_line(row + 1)

    def _row_cells(self, alert: Alert) -> list[Cell]:
        """The row as cells (cached by seq; the acknowledged state is added when styled)."""
        cells = self._cells.get(alert.seq)
        if cells is not None:
            return cells
        self.rows_built += 1
        severity = f"alerts--{alert.severity}" if alert.severity in _RANK else ""
        columns = {
            "time": (
                datetime.fromtimestamp(alert.time, self.tz).strftime("%H:%M:%S"),
                "alerts--dim",
            ),
            "sev": (SEVERITY_MARKS.get(alert.severity, "?"), severity),
            "symbol": (alert.symbol, "alerts--symbol"),
            "rule": (alert.rule, f"alerts--rule {severity}"),
        }
        self._widen(columns)
        cells = table_line(self._shown, columns)[1:]
        used = 1 + sum(len(text) for text, _ in cells)  # the lead cell, the columns
        room = max(self._width - used, 0)
        text, figures = " " + alert.text, figures_text(alert.figures)
        if figures and len(text) + 3 < room:  # the figures after the text, cut with a …
            cells += [(text, ""), (pad("  " + figures, room - len(text)), "alerts--figures")]
        else:
            cells.append((pad(text, room), ""))
        self._cells[alert.seq] = cells
        return cells

    def _line(self, alert: Alert) -> list[Cell]:
        cells = self._row_cells(alert)
        if alert.seq not in self._acked:
            return [(" ", ""), *cells]
        return [
            (ACKED_MARK, "alerts--acked"),
            *((t, f"{s} alerts--acked".strip()) for t, s in cells),
        ]

    def _empty_line(self, y: int, width: int, styles: LineStyles) -> Strip:
        note = "No alerts yet: patterns worth a look appear here as the rules find them."
        if self._held:
            note = f"No alert passes the filter ({self.status()}): f and s change it."
        lines = textwrap.wrap(note, max(width - 2, 8))
        if y - 1 < len(lines):
            return styles.strip([(" " + lines[y - 1], "alerts--note")], width)
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
                titles = {c.key: (c.title, "") for c in self._shown}
                line = [*table_line(self._shown, titles), (" WHAT", "")]
                self._header = LineStyles(self, "alerts--header").strip(line, width)
            return self._header
        if not self._rows:
            return self._empty_line(y, width, styles)
        row = y - 1 + int(self.scroll_offset.y)
        if row >= len(self._rows):
            return Strip.blank(width, self.rich_style)
        alert = self._rows[-1 - row]
        if row == self.cursor:
            return LineStyles(self, "alerts--cursor").strip(self._line(alert), width)
        strip = self._strips.get(alert.seq)
        if strip is None:
            strip = self._strips[alert.seq] = styles.strip(self._line(alert), width)
        return strip
