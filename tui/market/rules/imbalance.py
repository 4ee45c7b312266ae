"""``imbalance``: total buy against total sell quantity lopsided either way, for a while."""

from __future__ import annotations

from typing import Final

import msgspec

from tui.market.alerts import Figure
from tui.market.rules.rule import KEEP, Active, Condition, Rule, num
from tui.market.rules.thresholds import Qty, Ratio, Seconds
from tui.market.scrip import Scrip
from tui.wire.prices import format_qty

#: Seconds ``imbalance`` forgives a dip under the ratio: books flicker as orders come and go.
IMBALANCE_GRACE: Final = 1.0


class Limits(msgspec.Struct, frozen=True, kw_only=True):
    #: one side this many times the other
    imbalance_ratio: Ratio = 8.0
    #: with at least this many shares on both sides together
    imbalance_min_qty: Qty = 10_000
    #: for this many seconds
    imbalance_hold: Seconds = 5.0


class State:
    """The side leaning now, since when, and when it last was past the ratio."""

    __slots__ = ("lean", "lean_last", "lean_since")

    def __init__(self) -> None:
        self.lean = ""
        self.lean_since = 0.0
        self.lean_last = 0.0


class Imbalance(Rule[Limits, State]):
    """Total buy against total sell quantity (``tbq``/``tsq``) past a ratio either way,
    for ``imbalance_hold`` seconds (dips of up to :data:`IMBALANCE_GRACE` forgiven)."""

    name = "imbalance"
    severities = ("info",)
    Limits = Limits

    def new_state(self) -> State:
        return State()

    def check(
        self, scrip: Scrip, nums: dict[str, int], state: State, active: Active | None, now: float
    ) -> Condition | None:
        tbq, tsq = nums.get("tbq"), nums.get("tsq")
        if tbq is None or tsq is None:
            return None
        t, st = self.limits, state
        if tbq + tsq < t.imbalance_min_qty:
            return None
        big, small, side, other = (
            (tbq, tsq, "buy", "sell") if tbq >= tsq else (tsq, tbq, "sell", "buy")
        )
        if small * t.imbalance_ratio > big:
            if st.lean and now - st.lean_last <= IMBALANCE_GRACE:
                return KEEP  # a dip for a moment neither ends the lean nor the alert
            st.lean = ""
            return None
        if st.lean != side:
            st.lean, st.lean_since = side, now
        st.lean_last = now
        held = now - st.lean_since
        if held < t.imbalance_hold:
            return None  # books lean for a moment all the time: only a lasting lean counts
        if small:
            ratio = round(big / small, 1)
            text = (
                f"{side} quantity {num(ratio)}× {other} quantity: "
                f"{format_qty(tbq)} bid against {format_qty(tsq)} offered"
            )
        else:
            ratio = 0.0  # no other side at all
            text = f"{side} quantity {format_qty(big)} and no {other} quantity"
        text += f" for {num(round(held, 1))} s"
        figures: dict[str, Figure] = {
            "tbq": tbq,
            "tsq": tsq,
            "ratio": ratio,
            "side": side,
            "seconds": round(held, 1),
        }
        return Condition("info", side, text, figures)
