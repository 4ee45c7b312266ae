"""``jump``: the last price far from its high or low of the last few seconds.

The window holds each earlier price stamped with the last moment it was surely the price
(the previous frame: no message had changed it), in two monotonic deques (sliding max
and min, O(1) a frame); the price now is the other end of any move, and "within" is the
time since its start was last the price.
"""

from __future__ import annotations

from collections import deque
from typing import NamedTuple

import msgspec

from tui.market.alerts import Figure
from tui.market.rules.rule import Active, Condition, Context, Rule, num
from tui.market.rules.thresholds import Count, General, Percent, Positive
from tui.market.scrip import Scrip
from tui.wire.prices import format_qty, format_units


class Limits(msgspec.Struct, frozen=True, kw_only=True):
    #: at least this many ticks
    jump_ticks: Count = 20
    #: and at least this percent of the price it started from
    jump_pct: Percent = 1.0
    #: seconds the high and low are taken over
    jump_window: Positive = 5.0


class State:
    """Monotonic deques of (time, price) over the window: max first, min first."""

    __slots__ = ("hi", "last_lp", "lo")

    def __init__(self) -> None:
        self.hi: deque[tuple[float, int]] = deque(maxlen=512)
        self.lo: deque[tuple[float, int]] = deque(maxlen=512)
        self.last_lp: int | None = None


class Move(NamedTuple):
    """The larger move into the last price: up from the low or down from the high."""

    units: int
    direction: str
    start: int
    #: when ``start`` was last the price
    since: float


class Jump(Rule[Limits, State]):
    """The last price ``jump_ticks`` ticks or more from its high or low of the last
    ``jump_window`` seconds."""

    name = "jump"
    severities = ("warn", "alert")
    Limits = Limits

    def __init__(self, thresholds: General, context: Context) -> None:
        super().__init__(thresholds, context)
        self.bp = round(self.limits.jump_pct * 100)

    def new_state(self) -> State:
        return State()

    def check(
        self, scrip: Scrip, nums: dict[str, int], state: State, active: Active | None, now: float
    ) -> Condition | None:
        lp, ti = nums.get("lp"), nums.get("ti")
        if not lp or not ti:
            return None
        if lp != state.last_lp:
            self._remember_previous(state, lp, now)
        elif active is None:
            return None  # no new price: no new move (the window only narrows)
        self._slide(state, now)
        move = self._move(state, lp, now)
        if move is None:
            return None
        return self._judge(scrip, lp, ti, move, now)

    def _remember_previous(self, state: State, lp: int, now: float) -> None:
        """A new last price: the one before it joins the window."""
        prev, state.last_lp = state.last_lp, lp
        if prev is None:
            return
        # ``prev`` was the price at the last frame at least: no message changed it
        prev_now = self.context.prev_now
        seen = prev_now if prev_now is not None else now
        hi, lo = state.hi, state.lo
        while hi and hi[-1][1] <= prev:
            hi.pop()
        hi.append((seen, prev))
        while lo and lo[-1][1] >= prev:
            lo.pop()
        lo.append((seen, prev))

    def _slide(self, state: State, now: float) -> None:
        """Drop the prices older than the window."""
        horizon = now - self.limits.jump_window
        hi, lo = state.hi, state.lo
        while hi and hi[0][0] < horizon:
            hi.popleft()
        while lo and lo[0][0] < horizon:
            lo.popleft()

    @staticmethod
    def _move(state: State, lp: int, now: float) -> Move | None:
        """The larger of the moves from the window's high and low to ``lp``."""
        hi, lo = state.hi, state.lo
        if not hi and not lo:
            return None
        t_hi, high = hi[0] if hi and hi[0][1] > lp else (now, lp)
        t_lo, low = lo[0] if lo and lo[0][1] < lp else (now, lp)
        if lp - low >= high - lp:
            return Move(lp - low, "up", low, t_lo)
        return Move(high - lp, "down", high, t_hi)

    def _judge(self, scrip: Scrip, lp: int, ti: int, move: Move, now: float) -> Condition | None:
        """A move both ``jump_ticks`` and ``jump_pct`` (warn), or twice both (alert)."""
        moved, sig, start = move.units, move.direction, move.start
        ticks, n, bp = moved // ti, self.limits.jump_ticks, self.bp
        if ticks < n or moved * 10_000 < bp * start:
            return None
        big = ticks >= 2 * n and moved * 10_000 >= 2 * bp * start
        pp = scrip.pp
        seconds = max(round(now - move.since, 1), 0.0)
        pct = round(moved * 100 / start, 2)
        text = (
            f"last price {sig} {format_qty(ticks)} ticks ({pct:,.2f}%) within {num(max(seconds, 0.1))} s: "
            f"{format_units(start, pp)} → {format_units(lp, pp)}"
        )
        figures: dict[str, Figure] = {
            "ticks": ticks,
            "pct": pct,
            "direction": sig,
            "seconds": seconds,
            "from": format_units(start, pp),
            "to": format_units(lp, pp),
        }
        return Condition("alert" if big else "warn", sig, text, figures)
