"""The relay's merged picture of the upstream feed, and the hook every delta passes through.

:class:`RelayCache` is a ``tui.market.Market`` (so the ordinary ``FeedClient`` writes into
it) whose ``apply`` also hands each market message, after merging it, to the relay's
listeners in upstream order: the fan-out to clients (``tui.relay.fanout``) and anything
else that wants every delta (a NATS publisher: ``listeners.append(fn)``, ``fn(key, seq,
msg)`` with ``seq`` rising by one per message of that scrip since the relay started).

Snapshots are built from merged wire text, never from converted values, so a client
that joins gets exactly the strings a direct client would hold:

- ``dk``: every field received since the last ``dk`` (only while the upstream stream of
  that scrip is depth); ``tk``: the same without levels 2..5 (from depth or touchline);
- ``lk``: the order book by order id, best price first, time priority within a price,
  with the ``sq`` of the last L2 message applied.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from tui.market.store import Market
from tui.market.tape import Tape
from tui.wire.frames import DecodeErrors
from tui.wire.prices import to_units

#: Fields a depth message carries that a touchline message does not (levels 2..5).
DEPTH_ONLY: Final = frozenset(
    f"{side}{kind}{i}" for side in "bs" for kind in "pqo" for i in range(2, 6)
)
#: Price text precision used only to sort an order book's prices
_SORT_PP: Final = 8

Listener = Callable[[str, int, dict[str, Any]], None]


def touchline_of(msg: dict[str, Any], tag: str) -> dict[str, Any] | None:
    """A depth message as a touchline one (``tag``: ``tf``/``tk``): levels 2..5 left out;
    None for a delta with nothing a touchline carries (only ``t``, ``e``, ``tk``)."""
    out = {name: text for name, text in msg.items() if name not in DEPTH_ONLY}
    if tag == "tf" and len(out) <= 3:
        return None
    out["t"] = tag
    return out


class _Untaped(Tape):
    """No tape: the relay keeps no list of order events (it cost ~8% of its CPU at
    50,000 msgs/s), only their count."""

    def append(self, key: str, msg: dict[str, object], action: str) -> None:
        self.total += 1


class RelayCache(Market):
    """See the module docstring."""

    def __init__(self, errors: DecodeErrors | None = None) -> None:
        super().__init__(errors, tape_len=1)
        self.tape = _Untaped(1)
        #: called with (key, seq, msg) after each market message is merged
        self.listeners: list[Listener] = []
        #: per scrip: how many market messages were merged (the listeners' ``seq``)
        self.seq: dict[str, int] = {}
        #: per scrip: the upstream price stream, "d" after a ``dk``, "t" after a ``tk``
        self.stream: dict[str, str] = {}
        #: per scrip: the ``ft`` of its latest L2 message (for ``lk``)
        self.l2_ft: dict[str, Any] = {}
        #: while the listeners run for an ``lo`` ``M``: the order's price before it (None:
        #: not a modify, or an order the book did not have); a modify that changes it
        #: moves the order to the end of its queue (the netting of conflated clients)
        self.price_before: Any = None
        merge = self.apply
        seq, stream, l2_ft, listeners = self.seq, self.stream, self.l2_ft, self.listeners
        books = self.books

        def apply(msg: dict[str, Any], frame: object = None) -> None:
            before = None
            if msg.get("t") == "lo" and msg.get("ac") == "M":
                book, oid = books.get(f"{msg.get('e')}|{msg.get('tk')}"), msg.get("oid")
                if book is not None and type(oid) is str:
                    order = book.orders.get(oid)
                    before = None if order is None else order[1]
            self.price_before = before
            merge(msg, frame)
            try:
                key = msg["e"] + "|" + msg["tk"]
            except (KeyError, TypeError):
                return  # counted by the merge
            t = msg["t"]
            if t == "dk":
                stream[key] = "d"
            elif t == "tk":
                stream[key] = "t"
            elif t[0] == "l" and "ft" in msg:
                l2_ft[key] = msg["ft"]
            n = seq[key] = seq.get(key, 0) + 1
            for listener in listeners:
                listener(key, n, msg)

        apply.takes_frame = True  # type: ignore[attr-defined]  # as Market.apply
        self.apply = apply

    # -- snapshots ----------------------------------------------------------------------
    def merged(self, key: str) -> dict[str, Any] | None:
        """Every field of ``key`` as wire text (None if never seen)."""
        scrip = self.scrips.get(key)
        if scrip is None:
            return None
        return {**scrip.raw, **scrip.delta}

    def depth_snapshot(self, key: str) -> dict[str, Any] | None:
        if self.stream.get(key) != "d":
            return None
        msg = self.merged(key)
        if msg is None:
            return None
        msg["t"] = "dk"
        return msg

    def touch_snapshot(self, key: str) -> dict[str, Any] | None:
        if key not in self.stream:
            return None
        msg = self.merged(key)
        return None if msg is None else touchline_of(msg, "tk")

    def book_snapshot(self, key: str) -> dict[str, Any] | None:
        book = self.books.get(key)
        if book is None or book.seq < 0:
            return None
        e, _, tk = key.partition("|")
        bids: list[tuple[int, list[str]]] = []
        asks: list[tuple[int, list[str]]] = []
        for oid, (side, price, qty) in book.orders.items():
            units = to_units(price, _SORT_PP) if isinstance(price, str) else None
            row = [oid, price, str(qty)]
            if side == "B":
                bids.append((-(units or 0), row))
            else:
                asks.append((units or 0, row))
        bids.sort(key=lambda pair: pair[0])  # stable: time priority kept within a price
        asks.sort(key=lambda pair: pair[0])
        msg: dict[str, Any] = {"t": "lk", "e": e, "tk": tk, "sq": str(book.seq)}
        ft = self.l2_ft.get(key)
        if ft is not None:
            msg["ft"] = ft
        msg["b"] = [row for _, row in bids]
        msg["s"] = [row for _, row in asks]
        return msg

    def state(self, key: str) -> list[dict[str, Any]]:
        """The current full state of ``key`` as snapshot messages (``dk`` or ``tk``, then
        ``lk``), for a listener that must start over (a gap, a late subscriber)."""
        out = [
            m
            for m in (self.depth_snapshot(key) or self.touch_snapshot(key), self.book_snapshot(key))
            if m is not None
        ]
        return out

    def forget(self, key: str) -> None:
        super().forget(key)
        self.stream.pop(key, None)
        self.l2_ft.pop(key, None)
