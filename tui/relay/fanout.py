"""The relay's fan-out: every upstream market message to the clients that subscribe it.

:meth:`Fanout.on_message` is a cache listener (``tui.relay.cache``): it runs right after
the message is merged, so a client that joins between two messages gets a snapshot that
already holds the first and is then sent the second: no gap, no repeat.

- A tick-by-tick client that keeps up gets the message framed once and shared with every
  such client (``df``/``dk`` as they came; for a touchline subscriber of a scrip the
  upstream streams as depth, the same changes without levels 2..5, as ``tf``/``tk``).
- A conflated client's cohort (``tui.relay.cohort``: every conflated client of one rate)
  has it merged once into the cohort's backlog, released to every member at that rate.
- A tick-by-tick client that fell behind (told so with ``st``) has it merged into its own
  backlog (``tui.relay.stream``), released once its socket drains.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from tui.market.book import OrderBook
from tui.relay.cache import RelayCache, touchline_of
from tui.relay.cohort import Cohort
from tui.relay.netting import lk_is_smaller, moved, net
from tui.relay.stream import BEHIND_BYTES, CAUGHT_UP_BYTES, Stream
from tui.server.frames import json_frame

if TYPE_CHECKING:
    from tui.server.server import ProtocolServer
    from tui.server.session import Session

_PRICE_TAGS: Final = frozenset({"df", "dk", "tf", "tk"})
#: the most one write hands the socket of a client that reads slowly (a conflated one, or
#: a tick-by-tick one while behind): the rest waits in the relay, where it is merged, and
#: the pongs to the client's keepalive pings (websockets writes them straight to the
#: socket) wait behind less ...
SLOW_WRITE_BUDGET: Final = 128 * 1024
#: ... and of a tick-by-tick client that keeps up: at 50,000 msgs/s it takes ~5 MB/s,
#: more than 128 KB a turn of a busy clock (512 KB: 10 turns a second)
FAST_WRITE_BUDGET: Final = 512 * 1024


def status_frame(**fields: str) -> bytes:
    """Our status message ``st`` (docs/PROTOCOL.md, "The relay")."""
    return json_frame({"t": "st", **fields})


class Fanout:
    def __init__(self, server: ProtocolServer, cache: RelayCache) -> None:
        self.server = server
        self.cache = cache
        self.forwarded = 0  # frames queued tick by tick (a frame shared by n clients: n)
        self.released = 0  # frames queued from backlogs
        subs = server.subs
        self._d, self._t, self._l = subs["d"], subs["t"], subs["l"]
        #: key -> (book version, sq, its lk framed): one lk built for every client that
        #: is sent it before the book changes
        self._lk: dict[str, tuple[int, int, bytes]] = {}
        #: period -> the cohort of conflated clients of that rate (``tui.relay.cohort``)
        self.cohorts: dict[float, Cohort] = {}

    # -- the hot path: one upstream message ------------------------------------------------
    def on_message(self, key: str, seq: int, msg: dict[str, Any]) -> None:
        t = msg["t"]
        if t == "df" or t == "dk":
            d = self._d.get(key)
            if d:
                self._deliver(d, key, msg, msg, None)
            touch = self._t.get(key)
            if touch:
                tf = touchline_of(msg, "tf" if t == "df" else "tk")
                self._deliver(touch, key, tf, msg, d)
        elif t == "tf" or t == "tk":
            touch = self._t.get(key)
            if touch:
                self._deliver(touch, key, msg, msg, None)
        else:
            orders = self._l.get(key)
            if orders:
                self._deliver(orders, key, msg, msg, None)

    def _deliver(
        self,
        sessions: set[Session],
        key: str,
        out: dict[str, Any] | None,
        upstream: dict[str, Any],
        also: set[Session] | None,
    ) -> None:
        """``out`` (framed once) to the clients that keep up; ``upstream`` into the
        backlog of held ones (once: ``also`` holds those that got it already)."""
        frame: bytes | None = None
        live = 0
        held = False
        price = upstream["t"] in _PRICE_TAGS
        mv: bool | None = None  # an L2 event took the last place in the queue (once)
        for s in sessions:
            st: Stream | None = s.stream
            if st is None or not st.held:
                if out is None or s.resync:
                    continue
                if frame is None:
                    frame = json_frame(out)
                s.parts.append(frame)
                live += 1
            elif st.cohort is not None:  # conflated: merged once for its whole cohort
                cohort = st.cohort
                held = True
                if cohort.stamp is upstream:
                    continue
                cohort.stamp = upstream
                if price:
                    cohort.backlog.hold_price(key, upstream)
                else:
                    before = self.cache.price_before
                    if mv is None:
                        mv = moved(upstream, before)
                    cohort.backlog.hold_l2(key, upstream, mv, before)
            elif also is not None and s in also:
                continue
            elif price:
                st.hold_price(key, upstream)
                held = True
            else:  # tick by tick, behind
                st.hold_l2(key, upstream, False, None)
                held = True
        if live:
            self.forwarded += live
        if live or held:  # the clock turns again (it rests when nothing is queued or held)
            self.server.wake()

    # -- the clock: releases, behind and caught up -----------------------------------------
    def turn(self, now: float) -> bool:
        """Release what is due; True while any client holds a backlog."""
        solo = self._turn_sessions(now)
        return self._turn_cohorts(now) or solo

    def _turn_sessions(self, now: float) -> bool:
        """The clients with a backlog of their own (tick by tick): told ``behind`` past the
        watermark, released and told ``caught-up`` once their socket drains; True while
        any holds one."""
        holding = False
        for s in self.server.sessions:
            st = s.stream
            if st is None or not s.authed or st.cohort is not None:
                continue
            if not st.behind:
                if st.queued_over(s, BEHIND_BYTES):
                    st.behind = st.held = True
                    st.behinds += 1
                    s.push_control(status_frame(s="behind"))
                    s.write_budget = SLOW_WRITE_BUDGET
            elif not st.queued_over(s, CAUGHT_UP_BYTES):
                self.release(s, st)
                st.behind = st.held = False
                s.push_control(status_frame(s="caught-up", n=str(st.merged)))
                s.write_budget = FAST_WRITE_BUDGET
            if st.behind:
                holding = True  # watched every turn until it catches up
            if st.pending():
                holding = True
                if st.held_since is None:
                    st.held_since = now
            else:
                st.held_since = None
        return holding

    def _turn_cohorts(self, now: float) -> bool:
        """Each rate's shared backlog released to its members when due; True while any
        holds one."""
        holding = False
        for cohort in self.cohorts.values():
            backlog = cohort.backlog
            if now >= cohort.next_at and (
                backlog.pending() or any(m.stream.stale for m in cohort.members)
            ):
                shared: dict[tuple[str, str], Any] = {}
                for s in cohort.members:
                    if s.authed:
                        self.release_member(s, s.stream, cohort, shared)
                backlog.clear()
                backlog.merged = 0
                cohort.next_at = now + cohort.period
            if backlog.pending() or any(m.stream.stale for m in cohort.members):
                holding = True
                if backlog.held_since is None:
                    backlog.held_since = now
            since = backlog.held_since
            for s in cohort.members:
                s.stream.held_since = since
        return holding

    def cohort(self, period: float) -> Cohort:
        """The cohort of conflated clients of this rate (made on first use)."""
        found = self.cohorts.get(period)
        if found is None:
            found = self.cohorts[period] = Cohort(period)
        return found

    def release_member(
        self, s: Session, st: Stream, cohort: Cohort, shared: dict[tuple[str, str], Any]
    ) -> None:
        """What ``s`` subscribes of its cohort's backlog, at the end of its queue (price
        frames framed once for the cohort, L2 events netted once and numbered for it)."""
        if s.resync:  # fresh snapshots are on their way
            st.fresh.update(s.subs["l"])
            return
        if st.queued_over(s, BEHIND_BYTES):  # it misses this release: snapshots next
            st.behind = st.stale = True
            return
        st.behind = False
        if st.stale:
            self._snapshots(s, st)
            return
        backlog = cohort.backlog
        n = self._release_prices(s, backlog, shared) + self._release_books(s, st, backlog, shared)
        st.fresh.clear()
        st.merged += backlog.merged
        if n:
            st.conflated += n
            self.released += n
            self.server.wake()

    def _release_prices(
        self, s: Session, backlog: Stream, shared: dict[tuple[str, str], Any]
    ) -> int:
        """The cohort's merged price messages ``s`` subscribes onto its queue, each framed
        once for the cohort (a touchline subscriber of a depth scrip: its ``tf``/``tk``);
        how many frames."""
        subs, parts = s.subs, s.parts
        n = 0
        for key, msg in backlog.prices.items():
            tag = msg["t"]
            if tag[0] == "d":
                if key in subs["d"]:
                    frame = shared.get(("d", key))
                    if frame is None:
                        frame = shared["d", key] = json_frame(msg)
                    parts.append(frame)
                    n += 1
                if key in subs["t"]:
                    frame = shared.get(("t", key), b"")
                    if frame == b"":
                        touch = touchline_of(msg, "tf" if tag == "df" else "tk")
                        frame = shared["t", key] = None if touch is None else json_frame(touch)
                    if frame is not None:
                        parts.append(frame)
                        n += 1
            elif key in subs["t"]:
                frame = shared.get(("t", key))
                if frame is None:
                    frame = shared["t", key] = json_frame(msg)
                parts.append(frame)
                n += 1
        return n

    def _release_books(
        self, s: Session, st: Stream, backlog: Stream, shared: dict[tuple[str, str], Any]
    ) -> int:
        """The cohort's order books ``s`` subscribes: the held events netted once for the
        cohort and numbered on this connection, or a fresh ``lk`` when that is smaller, the
        upstream sent one, or the book is new to it; how many frames."""
        cache, subs, parts = self.cache, s.subs, s.parts
        n = 0
        l2_sq, books, fresh = st.l2_sq, cache.books, st.fresh
        for key, held in backlog.l2.items():
            if key not in subs["l"]:
                continue
            book = books.get(key)
            if book is None or book.seq < 0:
                continue  # no book yet: its lk is forwarded when it comes
            sq = l2_sq.get(key)
            if (
                held is not None
                and not isinstance(held, list)
                and sq is not None
                and key not in fresh
            ):
                events = shared.get(("l", key))
                if events is None:
                    events = shared["l", key] = net(key, held, book, 0, cache.l2_ft.get(key))
                if not lk_is_smaller(len(events), book):
                    for sq_, event in enumerate(events, sq + 1):
                        event["sq"] = str(sq_)
                        parts.append(json_frame(event))
                    l2_sq[key] = sq + len(events)
                    n += len(events)
                    continue
            # a fresh lk: the upstream sent one, too many events, smaller, or it is new
            parts.append(self.lk_frame(key, book))
            l2_sq[key] = book.seq
            st.resynced += 1
            n += 1
        return n

    def _snapshots(self, s: Session, st: Stream) -> None:
        """Everything ``s`` subscribes, fresh (it missed a release)."""
        snapshot, parts, n = self.server.backend.snapshot, s.parts, 0
        for kind in ("d", "t"):
            for key in s.subs[kind]:
                frame = snapshot(kind, key)
                if frame is not None:
                    parts.append(frame)
                    n += 1
        for key in s.subs["l"]:
            book = self.cache.books.get(key)
            if book is not None and book.seq >= 0:
                parts.append(self.lk_frame(key, book))
                st.l2_sq[key] = book.seq
                n += 1
        st.stale = False
        st.fresh.clear()
        st.resynced += 1
        st.conflated += n
        self.released += n
        self.server.wake()

    def release(self, s: Session, st: Stream) -> None:
        """The backlog as frames at the end of the connection's queue; dropped instead
        while a resync is pending (its fresh snapshots, taken when the connection is next
        written, hold all of it; a delta queued ahead of them would meet a stale book)."""
        if s.resync:
            st.clear()
            return
        cache, subs, parts = self.cache, s.subs, s.parts
        n = 0
        for key, msg in st.prices.items():
            if msg["t"][0] == "d":
                if key in subs["d"]:
                    parts.append(json_frame(msg))
                    n += 1
                if key in subs["t"]:
                    touch = touchline_of(msg, "tf" if msg["t"] == "df" else "tk")
                    if touch is not None:
                        parts.append(json_frame(touch))
                        n += 1
            elif key in subs["t"]:
                parts.append(json_frame(msg))
                n += 1
        books = cache.books
        for key, held in st.l2.items():
            if key not in subs["l"]:
                continue
            book = books.get(key)
            if book is None or book.seq < 0:
                continue  # no book yet: its lk is forwarded when it comes
            if isinstance(held, list):  # every event as it came
                parts.extend(map(json_frame, held))
                n += len(held)
            else:  # past the bound, or the upstream sent an lk: a fresh one
                parts.append(self.lk_frame(key, book))
                st.resynced += 1
                n += 1
        st.prices.clear()
        st.l2.clear()
        st.held_since = None
        if n:
            st.conflated += n
            self.released += n
            self.server.wake()

    def lk_frame(self, key: str, book: OrderBook) -> bytes:
        """The relay's ``lk`` of ``key`` now, framed (built once per change of the book)."""
        cached = self._lk.get(key)
        if cached is not None and cached[0] == book.version and cached[1] == book.seq:
            return cached[2]
        msg = self.cache.book_snapshot(key)
        frame = json_frame(msg)
        self._lk[key] = (book.version, book.seq, frame)
        return frame

    def joined(self, st: Stream, key: str) -> None:
        """A client was just sent the relay's ``lk`` of ``key`` (or none: it has no book
        yet): netted events are numbered on from its ``sq``."""
        book = self.cache.books.get(key)
        st.l2_sq[key] = None if book is None or book.seq < 0 else book.seq

    def forget(self, st: Stream, kind: str, key: str) -> None:
        """A client (re)subscribed ``kind`` of ``key``: what it held for that stream
        predates the snapshot it is about to get."""
        if kind == "l":
            st.l2.pop(key, None)
        else:
            st.prices.pop(key, None)
