"""Times on the wire: a feed time (``ft``) as seconds, and a delay as text for people."""

from __future__ import annotations

import math


def feed_seconds(value: object) -> float | None:
    """A feed time (``ft``: epoch seconds, text or number) as a float, None if it is not."""
    if isinstance(value, str | int) and not isinstance(value, bool):
        try:
            seconds = float(value)
        except ValueError:
            return None
        return seconds if math.isfinite(seconds) else None
    return None


def seconds_text(delay: float) -> str:
    """``0.05 s``, ``2.4 s``, ``75 s``: as precise as a person needs."""
    return f"{delay:.2f} s" if delay < 1 else f"{delay:.1f} s" if delay < 10 else f"{delay:.0f} s"
