"""How far a last price is from its circuit limits: one answer for the rules and the panes.

Integers only (prices in units of 10^-pp, as ``Market.view`` gives them).
"""

from __future__ import annotations

from typing import Literal, NamedTuple


class CircuitDistance(NamedTuple):
    """The nearer circuit limit of a last price."""

    side: Literal["upper", "lower"]
    limit: int
    #: units from the last price to the limit; 0 or less: at or through it
    units: int

    @property
    def at_limit(self) -> bool:
        return self.units <= 0

    def basis_points(self, lp: int) -> int:
        """The distance in basis points of ``lp``, rounded down."""
        return self.units * 10_000 // lp

    def within(self, bp: int, lp: int) -> bool:
        """True if the distance is ``bp`` basis points of ``lp`` or less (exactly)."""
        return self.units * 10_000 <= bp * lp


def circuit_distance(lp: int | None, lc: int | None, uc: int | None) -> CircuitDistance | None:
    """The limit ``lp`` is at or through (the upper first), else the nearer one (the upper
    on a tie); None without a last price, without limits, or with limits that cannot be
    (``lc`` at or above ``uc``)."""
    if not lp or (lc and uc and lc >= uc):
        return None
    if uc and lp >= uc:
        return CircuitDistance("upper", uc, uc - lp)
    if lc and lp <= lc:
        return CircuitDistance("lower", lc, lp - lc)
    up = uc - lp if uc else None
    down = lp - lc if lc else None
    if up is not None and (down is None or up <= down):
        return CircuitDistance("upper", uc or 0, up)
    if down is not None:
        return CircuitDistance("lower", lc or 0, down)
    return None
