"""A bounded tape of L2 order events and executions, newest last.

Each entry is a :class:`TapeEvent` made once per L2 message (cheap: a tuple).  ``total``
counts every event ever appended, so a reader that paused can tell how many it missed
even after the oldest fell off the end.  :class:`TapeFilter` is what a reader shows of it
(a side, a minimum quantity): applied by the reader to the events it takes, never here on
the hot path.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import islice
from typing import NamedTuple

from tui.wire.prices import to_int


class TapeEvent(NamedTuple):
    ft: str  # feed time as received (text); shown, never computed with
    key: str
    action: str  # "A" add, "M" modify, "X" cancel, "T" trade
    side: str  # "B"/"S": the order's side (for a trade, the resting order's)
    price: str  # wire text; formatted with the scrip's precision at draw time
    qty: str
    oid: str
    seq: int  # position on the tape (1-based, ever increasing)


def _text(value: object) -> str:
    """A wire value as the tape keeps it: short text as it is, anything else empty."""
    if type(value) is str:
        return value if len(value) <= _LONGEST else ""
    return str(value) if type(value) is int else ""


_LONGEST = 64


def _feed_time(value: object) -> str:
    """Epoch seconds as text, at most 10 digits (a time before 2286); other short text as
    it is; anything else empty."""
    text = _text(value)
    return "" if len(text) > 10 and text.isdigit() else text


class Tape:
    def __init__(self, maxlen: int = 20_000) -> None:
        self.events: deque[TapeEvent] = deque(maxlen=maxlen)
        self.total = 0

    def append(self, key: str, msg: dict[str, object], action: str) -> None:
        """One event of ``key`` (the book checked the fields it uses; any other field that
        is not short text is taped as ``""``)."""
        self.total += 1
        self.events.append(
            TapeEvent(
                _feed_time(msg.get("ft")),
                key,
                action,
                _text(msg.get("sd")),
                _text(msg.get("pr")),
                _text(msg.get("q")),
                _text(msg.get("oid")),
                self.total,
            )
        )

    def since(self, seq: int) -> list[TapeEvent]:
        """Events after position ``seq`` still held (oldest first)."""
        missing = self.total - seq
        if missing <= 0:
            return []
        newest_first = list(islice(reversed(self.events), missing))
        newest_first.reverse()
        return newest_first


@dataclass(frozen=True, slots=True)
class TapeFilter:
    """Which events a reader shows: one side (``"B"``/``"S"``, None: both) and a minimum
    quantity (0: any).  An event whose quantity is not a number passes only ``min_qty`` 0.

    Applied to events as they are taken (a frame's worth), or once to what a reader keeps
    when the filter changes: never to the whole tape once a frame.
    """

    side: str | None = None
    min_qty: int = 0

    @property
    def active(self) -> bool:
        return self.side is not None or self.min_qty > 0

    def accepts(self, event: TapeEvent) -> bool:
        if self.side is not None and event.side != self.side:
            return False
        if self.min_qty > 0:
            qty = to_int(event.qty)
            return qty is not None and qty >= self.min_qty
        return True

    def select(self, events: Iterable[TapeEvent]) -> list[TapeEvent]:
        """The events that pass, in their order."""
        if not self.active:
            return list(events)
        accepts = self.accepts
        return [event for event in events if accepts(event)]
