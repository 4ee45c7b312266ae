"""All scrips of a feed: the hot-path merge and the once-a-frame flush.

``Market.apply(msg)`` is called for every market-data message (a dict from
``FrameReader``); it merges wire text and marks the scrip dirty, nothing more.
``Market.flush(now)`` is called once per frame (UI timer, CLI end): it converts what
changed and returns the keys whose typed state moved.  State is keyed ``EXCH|TOKEN``.
"""

from __future__ import annotations

from typing import Any

from tui.feed.protocol import DecodeErrors
from tui.market.book import OrderBook
from tui.market.scrip import Scrip
from tui.market.tape import Tape


class Market:
    def __init__(self, errors: DecodeErrors | None = None, tape_len: int = 20_000) -> None:
        self.errors = errors if errors is not None else DecodeErrors()
        self.scrips: dict[str, Scrip] = {}
        self.books: dict[str, OrderBook] = {}
        self.tape = Tape(tape_len)
        self.dirty: set[str] = set()
        #: scrips whose L2 sequence jumped: the client resubscribes them for a fresh ``lk``
        self.resync: set[str] = set()
        self.messages = 0

    def apply(self, msg: dict[str, Any]) -> None:
        t = msg["t"]
        key = msg["e"] + "|" + msg["tk"]
        self.messages += 1
        if t == "df" or t == "tf":
            scrip = self.scrips.get(key)
            if scrip is None:
                scrip = self.scrips[key] = Scrip(key)
            scrip.merge(msg)
        elif t == "dk" or t == "tk":
            scrip = self.scrips.get(key)
            if scrip is None:
                scrip = self.scrips[key] = Scrip(key)
            scrip.replace(msg)
        else:
            book = self.books.get(key)
            if book is None:
                book = self.books[key] = OrderBook(key)
            if t == "lo":
                book.event(msg, self.errors)
                self.tape.append(msg, str(msg.get("ac", "?")))
            elif t == "lt":
                book.execution(msg, self.errors)
                self.tape.append(msg, "T")
            else:  # "lk"
                book.snapshot(msg, self.errors)
            if book.gap:
                self.resync.add(key)
        self.dirty.add(key)

    def flush(self, now: float) -> set[str]:
        """Materialize the dirty scrips; the keys that changed (L2-only changes included)."""
        dirty, self.dirty = self.dirty, set()
        changed: set[str] = set()
        for key in dirty:
            scrip = self.scrips.get(key)
            if scrip is None:
                changed.add(key)  # an L2 book moved
                continue
            if scrip.materialize(self.errors) or key in self.books:
                scrip.updated = now
                changed.add(key)
        return changed

    def forget(self, key: str) -> None:
        """Drop a scrip that is no longer subscribed."""
        self.scrips.pop(key, None)
        self.books.pop(key, None)
        self.dirty.discard(key)
        self.resync.discard(key)
