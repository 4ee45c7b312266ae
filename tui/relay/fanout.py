"""The relay's fan-out: every upstream market message to the clients that subscribe it.

:meth:`Fanout.on_message` is a cache listener (``tui.relay.cache``): it runs right after
the message is merged, so a client that joins between two messages gets a snapshot that
already holds the first and is then sent the second: no gap, no repeat.

- A tick-by-tick client that keeps up gets the message framed once and shared with every
  such client (``df``/``dk`` as they came; for a touchline subscriber of a scrip the
  upstream streams as depth, the same changes without levels 2..5, as ``tf``/``tk``).
- A held client (conflated, or behind) has it merged into its backlog
  (``tui.relay.stream``), released on the relay's clock: at its rate for a conflated
  client, once its socket drains for one that fell behind (told so with ``st``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from tui.market.book import OrderBook
from tui.relay.cache import RelayCache, touchline_of
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
        self, sessions: set[Session], key: str, out: dict[str, Any] | None,
        upstream: dict[str, Any], also: set[Session] | None,
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
            elif also is not None and s in also:
                continue
            elif price:
                st.hold_price(key, upstream)
                held = True
            else:
                before = self.cache.price_before
                if mv is None:
                    mv = moved(upstream, before)
                st.hold_l2(key, upstream, mv, before)
                held = True
        if live:
            self.forwarded += live
        if live or held:  # the clock turns again (it rests when nothing is queued or held)
            self.server.wake()

    # -- the clock: releases, behind and caught up -----------------------------------------
    def turn(self, now: float) -> bool:
        """Release what is due; True while any client holds a backlog."""
        holding = False
        for s in self.server.sessions:
            st = s.stream
            if st is None or not s.authed:
                continue
            queued = st.queued_bytes(s)
            if st.period is None:
                if not st.behind:
                    if queued > BEHIND_BYTES:
                        st.behind = st.held = True
                        st.behinds += 1
                        s.push_control(status_frame(s="behind"))
                        s.write_budget = SLOW_WRITE_BUDGET
                elif queued < CAUGHT_UP_BYTES:
                    self.release(s, st)
                    st.behind = st.held = False
                    s.push_control(status_frame(s="caught-up", n=str(st.merged)))
                    s.write_budget = FAST_WRITE_BUDGET
            elif now >= st.next_at:
                st.behind = queued > BEHIND_BYTES
                if not st.behind:
                    self.release(s, st)
                    st.next_at = now + st.period
            if st.behind:
                holding = True  # watched every turn until it catches up
            if st.pending():
                holding = True
                if st.held_since is None:
                    st.held_since = now
            else:
                st.held_since = None
        return holding

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
        l2_sq, books, lk_frame = st.l2_sq, cache.books, self.lk_frame
        for key, held in st.l2.items():
            if key not in subs["l"]:
                continue
            book = books.get(key)
            if book is None or book.seq < 0:
                continue  # no book yet: its lk is forwarded when it comes
            if isinstance(held, list):  # tick by tick, behind: every event as it came
                frames = list(map(json_frame, held))
                parts.extend(frames)
                n += len(frames)
                continue
            sq = l2_sq.get(key)
            if held is not None and sq is not None:
                events = net(key, held, book, sq, cache.l2_ft.get(key))
                if not lk_is_smaller(len(events), book):
                    parts.extend(map(json_frame, events))
                    l2_sq[key] = sq + len(events)
                    st.merged += held.events - len(events)
                    n += len(events)
                    continue
                st.merged += held.events - 1
            # a fresh lk: the upstream sent one, too many events, or it is smaller
            parts.append(lk_frame(key, book))
            l2_sq[key] = book.seq
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
