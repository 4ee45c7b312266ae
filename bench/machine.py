"""What every bench prints beside its figures so that runs on shared machines compare.

- :func:`machine_reference`: seconds for a plain 10-million-iteration Python loop (issue
  10's slow machine took 1.66 s, the quiet 2-core one here ~0.10 s);
- :func:`pct`: a percentile, linear between ranks (nan for no values).
"""

from __future__ import annotations

import time


def machine_reference() -> float:
    """Seconds for a plain 10-million-iteration Python loop (runs compare by it)."""
    start = time.perf_counter()
    for _ in range(10_000_000):
        pass
    return time.perf_counter() - start


def pct(values: list[float], p: float) -> float:
    """The ``p``-th percentile (linear between ranks); nan for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    at = (len(ordered) - 1) * p / 100
    lo = int(at)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (at - lo)
