"""``circuit``: the last price near a circuit limit (warn), or at or through it (alert)."""

from __future__ import annotations

import msgspec

from tui.market.alerts import Figure
from tui.market.circuit import circuit_distance
from tui.market.rules.rule import Active, Condition, Context, Rule
from tui.market.rules.thresholds import General, Percent
from tui.market.scrip import Scrip
from tui.wire.prices import format_units


class Limits(msgspec.Struct, frozen=True, kw_only=True):
    #: within this percent of a limit: warn
    circuit_near_pct: Percent = 1.0


class Circuit(Rule[Limits, None]):
    """Within ``circuit_near_pct`` of a limit (warn); at or through it (alert)."""

    name = "circuit"
    severities = ("warn", "alert")
    Limits = Limits

    def __init__(self, thresholds: General, context: Context) -> None:
        super().__init__(thresholds, context)
        self.near_bp = round(self.limits.circuit_near_pct * 100)

    def check(
        self, scrip: Scrip, nums: dict[str, int], state: None, active: Active | None, now: float
    ) -> Condition | None:
        lp = nums.get("lp")
        found = circuit_distance(lp, nums.get("lc"), nums.get("uc"))
        if found is None or lp is None:
            return None
        pp, side, limit = scrip.pp, found.side, found.limit
        if found.at_limit:
            return at_limit(lp, limit, side, pp)
        if not found.within(self.near_bp, lp):
            return None
        pct = round(found.units * 100 / lp, 2)
        text = (
            f"last {format_units(lp, pp)} is {pct:.2f}% from the {side} circuit limit "
            f"{format_units(limit, pp)}"
        )
        figures: dict[str, Figure] = {
            "last": format_units(lp, pp),
            "limit": format_units(limit, pp),
            "side": side,
            "distance_pct": pct,
        }
        return Condition("warn", side, text, figures)


def at_limit(lp: int, limit: int, side: str, pp: int) -> Condition:
    past = "through" if lp != limit else "at"
    text = f"last {format_units(lp, pp)} {past} the {side} circuit limit {format_units(limit, pp)}"
    figures: dict[str, Figure] = {
        "last": format_units(lp, pp),
        "limit": format_units(limit, pp),
        "side": side,
        "distance_pct": 0.0,
    }
    return Condition("alert", side, text, figures)
