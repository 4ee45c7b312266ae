"""The state of a replayed feed at the wire level: what a client joining now must get.

:class:`WireCache` folds each recorded market message the way the protocol says
(``tk``/``dk`` replace, ``tf``/``df`` merge field by field, ``lk`` replaces the order book,
``lo``/``lt`` change it by order id) and answers with ``dk``/``tk``/``lk`` snapshots that a
client can start from: the same picture as a client that saw every message.  Wire text is
kept as it came (no conversion), so snapshots are exact.  The ``lk`` carries the last
``sq`` seen, so the recorded events after it follow in sequence.
"""

from __future__ import annotations

import re
from typing import Any, Final

from tui.wire.prices import sort_book_rows

#: the request kind each market message belongs to
KIND_OF: Final = {"dk": "d", "df": "d", "tk": "t", "tf": "t", "lk": "l", "lo": "l", "lt": "l"}
#: depth levels 2-5: not part of a touchline
_DEEP: Final = re.compile(r"^[bs][pqo][2-5]$")


def touchline_of(fields: dict[str, Any]) -> dict[str, Any]:
    """The touchline part of depth fields (levels 2-5 dropped)."""
    return {name: value for name, value in fields.items() if not _DEEP.match(name)}


class WireCache:
    def __init__(self) -> None:
        self.depth: dict[str, dict[str, Any]] = {}
        self.touch: dict[str, dict[str, Any]] = {}
        #: key -> order id -> [side, price, qty], in time priority (insertion order)
        self.books: dict[str, dict[str, list[Any]]] = {}
        self.book_meta: dict[str, dict[str, Any]] = {}  # key -> {"e","tk","ft","sq"}

    def keys(self) -> set[str]:
        return set(self.depth) | set(self.touch) | set(self.books)

    def __contains__(self, key: object) -> bool:
        return key in self.depth or key in self.touch or key in self.books

    def apply(self, msg: dict[str, Any]) -> str:
        """Fold one market message; its key (``""`` if it has none or is not market data).
        On the replay server's hot path: the commonest messages take the fewest steps."""
        try:
            key: str = msg["e"] + "|" + msg["tk"]
        except (KeyError, TypeError):
            return ""
        t = msg.get("t")
        if t == "df":
            fields = self.depth.get(key)
            if fields is None:
                self.depth[key] = dict(msg)
            else:
                fields.update(msg)
        elif t == "lo" or t == "lt" or t == "lk":
            self._l2(t, key, msg)
        elif t == "tf":
            fields = self.touch.get(key)
            if fields is None:
                self.touch[key] = dict(msg)
            else:
                fields.update(msg)
        elif t == "dk":
            self.depth[key] = dict(msg)
        elif t == "tk":
            self.touch[key] = dict(msg)
        else:
            return ""
        return key

    def _l2(self, t: str, key: str, msg: dict[str, Any]) -> None:
        meta = self.book_meta.get(key)
        if meta is None:
            meta = self.book_meta[key] = {"e": msg["e"], "tk": msg["tk"]}
        ft, sq = msg.get("ft"), msg.get("sq")
        if ft is not None:
            meta["ft"] = ft
        if sq is not None:
            meta["sq"] = sq
        if t == "lk":
            fresh: dict[str, list[Any]] = {}
            for side, orders in (("B", msg.get("b")), ("S", msg.get("s"))):
                for entry in orders if isinstance(orders, list) else ():
                    if isinstance(entry, list) and len(entry) >= 3:
                        fresh[str(entry[0])] = [side, entry[1], entry[2]]
            self.books[key] = fresh
            return
        book = self.books.get(key)
        if book is None:
            book = self.books[key] = {}
        oid = msg.get("oid")
        if type(oid) is not str:
            oid = str(oid)
        if t == "lt":
            order = book.get(oid)
            if order is not None:
                try:
                    left = int(order[2]) - int(msg.get("q", 0))
                except (TypeError, ValueError):
                    return
                if left <= 0:
                    del book[oid]
                else:
                    order[2] = str(left) if isinstance(order[2], str) else left
            return
        action = msg.get("ac")
        if action == "A":
            book[oid] = [msg.get("sd"), msg.get("pr"), msg.get("q")]
        elif action == "X":
            book.pop(oid, None)
        elif action == "M":
            order = book.get(oid)
            if order is None:
                return
            price = msg.get("pr", order[1])
            if price != order[1]:  # a new price loses time priority
                del book[oid]
                book[oid] = [order[0], price, msg.get("q", order[2])]
            else:
                order[2] = msg.get("q", order[2])

    def snapshot(self, kind: str, key: str) -> dict[str, Any] | None:
        """The ``dk``/``tk``/``lk`` a client subscribing ``kind`` of ``key`` starts from
        (None: nothing of it yet).  A touchline comes from depth when only that was recorded."""
        if kind == "d":
            fields = self.depth.get(key)
            return None if fields is None else {**fields, "t": "dk"}
        if kind == "t":
            fields = self.touch.get(key)
            if fields is None and key in self.depth:
                fields = touchline_of(self.depth[key])
            return None if fields is None else {**fields, "t": "tk"}
        book = self.books.get(key)
        if book is None:
            return None
        meta = self.book_meta[key]
        bids = [[oid, o[1], o[2]] for oid, o in book.items() if o[0] == "B"]
        asks = [[oid, o[1], o[2]] for oid, o in book.items() if o[0] == "S"]
        sort_book_rows(bids, asks)
        return {"t": "lk", **meta, "b": bids, "s": asks}
