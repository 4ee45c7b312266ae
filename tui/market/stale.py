"""Which listed scrips have been silent too long: the watchlist's and the tiles' stale marks.

A scrip counts from its last update (``Market.updated``), or from when it was first listed
if it has not updated since, so a list just shown is not all stale at once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping


class StaleMarks:
    def __init__(self) -> None:
        #: the keys marked stale at the last :meth:`check`
        self.stale: set[str] = set()
        self._listed_at: dict[str, float] = {}

    def check(
        self, updated: Mapping[str, float], keys: Iterable[str], now: float, after: float
    ) -> set[str]:
        """Mark the ``keys`` silent for more than ``after`` seconds; the keys whose mark moved."""
        listed_at = self._listed_at
        stale = set()
        for key in keys:
            since = listed_at.setdefault(key, now)
            last = updated.get(key)
            if last is not None and last > since:
                since = last
            if now - since > after:
                stale.add(key)
        moved = stale ^ self.stale
        self.stale = stale
        return moved

    def forget(self, key: str) -> None:
        """A key no longer listed: it counts afresh if it is listed again."""
        self._listed_at.pop(key, None)
        self.stale.discard(key)
