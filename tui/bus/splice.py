"""A consumer following one scrip's stream on one family of subjects (L1 or L2).

In sync, a batch whose sequence is the next one is applied; one already seen is ignored.
Anything else -- a batch from a later sequence (a lost NATS message), from another
publisher run (a new epoch), or a delta while no snapshot is held -- puts the scrip out of
sync: batches are buffered (bounded) and a fresh state is wanted.  A state (from the
last-value store, from a publisher's periodic or requested snapshot), or a batch that
starts with a full message (``tk``/``dk``/``lk``: it replaces everything before it), brings
the scrip back: the state is applied, then the buffered batches after its sequence, in
order, as long as they follow on.  So a book is either exact or known to be catching up,
never silently wrong.  No I/O here: the source feeds it and asks for snapshots.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Any

from tui.bus.wire import FULL_TYPES

MAX_BUFFER = 2048  # batches kept while out of sync; older ones are superseded by a state

Apply = Callable[[dict[str, Any]], None]


def _any_other_is_newer(epoch: str, than: str) -> bool:
    return True


class Splice:
    __slots__ = ("apply", "buffer", "epoch", "gaps", "key", "live", "newer", "parts", "seq",
                 "stale", "synced")  # fmt: skip

    def __init__(
        self, key: str, apply: Apply, newer: Callable[[str, str], bool] = _any_other_is_newer
    ) -> None:
        self.key = key
        exch, _, token = key.partition("|")
        self.parts = exch, token  # what every message of the scrip carries as e, tk
        self.apply = apply
        #: ``newer(a, b)``: publisher run ``a`` came after run ``b`` (the source knows the
        #: order it heard them in); a late message of a finished run must not win
        self.newer = newer
        self.epoch = ""
        self.seq = 0
        self.synced = False
        self.buffer: deque[tuple[str, int, list[dict[str, Any]]]] = deque(maxlen=MAX_BUFFER)
        #: times the live stream was found broken (a NATS message lost in flight)
        self.gaps = 0
        #: times a state turned out older than the stream it had to lead to (a late joiner
        #: reading a throttled store): caught up the same way, but nothing was lost
        self.stale = 0
        #: following the live stream (a batch applied in order since the last state)
        self.live = False

    def batch(self, epoch: str, seq: int, msgs: list[dict[str, Any]]) -> bool:
        """Take one delta batch; True when the scrip just went out of sync (ask a state)."""
        if self.synced and epoch == self.epoch:
            if seq == self.seq + 1:
                self.seq = seq
                self.live = True
                for msg in msgs:
                    self.apply(msg)
                return False
            if seq <= self.seq:
                return False  # seen already (a state overtook it)
        elif self.synced and not self.newer(epoch, self.epoch):
            return False  # a late message of a run that is over
        if msgs and msgs[0].get("t") in FULL_TYPES:  # a fresh start: no state needed
            self._adopt(epoch, seq, msgs)
            self.live = True
            return False
        self.buffer.append((epoch, seq, msgs))
        if self.synced:
            self.synced = False
            if self.live:
                self.gaps += 1
            else:
                self.stale += 1
            return True
        return False

    @property
    def behind(self) -> bool:
        """Out of sync with data waiting (not merely nothing published for it yet)."""
        return not self.synced and bool(self.buffer)

    def state(self, epoch: str, seq: int, full: dict[str, Any]) -> bool:
        """Take a full state; True if it brought (or kept) the scrip in sync."""
        if self.synced:
            if epoch == self.epoch and seq <= self.seq:
                return True  # older than what is held
            if epoch != self.epoch and not self.newer(epoch, self.epoch):
                return True  # a state of a run that is over (a late store read)
        elif self.buffer and all(
            b[0] != epoch and not self.newer(epoch, b[0]) for b in self.buffer
        ):
            return False  # older than the deltas waiting: it cannot lead to them
        self._adopt(epoch, seq, [full])
        return self.synced

    def _adopt(self, epoch: str, seq: int, msgs: list[dict[str, Any]]) -> None:
        for msg in msgs:
            self.apply(msg)
        self.epoch, self.seq, self.synced, self.live = epoch, seq, True, False
        pending = sorted(
            (b for b in self.buffer if b[0] == epoch and b[1] > seq), key=lambda b: b[1]
        )
        self.buffer.clear()
        for i, (_, q, batch) in enumerate(pending):
            if q != self.seq + 1:  # the state is older than what waits: not a loss
                self.buffer.extend(pending[i:])
                self.synced = False
                self.stale += 1
                return
            self.seq, self.live = q, True
            for msg in batch:
                self.apply(msg)
