"""``spread``: the touch many times wider than the scrip's own median, for a while."""

from __future__ import annotations

from typing import Final

import msgspec

from tui.market.alerts import Figure
from tui.market.rules.rule import Active, Condition, RollingMedian, Rule, num
from tui.market.rules.thresholds import Count, Ratio, Seconds
from tui.market.scrip import Scrip
from tui.wire.prices import format_qty, format_units

#: Seconds between two observations of a scrip's spread for its baseline: a frame's
#: worth would make ``spread_samples`` a couple of seconds of history, not a minute.
SPREAD_EVERY: Final = 1.0


class Limits(msgspec.Struct, frozen=True, kw_only=True):
    #: this many times the scrip's median spread
    spread_mult: Ratio = 8.0
    #: and at least this many ticks
    spread_min_ticks: Count = 10
    #: observations (one a second) the median is taken over
    spread_samples: Count = 60
    #: for this many seconds
    spread_hold: Seconds = 2.0


class State:
    __slots__ = ("spread_at", "spreads", "wide_since")

    def __init__(self, samples: int) -> None:
        self.spreads = RollingMedian(samples)
        self.spread_at = float("-inf")
        self.wide_since: float | None = None


class Spread(Rule[Limits, State]):
    """The touch ``spread_mult`` times wider than the scrip's own median, in ticks."""

    name = "spread"
    severities = ("warn",)
    Limits = Limits

    def new_state(self) -> State:
        return State(self.limits.spread_samples)

    def check(
        self, scrip: Scrip, nums: dict[str, int], state: State, active: Active | None, now: float
    ) -> Condition | None:
        ti, bp, sp = nums.get("ti"), nums.get("bp1"), nums.get("sp1")
        if not ti or not bp or not sp or sp <= bp:
            return None  # no tick, one side empty, or a crossed/locked touch
        ticks = (sp - bp) // ti
        st = state
        usual = st.spreads.median()
        enough = len(st.spreads) >= self.t.min_samples
        if now - st.spread_at >= SPREAD_EVERY:  # the baseline: one observation a second
            st.spread_at = now
            st.spreads.add(ticks)
        t = self.limits
        if (
            usual is None
            or not enough
            or ticks < t.spread_min_ticks
            or ticks <= t.spread_mult * usual
        ):
            st.wide_since = None
            return None
        if st.wide_since is None:
            st.wide_since = now
        held = now - st.wide_since
        if held < t.spread_hold:
            return None  # a sweep of the touch refills in a moment: only a lasting one counts
        pp = scrip.pp
        text = (
            f"spread {format_qty(ticks)} ticks ({format_units(bp, pp)} / {format_units(sp, pp)}) "
            f"for {num(round(held, 1))} s, usually {num(usual)}"
        )
        figures: dict[str, Figure] = {
            "spread_ticks": ticks,
            "usual_ticks": round(usual, 1),
            "bid": format_units(bp, pp),
            "ask": format_units(sp, pp),
            "times": round(ticks / max(usual, 1e-9), 1),
            "seconds": round(held, 1),
        }
        return Condition("warn", "", text, figures)
