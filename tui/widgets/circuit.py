"""The circuit distance as the panes write it: ``▲0.8%`` near a limit, ``UC``/``LC`` at it.

The distance itself is :func:`tui.market.circuit.circuit_distance` (the rules use the same).
"""

from __future__ import annotations

from tui.market.circuit import circuit_distance
from tui.widgets.glyphs import DOWN_ARROW, UP_ARROW
from tui.wire.prices import format_units


def circuit(
    lp: int | None, lc: int | None, uc: int | None, near_bp: int
) -> tuple[str, str, int | None]:
    """``(text, style, basis points to the nearer limit)`` for the circuit column.

    Locked at or past a limit (``UC``/``LC``, distance -1); within ``near_bp`` basis points
    of lp an arrow and the percent, rounded up (``▲0.8%``); else blank (no last price, no
    limits, or limits that cannot be: no distance).  Integers only.
    """
    found = circuit_distance(lp, lc, uc)
    if found is None or lp is None:
        return "", "", None
    upper = found.side == "upper"
    if found.at_limit:
        return ("UC" if upper else "LC"), "watchlist--locked", -1
    bp = found.basis_points(lp)
    if not found.within(near_bp, lp):
        return "", "", bp
    tenths = -(-found.units * 1_000 // lp)  # never 0.0% short of the limit
    arrow = UP_ARROW if upper else DOWN_ARROW
    return f"{arrow}{format_units(tenths, 1)}%", "watchlist--near", bp
