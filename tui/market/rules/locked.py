"""``locked``: at a circuit limit with nothing on the other side of the book."""

from __future__ import annotations

from tui.market.alerts import Figure
from tui.market.rules.rule import Active, Condition, NoLimits, Rule
from tui.market.scrip import Scrip
from tui.wire.prices import format_qty, format_units


class Locked(Rule[NoLimits, None]):
    """At a limit with nothing on the other side: no offers at the upper, no bids at
    the lower (only for a scrip whose depth is known)."""

    name = "locked"
    severities = ("alert",)

    def check(
        self, scrip: Scrip, nums: dict[str, int], state: None, active: Active | None, now: float
    ) -> Condition | None:
        lp, lc, uc = nums.get("lp"), nums.get("lc"), nums.get("uc")
        if not lp:
            return None
        values, pp = scrip.values, scrip.pp
        if uc and lp >= uc and ("sp1" in values or "sq1" in values) and scrip.level("s", 1).empty:
            bid = scrip.level("b", 1)
            return _lock(uc, "upper", "no offers", "bid", bid.qty, pp)
        if lc and lp <= lc and ("bp1" in values or "bq1" in values) and scrip.level("b", 1).empty:
            ask = scrip.level("s", 1)
            return _lock(lc, "lower", "no bids", "offered", ask.qty, pp)
        return None


def _lock(limit: int, side: str, lacks: str, waiting: str, qty: int, pp: int) -> Condition:
    text = f"at the {side} circuit limit {format_units(limit, pp)} with {lacks}"
    if qty:
        text += f": {format_qty(qty)} {waiting} at the limit"
    figures: dict[str, Figure] = {
        "limit": format_units(limit, pp),
        "side": side,
        "waiting_qty": qty,
    }
    return Condition("alert", side, text, figures)
