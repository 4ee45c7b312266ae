"""``print``: a single trade many times the scrip's median trade."""

from __future__ import annotations

import msgspec

from tui.market.alerts import Figure
from tui.market.rules.rule import Active, Condition, RollingMedian, Rule, usually
from tui.market.rules.thresholds import Count, Qty, Ratio
from tui.market.scrip import Scrip
from tui.wire.prices import format_qty, format_units


class Limits(msgspec.Struct, frozen=True, kw_only=True):
    #: this many times the scrip's median trade
    print_mult: Ratio = 20.0
    #: and at least this many shares
    print_min_qty: Qty = 1_000
    #: trades the median is taken over
    print_samples: Count = 100


class State:
    __slots__ = ("last_v", "prints")

    def __init__(self, samples: int) -> None:
        self.prints = RollingMedian(samples)
        #: the volume at the scrip's previous evaluation
        self.last_v: int | None = None


class Print(Rule[Limits, State]):
    """A last trade quantity ``print_mult`` times the scrip's median one (an event:
    judged only in frames where the volume rose, i.e. something traded)."""

    name = "print"
    severities = ("info",)
    event = True
    Limits = Limits

    def new_state(self) -> State:
        return State(self.limits.print_samples)

    def check(
        self, scrip: Scrip, nums: dict[str, int], state: State, active: Active | None, now: float
    ) -> Condition | None:
        v, ltq = nums.get("v"), nums.get("ltq")
        last_v = state.last_v
        if v is not None:
            state.last_v = v
        if v is None or not ltq or last_v is None or v <= last_v:
            return None
        prints = state.prints
        usual = prints.median()
        enough = len(prints) >= self.t.min_samples
        prints.add(ltq)
        t = self.limits
        if usual is None or not enough or ltq < t.print_min_qty or ltq < t.print_mult * usual:
            return None
        pp = scrip.pp
        lp = nums.get("lp")
        at = f" at {format_units(lp, pp)}" if lp else ""
        text = f"single trade of {format_qty(ltq)}{at}, {usually(ltq, usual)}"
        figures: dict[str, Figure] = {
            "qty": ltq,
            "usual": round(usual),
            "times": round(ltq / max(usual, 1.0), 1),
            "price": format_units(lp, pp),
        }
        return Condition("info", "", text, figures)
