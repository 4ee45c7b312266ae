"""A bounded tape of L2 order events and executions, newest last.

Each entry is a :class:`TapeEvent` made once per L2 message (cheap: a tuple).  ``total``
counts every event ever appended, so a reader that paused can tell how many it missed
even after the oldest fell off the end.
"""

from __future__ import annotations

from collections import deque
from itertools import islice
from typing import NamedTuple


class TapeEvent(NamedTuple):
    ft: object  # feed time as received (text); shown, never computed with
    key: str
    action: str  # "A" add, "M" modify, "X" cancel, "T" trade
    side: str  # "B"/"S": the order's side (for a trade, the resting order's)
    price: str  # wire text; formatted with the scrip's precision at draw time
    qty: str
    oid: str
    seq: int  # position on the tape (1-based, ever increasing)


class Tape:
    def __init__(self, maxlen: int = 20_000) -> None:
        self.events: deque[TapeEvent] = deque(maxlen=maxlen)
        self.total = 0

    def append(self, msg: dict[str, object], action: str) -> None:
        self.total += 1
        self.events.append(
            TapeEvent(
                msg.get("ft", ""),
                f"{msg['e']}|{msg['tk']}",
                action,
                str(msg.get("sd", "")),
                str(msg.get("pr", "")),
                str(msg.get("q", "")),
                str(msg.get("oid", "")),
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
