"""Capped exponential backoff with jitter (seeded, so tests and replays are deterministic).

The ceiling of attempt ``n`` (0-based) is ``min(cap, base * 2**n)``; the jitter picks the
delay under it:

- ``full``: uniform in ``[0, ceiling]`` -- spreads a herd of clients best (AWS's "full
  jitter");
- ``equal``: uniform in ``[ceiling/2, ceiling]``;
- ``decorrelated``: ``min(cap, uniform(base, 3 * previous))``, previous starting at base;
- ``none``: the ceiling itself.

Every delay is at least ``floor`` (so ``full`` never retries in a tight loop).  The
caller decides when to :meth:`reset`: the feed client does so only after a session that
stayed up ``stable_after`` seconds past its acknowledgement, never on a TCP open alone.
"""

from __future__ import annotations

import random

from tui.feed.config import JITTERS


class Backoff:
    def __init__(
        self,
        base: float,
        cap: float,
        *,
        jitter: str = "full",
        rng: random.Random | None = None,
        floor: float = 0.0,
    ) -> None:
        if jitter not in JITTERS:
            raise ValueError(f"jitter must be one of {JITTERS}, not {jitter!r}")
        if base <= 0 or cap < base:
            raise ValueError("need 0 < base <= cap")
        self.base = base
        self.cap = cap
        self.jitter = jitter
        self.floor = min(floor, cap)
        self.rng = rng if rng is not None else random.Random()
        #: delays handed out since the last reset
        self.attempts = 0
        self._previous = base

    def ceiling(self) -> float:
        """The upper bound of the next delay (before jitter)."""
        # 2**n overflows a float past n ~ 1000: stop doubling once past the cap
        return self.cap if self.attempts >= 64 else min(self.cap, self.base * 2**self.attempts)

    def next(self) -> float:
        """The next delay in seconds; each call counts as one more attempt."""
        ceiling = self.ceiling()
        if self.jitter == "full":
            delay = self.rng.uniform(0.0, ceiling)
        elif self.jitter == "equal":
            delay = self.rng.uniform(ceiling / 2, ceiling)
        elif self.jitter == "decorrelated":
            delay = min(self.cap, self.rng.uniform(self.base, self._previous * 3))
        else:
            delay = ceiling
        delay = max(self.floor, delay)
        self._previous = delay
        self.attempts += 1
        return delay

    def reset(self) -> None:
        self.attempts = 0
        self._previous = self.base
