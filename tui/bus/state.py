"""The latest full state of one scrip, as the publisher keeps it for the last-value store.

Touchline/depth: ``tk``/``dk`` replace the fields, ``tf``/``df`` update them (an absent
field is unchanged), exactly as a consumer's market merges them; the full state is one
``dk`` (or ``tk`` if only touchline was ever seen) carrying every field.
Order level: ``lk`` replaces the book, ``lo`` adds/modifies/cancels, ``lt`` reduces a resting
order; the full state is one ``lk`` (best price first, time priority within a price) whose
``sq`` is that of the latest message, so the consumer's book checks the next one.
Prices stay wire text; quantities are integers only where an execution subtracts.
Nothing here raises on input: a message the book cannot follow makes the book unknown
(:attr:`L2State.broken`) until the next ``lk``, and is counted by the caller.
"""

from __future__ import annotations

from typing import Any

from tui.wire.prices import sort_book_rows


class L1State:
    """Touchline and depth fields of one scrip."""

    __slots__ = ("depth", "fields")

    def __init__(self) -> None:
        self.fields: dict[str, Any] = {}
        self.depth = False  # a dk/df was seen: the state is a dk

    def apply(self, msg: dict[str, Any]) -> None:
        t = msg.get("t")
        if t == "dk" or t == "tk":
            self.fields = dict(msg)
        else:
            self.fields.update(msg)
        if t == "dk" or t == "df":
            self.depth = True

    def full(self) -> dict[str, Any]:
        out = dict(self.fields)
        out["t"] = "dk" if self.depth else "tk"
        return out


class L2State:
    """The order book of one scrip by order id: oid -> [side, price text, qty text]."""

    __slots__ = ("broken", "e", "ft", "orders", "sq", "tk")

    def __init__(self) -> None:
        self.orders: dict[str, list[Any]] = {}
        self.e: Any = ""
        self.tk: Any = ""
        self.ft: Any = "0"
        self.sq: Any = "0"
        self.broken = True  # no lk yet

    def apply(self, msg: dict[str, Any]) -> bool:
        """Merge one L2 message; False if the book could not follow it (now broken)."""
        t = msg.get("t")
        self.e, self.tk = msg.get("e", self.e), msg.get("tk", self.tk)
        self.ft, self.sq = msg.get("ft", self.ft), msg.get("sq", self.sq)
        if t == "lk":
            self.orders = {}
            self.broken = False
            for side, rows in (("B", msg.get("b")), ("S", msg.get("s"))):
                for row in rows if isinstance(rows, list) else ():
                    if isinstance(row, list) and len(row) == 3:
                        self.orders[str(row[0])] = [side, row[1], row[2]]
            return True
        if self.broken:
            return False
        ok = self._event(msg) if t == "lo" else self._execution(msg)
        if not ok:
            self.broken = True
        return ok

    def _event(self, msg: dict[str, Any]) -> bool:
        oid, action = msg.get("oid"), msg.get("ac")
        if not isinstance(oid, str):
            return False
        if action == "A":
            self.orders[oid] = [msg.get("sd"), msg.get("pr"), msg.get("q")]
            return True
        order = self.orders.get(oid)
        if order is None:
            return False
        if action == "X":
            del self.orders[oid]
        elif action == "M":
            price = msg.get("pr", order[1])
            if price != order[1]:  # a new price loses time priority
                del self.orders[oid]
                self.orders[oid] = order
            order[1], order[2] = price, msg.get("q", order[2])
        else:
            return False
        return True

    def _execution(self, msg: dict[str, Any]) -> bool:
        order = self.orders.get(msg.get("oid"))  # type: ignore[arg-type]
        if order is None:
            return False
        try:
            left = int(order[2]) - int(msg.get("q"))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return False
        if left > 0:
            order[2] = str(left)
        else:
            del self.orders[msg["oid"]]
        return True

    def full(self) -> dict[str, Any] | None:
        """An ``lk`` of the whole book; None while the book is unknown."""
        if self.broken:
            return None
        bids = [[oid, o[1], o[2]] for oid, o in self.orders.items() if o[0] == "B"]
        asks = [[oid, o[1], o[2]] for oid, o in self.orders.items() if o[0] == "S"]
        sort_book_rows(bids, asks)
        return {
            "t": "lk",
            "e": self.e,
            "tk": self.tk,
            "ft": self.ft,
            "sq": self.sq,
            "b": bids,
            "s": asks,
        }
