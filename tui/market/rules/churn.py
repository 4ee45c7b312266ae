"""``l2-churn``: orders added then cancelled again and again at one price, no trade there."""

from __future__ import annotations

from collections import deque

import msgspec

from tui.market.alerts import Figure
from tui.market.rules.orders import RecentOrders
from tui.market.rules.rule import Condition, Rule
from tui.market.rules.thresholds import Count, Positive
from tui.market.scrip import Scrip
from tui.market.tape import TapeEvent
from tui.wire.prices import format_qty, format_units, to_int, to_units


class Limits(msgspec.Struct, frozen=True, kw_only=True):
    #: this many orders added then cancelled at one price
    churn_count: Count = 10
    #: each cancelled within this many seconds of its add, all within it
    churn_window: Positive = 2.0


class State:
    """Orders added lately; by price text, the times of add-then-cancels since the last
    trade there."""

    __slots__ = ("churn", "recent")

    def __init__(self, window: float) -> None:
        self.recent = RecentOrders(window)
        self.churn: dict[str, deque[float]] = {}


class Churn(Rule[Limits, State]):
    """``churn_count`` orders or more added then cancelled at one price within
    ``churn_window`` seconds, with no trade at that price since."""

    name = "l2-churn"
    severities = ("warn",)
    Limits = Limits

    def new_state(self) -> State:
        return State(self.limits.churn_window)

    def observe(self, event: TapeEvent, state: State, now: float) -> None:
        action = event.action
        if action == "A" or action == "M":
            qty = to_int(event.qty)
            if qty is not None:
                state.recent.put(event.oid, now, event.price, qty)
        elif action == "X":
            added = state.recent.pop(event.oid)
            if added is not None and now - added[0] <= self.limits.churn_window:
                times = state.churn.get(added[1])
                if times is None:
                    times = state.churn[added[1]] = deque(maxlen=4 * self.limits.churn_count)
                times.append(now)
        elif action == "T":
            state.churn.pop(event.price, None)  # a trade there: not orders pulled without trading

    def check_tape(self, scrip: Scrip, state: State, now: float) -> Condition | None:
        state.recent.prune(now)
        horizon = now - self.limits.churn_window
        best_price, best_n = "", 0
        empty = []
        for price, times in state.churn.items():
            while times and times[0] < horizon:
                times.popleft()
            if not times:
                empty.append(price)
            elif len(times) > best_n:
                best_price, best_n = price, len(times)
        for price in empty:
            del state.churn[price]
        if best_n < self.limits.churn_count:
            return None
        pp = scrip.pp
        units = to_units(best_price, pp)
        shown = format_units(units, pp) if units is not None else best_price
        seconds = max(round(now - state.churn[best_price][0]), 1)
        text = (
            f"orders added and cancelled repeatedly at {shown}: {format_qty(best_n)} in "
            f"{format_qty(seconds)} s, no trade"
        )
        figures: dict[str, Figure] = {"price": shown, "count": best_n, "seconds": seconds}
        return Condition("warn", "", text, figures)
