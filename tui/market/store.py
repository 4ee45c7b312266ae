"""All scrips of a feed: the hot-path merge and the once-a-frame flush.

``Market.apply(msg)`` is called for every market-data message (a dict from
``FrameReader``); it queues the message on its scrip and marks the scrip dirty, nothing
more (see :mod:`tui.market.scrip` for the fold and what a bad value gets).

Memory is bounded by what was asked for: once told what is subscribed
(:meth:`Market.expect`, which the feed client calls), data for any other key is counted as
``unsolicited`` and not kept; a key just forgotten (unsubscribed) drops its in-flight
messages quietly.  A market never told anything keeps every key (tests, tools, benches).
``Market.flush(now)`` is called once per frame: it hands over the keys that received
messages since the last frame (and stamps them).  Conversion to exact typed values happens
when a scrip is read with :meth:`Market.view` (only what is drawn), or for every scrip by
:meth:`Market.sweep` (the CLI, and a slow sweep that keeps the bad-number count current).
State is keyed ``EXCH|TOKEN``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from itertools import islice
from typing import Any

from tui.market.book import OrderBook
from tui.market.history import PriceHistory
from tui.market.scrip import FOLD_AT, Scrip
from tui.market.tape import Tape
from tui.wire.frames import MISSING_KEY, UNKNOWN_TYPE, UNSOLICITED, DecodeErrors
from tui.wire.times import feed_seconds

#: keys forgotten lately whose in-flight messages are dropped without counting
LEAVING_KEPT = 1024


class Market:
    def __init__(self, errors: DecodeErrors | None = None, tape_len: int = 20_000) -> None:
        self.errors = errors if errors is not None else DecodeErrors()
        self.scrips: dict[str, Scrip] = {}
        self.books: dict[str, OrderBook] = {}
        self.tape = Tape(tape_len)
        self.dirty: set[str] = set()
        #: clock time of the last frame in which each scrip received a message
        self.updated: dict[str, float] = {}
        #: recent last prices by key, sampled by :meth:`sample_history` (sparklines, rules)
        self.history = PriceHistory()
        #: keys flushed since the last :meth:`sample_history`
        self.unsampled: set[str] = set()
        #: scrips whose L2 sequence jumped: the client resubscribes them for a fresh ``lk``
        self.resync: set[str] = set()
        #: the keys subscribed (:meth:`expect`); None: every key is kept
        self.expected: set[str] | None = None
        #: keys forgotten lately, oldest first: their in-flight messages are dropped quietly
        self._leaving: dict[str, None] = {}
        #: scrips by exchange, then token: the hot path finds a scrip without building its
        #: key.  A cache of ``scrips`` (rebuilt on misses; emptied when a scrip is forgotten)
        self._index: dict[str, dict[str, Scrip]] = {}
        #: merge one market message (``FrameReader`` checked ``t``), given with the frame it
        #: came in if there is one (kept instead of the dict: cheaper); never raises.  The
        #: market keeps the message: do not change it afterwards.
        self.apply: Callable[..., None] = self._hot_path()

    def _hot_path(self) -> Callable[..., None]:
        """``apply`` as a closure over its tables: the commonest message (a delta) costs two
        look-ups (exchange, then token: no key string is built), one ``dict.update``, one
        ``list.append``, a length check and one set insert."""
        index, mark, other, find = self._index, self.dirty.add, self._other, self._find
        errors, fold_at = self.errors, FOLD_AT

        def apply(msg: dict[str, Any], frame: object = None) -> None:
            try:
                t = msg["t"]
                if t == "df" or t == "tf":
                    by_token = index.get(msg["e"])
                    scrip = None if by_token is None else by_token.get(msg["tk"])
                    if scrip is None:
                        scrip = find(msg)
                        if scrip is None:
                            return
                    scrip.delta.update(msg)  # Scrip.merge, inlined
                    pending = scrip.pending
                    pending.append(msg if frame is None else frame)
                    if len(pending) >= fold_at:
                        scrip.materialize(errors)
                    mark(scrip.key)
                    return
                key = msg["e"] + "|" + msg["tk"]
            except (KeyError, TypeError):  # no "e"/"tk", or not text
                errors.add(MISSING_KEY, msg)
                return
            other(t, key, msg, frame)

        def apply_frames(
            frames: Sequence[Any],
            decode: Callable[[Any], Any],
            rest: Callable[[Any, Any], None],
        ) -> None:
            """The frames one socket read brought (``FrameReader.feed_many``), in order, in
            one loop: each decoded with the reader's ``decode``; a delta (the commonest
            message) merged here with ``apply``'s branches, with no Python call of its own;
            every other frame handed back to the reader's ``rest(frame, msg)`` (``msg``
            None: it did not decode), which does with it exactly what ``FrameReader.feed``
            does (count it, return it as a control message, or give it to ``apply``)."""
            for frame in frames:
                try:
                    msg = decode(frame)
                except Exception:  # noqa: BLE001 - the reader counts it (not JSON)
                    rest(frame, None)
                    continue
                try:
                    t = msg.get("t")
                except AttributeError:  # not an object (a list, a number...): the reader's
                    rest(frame, msg)
                    continue
                if t == "df" or t == "tf":
                    try:
                        by_token = index.get(msg["e"])
                        scrip = None if by_token is None else by_token.get(msg["tk"])
                        if scrip is None:
                            scrip = find(msg)
                            if scrip is None:
                                continue
                    except (KeyError, TypeError):  # no "e"/"tk", or not text
                        errors.add(MISSING_KEY, msg)
                        continue
                    scrip.delta.update(msg)
                    pending = scrip.pending
                    pending.append(frame)
                    if len(pending) >= fold_at:
                        scrip.materialize(errors)
                    mark(scrip.key)
                    continue
                rest(frame, msg)

        apply.takes_frame = True  # type: ignore[attr-defined]  # FrameReader passes the frame
        apply.frames = apply_frames  # type: ignore[attr-defined]  # FrameReader.feed_many
        return apply

    def _wanted(self, key: str) -> bool:
        """True if data for ``key`` is kept; counts it as unsolicited otherwise."""
        expected = self.expected
        if expected is None or key in expected:
            return True
        if key not in self._leaving:
            self.errors.add(UNSOLICITED, key[:60])
        return False

    def _find(self, msg: dict[str, Any]) -> Scrip | None:
        """The scrip of a delta the index does not hold yet (a new scrip, or one the index
        forgot): found or made, and indexed; None if not wanted.  Raises TypeError for an
        ``e``/``tk`` that is not text (the hot path counts it)."""
        e, tk = msg["e"], msg["tk"]
        key = e + "|" + tk
        scrip = self.scrips.get(key)
        if scrip is None:
            scrip = self._new_scrip(key)
            if scrip is None:
                return None
        self._index.setdefault(e, {})[tk] = scrip
        return scrip

    def _new_scrip(self, key: str) -> Scrip | None:
        if not self._wanted(key):
            return None
        scrip = self.scrips[key] = Scrip(key)
        return scrip

    def _other(self, t: str, key: str, msg: dict[str, Any], frame: object = None) -> None:
        if t == "dk" or t == "tk":
            scrip = self.scrips.get(key)
            if scrip is None:
                scrip = self._new_scrip(key)
                if scrip is None:
                    return
            scrip.replace(msg, self.errors, frame)
            self.dirty.add(key)
            return
        if t != "lo" and t != "lt" and t != "lk":
            self.errors.add(UNKNOWN_TYPE, msg)
            return
        book = self.books.get(key)
        if book is None:
            if not self._wanted(key):
                return
            book = self.books[key] = OrderBook(key)
        if t == "lo":
            action = book.event(msg, self.errors)
            if action:
                self.tape.append(key, msg, action)
        elif t == "lt":
            if book.execution(msg, self.errors):
                self.tape.append(key, msg, "T")
        else:
            book.snapshot(msg, self.errors)
        if book.gap:
            self.resync.add(key)
        self.dirty.add(key)

    def expect(self, keys: Iterable[str]) -> None:
        """Keep data for these keys (subscribed).  The first call closes the market to
        every key it was not told of; :meth:`forget` takes a key out again."""
        if self.expected is None:
            self.expected = set()
        for key in keys:
            self.expected.add(key)
            self._leaving.pop(key, None)

    def flush(self, now: float) -> set[str]:
        """The keys that received messages since the last call; ``updated[key] = now``."""
        dirty = self.dirty.copy()  # the set itself is bound into the hot path: copy, clear
        self.dirty.clear()
        self.updated.update(dict.fromkeys(dirty, now))  # in C: no loop per key
        self.unsampled |= dirty  # in C too
        return dirty

    def sample_history(self) -> int:
        """Take the moved last prices of the keys flushed since the last call into
        :attr:`history`; how many moved.  Called on a slow timer (the desk: twice a
        second), not every frame: a loop per scrip in every frame cost the merge ~10% of its
        throughput (``bench/ingest.py``), and a sparkline of a few seconds reads better
        than one of a few frames."""
        taken = self.history.sample(self.scrips, self.unsampled, self.errors)
        self.unsampled.clear()
        return taken

    def view(self, key: str) -> Scrip | None:
        """The scrip with every received field converted (None if never seen)."""
        scrip = self.scrips.get(key)
        if scrip is not None and scrip.delta:
            scrip.materialize(self.errors)
        return scrip

    def sweep(self) -> int:
        """Convert every scrip with pending changes; how many had any."""
        n = 0
        for scrip in self.scrips.values():
            if scrip.delta:
                scrip.materialize(self.errors)
                n += 1
        return n

    def forget(self, key: str) -> None:
        """Drop a scrip that is no longer subscribed (and no longer expect it: its
        in-flight messages are dropped without being counted)."""
        if self.expected is not None:
            self.expected.discard(key)
            leaving = self._leaving
            leaving.pop(key, None)
            leaving[key] = None
            if len(leaving) > LEAVING_KEPT:
                del leaving[next(iter(leaving))]
        if self.scrips.pop(key, None) is not None:
            self._index.clear()
        self.books.pop(key, None)
        self.updated.pop(key, None)
        self.history.forget(key)
        self.unsampled.discard(key)
        self.dirty.discard(key)
        self.resync.discard(key)

    def newest_feed_time(self, newest: float | None) -> float | None:
        """The newest ``ft`` seen: ``newest`` or a newer one from the scrips changed since the
        last flush (a few dozen looked at; deltas carry ``ft`` only when it moved, so the
        scrip's state is read, not a message) or from the latest L2 event.  Newest, not
        latest: a snapshot after a resubscribe carries its scrip's old ``ft``.  The feed
        client asks on its tick and when its health is read (part of its sink protocol)."""
        scrips = self.scrips
        candidates: list[object] = []
        for key in islice(self.dirty, 32):
            scrip = scrips.get(key)
            if scrip is not None:
                candidates.append(scrip.delta.get("ft") or scrip.raw.get("ft"))
        if self.tape.events:
            candidates.append(self.tape.events[-1].ft)
        for value in candidates:
            ft = feed_seconds(value)
            if ft is not None and (newest is None or ft > newest):
                newest = ft
        return newest
