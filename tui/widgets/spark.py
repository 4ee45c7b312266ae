"""Sparklines as text: one block character per value, scaled between the series' extremes.

Shared by the watchlist (recent last prices, integer units) and the health panel
(messages a second).  Whole numbers are scaled with integer arithmetic, so prices never
pass through a float.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

BARS: Final = "▁▂▃▄▅▆▇█"
#: a series that does not move is drawn at mid-height: level, neither high nor low
FLAT: Final = BARS[len(BARS) // 2 - 1]


def spark(values: Sequence[int | float], width: int) -> str:
    """The last ``width`` of ``values`` as block characters (fewer if there are fewer)."""
    if width <= 0 or not values:
        return ""
    shown = list(values[-width:])
    low, high = min(shown), max(shown)
    if high == low:
        return FLAT * len(shown)
    top = len(BARS) - 1
    span = high - low
    whole = [v for v in shown if type(v) is int]
    if len(whole) == len(shown):
        # the nearest bar, (v - low) * top / span rounded, in integers
        ilow, ispan = int(low), int(span)
        return "".join(BARS[((v - ilow) * top * 2 + ispan) // (ispan * 2)] for v in whole)
    return "".join(BARS[int((v - low) * top / span + 0.5)] for v in shown)
