"""A recording read in time order, one record looked at before it is taken.

The replay server and the replay desk both fold "every record due by now" and then wait
for the next one's time: :meth:`RecordCursor.due` takes the due records, and the first
record past the limit stays for :meth:`RecordCursor.peek` and the next call."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from tui.record.reader import Record


class RecordCursor:
    __slots__ = ("_exhausted", "_pending", "_records")

    def __init__(self, records: Iterable[Record] = ()) -> None:
        self._records: Iterator[Record] = iter(records)
        self._pending: Record | None = None
        self._exhausted = False

    def peek(self) -> Record | None:
        """The next record, not taken; None at the end."""
        if self._pending is None and not self._exhausted:
            self._pending = next(self._records, None)
            self._exhausted = self._pending is None
        return self._pending

    def due(self, limit_ns: int, most: int) -> Iterator[Record]:
        """Take the records received at ``limit_ns`` or before, at most ``most`` of them."""
        for _ in range(most):
            rec = self.peek()
            if rec is None or rec[1] > limit_ns:
                return
            self._pending = None
            yield rec
