"""The health panel: the feed connection's figures, as the client reports them.

It reads a ``Health`` (tui/feed/health.py; anything with the same attributes will do, see
:class:`HealthLike`) and the decode-error counts by kind.  The endpoint arrives already
redacted by the client; nothing here ever sees the token.

Lines come most important first, so a short pane (an 80x24 desk leaves it ~6 lines) keeps
what a trader needs: is the feed up (or when is the next try), how fast and how late is
the data, is anything malformed.  What is wrong comes before what is merely known: while
the feed is not live, its last error moves up under the state.  A tall pane shows all.

The app calls :meth:`HealthPanel.show` on a timer (every 0.5 s); each call adds one
sample of the message rate to the sparkline.  The panel is redrawn only when a line it
can show changed: the lines are cheap to make (a dozen short strings, twice a second) and
are themselves the figures compared.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping, Sequence
from typing import ClassVar, Final, Protocol

from tui.widgets.spark import BARS, spark
from tui.widgets.strips import Cell, Line, LinesWidget, pad, pad_middle
from tui.widgets.styles import theme_css
from tui.wire.prices import format_qty
from tui.wire.times import seconds_text

LABEL: Final = 11
#: authenticated connections the feed allows per token (docs/PROTOCOL.md)
CONNECTION_LIMIT: Final = 2
#: message-rate samples kept for the sparkline (one per ``show``: 15 s at 2 a second)
SAMPLES: Final = 30
#: feed lag from which the lag is shown as a warning, seconds
LAG_WARN: Final = 1.0
#: width of the panel's lines before it is laid out (tests, the first ``show``)
UNSIZED: Final = 60
STATE_STYLES: Final = {
    "live": "health--ok",
    "connecting": "health--warn",
    "authenticating": "health--warn",
    "backoff": "health--warn",
    "auth-failed": "health--bad",
    "failed": "health--bad",
    "session-limit": "health--bad",
    "stopped": "health--dim",
    "idle": "health--dim",
}


class HealthLike(Protocol):
    """The attributes of ``tui.feed.health.Health`` that the panel shows."""

    state: str
    endpoint: str
    level: str
    connected_since: float | None
    reconnects: int
    next_retry_at: float | None
    messages: int
    bytes: int
    msg_rate: float
    lag: float | None
    last_error: str
    refused: int
    last_refusal: str
    subscriptions: int
    connections_used: int


class HealthPanel(LinesWidget):
    DEFAULT_CSS: ClassVar[str] = theme_css("health")  # its own styles, mounted anywhere
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "health--label",
        "health--ok",
        "health--warn",
        "health--bad",
        "health--dim",
        "health--spark",
    }

    def __init__(self, *, name: str | None = None, id: str | None = None) -> None:
        super().__init__(name=name, id=id)
        #: the lines that can show now (what was last drawn); None before the first show
        self._figures: tuple[tuple[Cell, ...], ...] | None = None
        self._health: HealthLike | None = None
        self._errors: dict[str, int] = {}
        self._fields: dict[str, int] = {}
        self._now = 0.0
        self._wall: float | None = None
        self._rates: deque[float] = deque(maxlen=SAMPLES)
        #: the key that tries a failed feed again, shown beside the state (None: not offered)
        self.retry_key: str | None = None

    def show(
        self,
        health: HealthLike | None,
        errors: Mapping[str, int],
        now: float,
        *,
        wall: float | None = None,
        fields: Mapping[str, int] | None = None,
    ) -> None:
        """Show these figures; redrawn only when a line that fits the pane changed.

        ``fields``: bad values by the field they came in (``DecodeErrors.by_field``), shown
        under the bad frames when there are any.

        ``now`` is the monotonic clock of ``health.next_retry_at`` (the retry countdown);
        ``wall`` is epoch seconds, the clock of ``health.connected_since`` (the uptime,
        not shown without it).  Each call adds ``health.msg_rate`` to the sparkline.
        """
        if health is not None:
            self._rates.append(health.msg_rate)
        self._health, self._errors, self._now, self._wall = health, dict(errors), now, wall
        self._fields = dict(fields) if fields else {}
        lines = self.build(self.size.width or UNSIZED)
        height = self.size.height or len(lines)
        figures = tuple(tuple(line) for line in lines[:height])
        if figures != self._figures:
            self._figures = figures
            self.invalidate(lines if self.size.width else None)  # built for its width

    @property
    def rates(self) -> list[float]:
        """The sparkline's samples, oldest first."""
        return list(self._rates)

    def build(self, width: int) -> list[Line]:
        """The lines for ``width`` columns, most important first."""
        width = max(width - 2, 10)
        value = width - LABEL
        health = self._health
        ranked: list[tuple[int, Line]] = []

        def row(rank: int, label: str, *cells: Cell) -> None:
            ranked.append((rank, [(" ", ""), (pad(label, LABEL), "health--label"), *cells]))

        if health is None:
            row(0, "state", ("no feed", "health--dim"))
        else:
            live = health.state == "live"
            row(0, "state", *self._state(health))
            row(1, "rate", *self._rate(health, value))
            row(2, "lag", *_lag(health.lag))
            if health.last_error:
                # the reason the feed is down ranks under its state; once live, it is history
                # (dimmed, with how long ago)
                text = health.last_error
                at = getattr(health, "last_error_at", None)
                if at is not None and self._wall is not None:
                    text = f"{uptime_text(self._wall - at)} ago · {text}"
                row(
                    0 if not live else 8,
                    "last error",
                    (pad(text, value), "health--dim"),
                )
            row(4, "reconnects", (str(health.reconnects), ""))
            used = health.connections_used
            row(
                5,
                "connection",
                (
                    f"{used} of {CONNECTION_LIMIT}",
                    "health--warn" if used >= CONNECTION_LIMIT else "",
                ),
                (f" · {health.subscriptions} subscribed", "health--dim"),
            )
            row(6, "endpoint", (pad_middle(health.endpoint, value), ""))
            row(7, "received", (f"{format_qty(health.messages)} msgs · {_size(health.bytes)}", ""))
            if health.refused:
                text = f"{health.refused} · {health.last_refusal}"
                row(9, "refused", (pad(text, value), "health--dim"))
        row(3, "bad frames", *_errors(self._errors, value))
        if self._fields:
            row(3, "bad fields", *_errors(self._fields, value))
        ranked.sort(key=lambda item: item[0])  # stable: equal ranks keep their order
        return [line for _, line in ranked]

    def _state(self, health: HealthLike) -> list[Cell]:
        """``live · up 1h02m · L2`` or ``backoff · retry in 2.5 s · L2``."""
        cells: list[Cell] = [(health.state, STATE_STYLES.get(health.state, ""))]
        if self.retry_key is not None:
            cells.append((f" · {self.retry_key} to retry", "health--warn"))
        if health.state == "live":
            if health.connected_since is not None and self._wall is not None:
                cells.append((f" · up {uptime_text(self._wall - health.connected_since)}", ""))
        elif health.next_retry_at is not None:
            wait = max(health.next_retry_at - self._now, 0.0)
            cells.append((f" · retry in {seconds_text(wait)}", "health--warn"))
        if health.level:
            cells.append((f" · {health.level}", "health--dim"))
        upstream = getattr(health, "upstream", "")
        if upstream == "live":
            cells.append((" · via relay", "health--dim"))
        elif upstream:
            cells.append((f" · via relay · upstream {upstream}", "health--warn"))
        return cells

    def _rate(self, health: HealthLike, width: int) -> list[Cell]:
        """``20,012 msg/s ▅▆▇█▇▆``: the sparkline takes what the figure leaves."""
        figure = f"{format_qty(round(health.msg_rate))} msg/s"
        room = min(width - len(figure) - 1, SAMPLES)
        if room < 4 or not self._rates:
            return [(figure, "")]
        return [(figure, ""), (" ", ""), (_spark(list(self._rates)[-room:], room), "health--spark")]


def _lag(lag: float | None) -> list[Cell]:
    if lag is None:
        return [("—", "health--dim")]
    return [(seconds_text(max(lag, 0.0)), "health--warn" if lag >= LAG_WARN else "")]


def _errors(errors: Mapping[str, int], width: int) -> list[Cell]:
    """Bad frames by kind, the commonest first."""
    counted = sorted(((kind, n) for kind, n in errors.items() if n), key=lambda i: (-i[1], i[0]))
    if not counted:
        return [("none", "health--dim")]
    text = " · ".join(f"{kind} {format_qty(n)}" for kind, n in counted)
    return [(pad(text, width), "health--bad")]


def _spark(values: Sequence[float], width: int) -> str:
    """The rate's sparkline, scaled from zero: ``spark`` scales between the lowest and the
    highest sample, which would blow a steady feed's jitter up to the full height, so a
    zero is put first to pin the floor (and cut off again).  No messages: the bottom bar."""
    shown = values[-width:] if width > 0 else []
    if max(shown, default=0.0) <= 0:
        return BARS[0] * len(shown)
    return spark([0.0, *shown], len(shown) + 1)[1:]


def uptime_text(seconds: float) -> str:
    """``12s``, ``4m12s``, ``1h02m``, ``3d04h``: two units, the larger first."""
    s = max(int(seconds), 0)
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    if s < 86400:
        return f"{s // 3600}h{s % 3600 // 60:02d}m"
    return f"{s // 86400}d{s % 86400 // 3600:02d}h"


def _size(n: int) -> str:
    """Bytes for people: ``25.0 MB``."""
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GB"
