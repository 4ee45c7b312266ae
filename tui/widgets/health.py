"""The health panel: the feed connection's figures, as the client reports them.

It reads a ``Health`` (tui/feed/health.py; anything with the same attributes will do, see
:class:`HealthLike`) and the decode-error counts by kind.  The endpoint arrives already
redacted by the client; nothing here ever sees the token.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar, Protocol

from tui.market.prices import format_qty
from tui.widgets.strips import Cell, Line, LinesWidget, pad, pad_middle

LABEL = 11
STATE_STYLES = {
    "live": "health--ok",
    "connecting": "health--warn",
    "authenticating": "health--warn",
    "backoff": "health--warn",
    "auth-failed": "health--bad",
    "session-limit": "health--bad",
    "stopped": "health--dim",
    "idle": "health--dim",
}


class HealthLike(Protocol):
    """The attributes of ``tui.feed.health.Health`` that the panel shows."""

    state: str
    endpoint: str
    level: str
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


class HealthPanel(LinesWidget):
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "health--label",
        "health--ok",
        "health--warn",
        "health--bad",
        "health--dim",
    }

    def __init__(self, *, name: str | None = None, id: str | None = None) -> None:
        super().__init__(name=name, id=id)
        self._figures: tuple[object, ...] | None = None
        self._health: HealthLike | None = None
        self._errors: dict[str, int] = {}
        self._now = 0.0

    def show(self, health: HealthLike | None, errors: Mapping[str, int], now: float) -> None:
        """Show these figures; redrawn only when something shown moved."""
        figures = _figures(health, errors, now)
        if figures == self._figures:
            return
        self._figures = figures
        self._health, self._errors, self._now = health, dict(errors), now
        self.invalidate()

    def build(self, width: int) -> list[Line]:
        width = max(width - 2, 10)
        health = self._health
        lines: list[Line] = []

        def row(label: str, *cells: Cell) -> None:
            lines.append([(" ", ""), (pad(label, LABEL), "health--label"), *cells])

        if health is None:
            row("state", ("no feed", "health--dim"))
        else:
            state: list[Cell] = [(health.state, STATE_STYLES.get(health.state, ""))]
            if health.level:
                state.append((f" · {health.level}", ""))
            state.append((f" · {health.subscriptions} subscribed", "health--dim"))
            row("state", *state)
            row("endpoint", (pad_middle(health.endpoint, width - LABEL), ""))
            lag = "—" if health.lag is None else f"{health.lag:.2f} s"
            row("rate", (f"{format_qty(round(health.msg_rate))} msg/s", ""), (f" · lag {lag}", ""))
            received = f"{format_qty(health.messages)} msgs · {_size(health.bytes)}"
            row("received", (received, ""))
            reconnects: list[Cell] = [(str(health.reconnects), "")]
            if health.next_retry_at is not None and health.state != "live":
                wait = max(health.next_retry_at - self._now, 0.0)
                reconnects.append((f" · retry in {wait:.1f} s", "health--warn"))
            row("reconnects", *reconnects)
        errors = sorted(self._errors.items(), key=lambda item: (-item[1], item[0]))
        if not errors:
            row("bad frames", ("none", "health--dim"))
        else:
            text = " · ".join(f"{kind} {format_qty(n)}" for kind, n in errors if n)
            row("bad frames", (pad(text, width - LABEL), "health--bad"))
        if health is not None and health.last_error:
            row("last error", (pad(health.last_error, width - LABEL), "health--dim"))
        if health is not None and health.refused:
            text = f"{health.refused} · {health.last_refusal}"
            row("refused", (pad(text, width - LABEL), "health--dim"))
        return lines


def _figures(
    health: HealthLike | None, errors: Mapping[str, int], now: float
) -> tuple[object, ...]:
    if health is None:
        return (None, tuple(sorted(errors.items())))
    retry = None
    if health.next_retry_at is not None and health.state != "live":
        retry = round(max(health.next_retry_at - now, 0.0), 1)
    lag = None if health.lag is None else round(health.lag, 2)
    return (
        health.state,
        health.endpoint,
        health.level,
        health.subscriptions,
        round(health.msg_rate),
        lag,
        health.reconnects,
        retry,
        health.messages,
        _size(health.bytes),
        health.last_error,
        health.refused,
        health.last_refusal,
        tuple(sorted(errors.items())),
    )


def _size(n: int) -> str:
    """Bytes for people: ``25.0 MB``."""
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GB"
