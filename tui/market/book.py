"""The L2 order book of one scrip, kept by order id (docs/PROTOCOL.md, "Order level").

Hot path: ``lk`` replaces, ``lo`` adds/modifies/cancels, ``lt`` reduces a resting order.
Prices stay wire text here (checked to be well-formed decimals on arrival);
:meth:`OrderBook.levels` aggregates by price in units of ``10^-pp`` on demand (only for the
scrip on screen).

A bad value never replaces a good one (docs/BAD_INPUT.md): an event with a field it needs
missing or malformed (order id, action, side, price, quantity) is counted with the field
named and not applied, and since the book may now differ from the exchange's, it is
marked ``gap`` so the client asks for a fresh ``lk``.  A bad ``lk`` row is counted and
skipped.
"""

from __future__ import annotations

from typing import Any, Final, TypeGuard

from tui.market.scrip import Level
from tui.wire.frames import BAD_MESSAGE, BAD_NUMBER, BAD_VALUE, DecodeErrors
from tui.wire.prices import is_decimal, to_int, to_units

#: longest order id kept
MAX_OID: Final = 64
_SIDES: Final = ("B", "S")


def _is_oid(oid: object) -> TypeGuard[str]:
    return type(oid) is str and 0 < len(oid) <= MAX_OID


def _bad(errors: DecodeErrors, key: str, where: str, name: str, value: object) -> None:
    numeric = name in ("pr", "q", "sq") and type(value) is str
    sample = value if type(value) is str and len(value) <= 40 else f"<{type(value).__name__}>"
    errors.add(BAD_NUMBER if numeric else BAD_VALUE, f"{key} {where} {name}={sample!r}", name)


class OrderBook:
    __slots__ = ("_cache", "gap", "key", "orders", "seq", "version")

    def __init__(self, key: str) -> None:
        self.key = key
        #: oid -> [side "B"/"S", price text, qty]; dict order is arrival order
        self.orders: dict[str, list[Any]] = {}
        self.seq = -1
        #: bumped on every change, for caches
        self.version = 0
        #: True after a sequence gap (or an event that could not be applied) until the next ``lk``
        self.gap = False
        self._cache: tuple[int, int, tuple[list[Level], list[Level]]] | None = None

    def _sequence(self, msg: dict[str, Any], errors: DecodeErrors, where: str) -> None:
        seq = to_int(msg.get("sq"))
        if seq is None:
            _bad(errors, self.key, where, "sq", msg.get("sq"))
            return
        if self.seq >= 0 and seq != self.seq + 1:
            self.gap = True
        self.seq = seq

    def _refuse(self, errors: DecodeErrors, where: str, name: str, value: object) -> None:
        """An event that cannot be applied: counted, and the book asks for a fresh ``lk``."""
        _bad(errors, self.key, where, name, value)
        self.gap = True

    def snapshot(self, msg: dict[str, Any], errors: DecodeErrors) -> None:
        orders: dict[str, list[Any]] = {}
        for name, side in (("b", "B"), ("s", "S")):
            rows = msg.get(name)
            if rows is None and name not in msg:
                continue
            if type(rows) is not list:
                _bad(errors, self.key, "lk", name, rows)
                continue
            for row in rows:
                if type(row) is not list or len(row) != 3:
                    sample = row if type(row) is str else f"<{type(row).__name__}>"
                    errors.add(BAD_MESSAGE, f"{self.key} lk row {sample!r}"[:80])
                    continue
                oid, price, qty_text = row
                qty = to_int(qty_text)
                if not _is_oid(oid):
                    _bad(errors, self.key, "lk", "oid", oid)
                elif not is_decimal(price):
                    _bad(errors, self.key, "lk", "pr", price)
                elif qty is None:
                    _bad(errors, self.key, "lk", "q", qty_text)
                else:
                    orders[oid] = [side, price, qty]
        self.orders = orders
        self.seq = -1
        self.gap = False
        self._sequence(msg, errors, "lk")
        self.version += 1

    def event(self, msg: dict[str, Any], errors: DecodeErrors) -> str:
        """``lo``: ``A`` add, ``M`` modify, ``X`` cancel.  The action if the message is well
        formed (it goes on the tape, even for an order the book does not know), else ``""``."""
        self._sequence(msg, errors, "lo")
        oid, action = msg.get("oid"), msg.get("ac")
        if not _is_oid(oid):
            self._refuse(errors, "lo", "oid", oid)
            return ""
        if action == "X":
            if self.orders.pop(oid, None) is None:
                errors.add(BAD_MESSAGE, f"{self.key} cancel of unknown order {oid!r}")
            else:
                self.version += 1
            return "X"
        if action != "A" and action != "M":
            self._refuse(errors, "lo", "ac", action)
            return ""
        qty = to_int(msg.get("q"))
        if qty is None:
            self._refuse(errors, "lo", "q", msg.get("q"))
            return ""
        price = msg.get("pr")
        if action == "A":
            side = msg.get("sd")
            if side not in _SIDES:
                self._refuse(errors, "lo", "sd", side)
                return ""
            if not is_decimal(price):
                self._refuse(errors, "lo", "pr", price)
                return ""
            self.orders[oid] = [side, price, qty]
        else:
            order = self.orders.get(oid)
            if "pr" not in msg:
                price = None if order is None else order[1]
            elif not is_decimal(price):
                self._refuse(errors, "lo", "pr", price)
                return ""
            if order is None:
                errors.add(BAD_MESSAGE, f"{self.key} modify of unknown order {oid!r}")
                return "M"
            if order[1] != price:  # a new price loses time priority
                del self.orders[oid]
                self.orders[oid] = order
            order[1] = price
            order[2] = qty
        self.version += 1
        return "A" if action == "A" else "M"

    def execution(self, msg: dict[str, Any], errors: DecodeErrors) -> bool:
        """``lt``: the resting order ``oid`` loses ``q``; it leaves the book at zero.  True
        if the message is well formed (it goes on the tape)."""
        self._sequence(msg, errors, "lt")
        oid = msg.get("oid")
        if not _is_oid(oid):
            self._refuse(errors, "lt", "oid", oid)
            return False
        qty = to_int(msg.get("q"))
        if qty is None:
            self._refuse(errors, "lt", "q", msg.get("q"))
            return False
        if not is_decimal(msg.get("pr")):
            self._refuse(errors, "lt", "pr", msg.get("pr"))
            return False
        order = self.orders.get(oid)
        if order is None:
            errors.add(BAD_MESSAGE, f"{self.key} execution on unknown order {oid!r}")
            return True
        left = order[2] - qty
        if left > 0:
            order[2] = left
        else:
            del self.orders[oid]
        self.version += 1
        return True

    def levels(self, pp: int, depth: int = 10) -> tuple[list[Level], list[Level]]:
        """Bids (best first) and asks (best first) aggregated by price, ``depth`` each.
        An order whose price is finer than ``pp`` (or absurd at it) is left out."""
        cache = self._cache
        if cache is not None and cache[0] == self.version and cache[1] == pp:
            bids, asks = cache[2]
            return bids[:depth], asks[:depth]
        sums: dict[tuple[str, int], list[int]] = {}
        units_of: dict[object, int | None] = {}
        for side, price, qty in self.orders.values():
            units = units_of.get(price, -1)
            if units == -1:
                units = units_of[price] = to_units(price, pp)
            if units is None:
                continue
            acc = sums.get((side, units))
            if acc is None:
                sums[(side, units)] = [qty, 1]
            else:
                acc[0] += qty
                acc[1] += 1
        bids = sorted(
            (Level(p, q, n) for (s, p), (q, n) in sums.items() if s == "B"),
            key=lambda lv: -lv.price,
        )
        asks = sorted(
            (Level(p, q, n) for (s, p), (q, n) in sums.items() if s == "S"), key=lambda lv: lv.price
        )
        self._cache = (self.version, pp, (bids, asks))
        return bids[:depth], asks[:depth]
