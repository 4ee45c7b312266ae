"""The L2 order book of one scrip, kept by order id (docs/PROTOCOL.md, "Order level").

Hot path: ``lk`` replaces, ``lo`` adds/modifies/cancels, ``lt`` reduces a resting order.
Prices stay wire text here; :meth:`OrderBook.levels` aggregates by price in units of
``10^-pp`` on demand (only for the scrip on screen).
"""

from __future__ import annotations

from typing import Any

from tui.market.scrip import Level
from tui.wire.frames import BAD_MESSAGE, BAD_NUMBER, DecodeErrors
from tui.wire.prices import to_int, to_units


class OrderBook:
    __slots__ = ("_cache", "gap", "key", "orders", "seq", "version")

    def __init__(self, key: str) -> None:
        self.key = key
        #: oid -> [side "B"/"S", price text, qty]; dict order is arrival order
        self.orders: dict[str, list[Any]] = {}
        self.seq = -1
        #: bumped on every change, for caches
        self.version = 0
        #: True after a sequence gap until the next ``lk``
        self.gap = False
        self._cache: tuple[int, int, tuple[list[Level], list[Level]]] | None = None

    def _sequence(self, msg: dict[str, Any], errors: DecodeErrors) -> None:
        seq = to_int(msg.get("sq"))
        if seq is None:
            errors.add(BAD_NUMBER, f"{self.key} sq={msg.get('sq')!r}")
            return
        if self.seq >= 0 and seq != self.seq + 1:
            self.gap = True
        self.seq = seq

    def snapshot(self, msg: dict[str, Any], errors: DecodeErrors) -> None:
        orders: dict[str, list[Any]] = {}
        for side, rows in (("B", msg.get("b")), ("S", msg.get("s"))):
            if not isinstance(rows, list):
                continue
            for row in rows:
                if not isinstance(row, list) or len(row) != 3:
                    errors.add(BAD_MESSAGE, f"{self.key} lk row {row!r}")
                    continue
                qty = to_int(row[2])
                if qty is None:
                    errors.add(BAD_NUMBER, f"{self.key} lk q={row[2]!r}")
                    continue
                orders[str(row[0])] = [side, row[1], qty]
        self.orders = orders
        self.seq = -1
        self.gap = False
        self._sequence(msg, errors)
        self.version += 1

    def event(self, msg: dict[str, Any], errors: DecodeErrors) -> None:
        """``lo``: ``A`` add, ``M`` modify, ``X`` cancel."""
        self._sequence(msg, errors)
        oid, action = msg.get("oid"), msg.get("ac")
        if action == "X":
            if self.orders.pop(oid, None) is None:  # type: ignore[arg-type]
                errors.add(BAD_MESSAGE, f"{self.key} cancel of unknown order {oid!r}")
                return
        else:
            qty = to_int(msg.get("q"))
            if qty is None or type(oid) is not str:
                errors.add(BAD_NUMBER, f"{self.key} lo q={msg.get('q')!r}")
                return
            if action == "A":
                self.orders[oid] = [msg.get("sd"), msg.get("pr"), qty]
            elif action == "M":
                order = self.orders.get(oid)
                if order is None:
                    errors.add(BAD_MESSAGE, f"{self.key} modify of unknown order {oid!r}")
                    return
                if order[1] != msg.get("pr"):  # a new price loses time priority
                    del self.orders[oid]
                    self.orders[oid] = order
                order[1] = msg.get("pr", order[1])
                order[2] = qty
            else:
                errors.add(BAD_MESSAGE, f"{self.key} unknown order action {action!r}")
                return
        self.version += 1

    def execution(self, msg: dict[str, Any], errors: DecodeErrors) -> None:
        """``lt``: the resting order ``oid`` loses ``q``; it leaves the book at zero."""
        self._sequence(msg, errors)
        oid = msg.get("oid")
        qty = to_int(msg.get("q"))
        if qty is None:
            errors.add(BAD_NUMBER, f"{self.key} lt q={msg.get('q')!r}")
            return
        order = self.orders.get(oid)  # type: ignore[arg-type]
        if order is None:
            errors.add(BAD_MESSAGE, f"{self.key} execution on unknown order {oid!r}")
            return
        left = order[2] - qty
        if left > 0:
            order[2] = left
        else:
            del self.orders[oid]  # type: ignore[arg-type]
        self.version += 1

    def levels(self, pp: int, depth: int = 10) -> tuple[list[Level], list[Level]]:
        """Bids (best first) and asks (best first) aggregated by price, ``depth`` each."""
        cache = self._cache
        if cache is not None and cache[0] == self.version and cache[1] == pp:
            bids, asks = cache[2]
            return bids[:depth], asks[:depth]
        sums: dict[tuple[str, int], list[int]] = {}
        units_of: dict[str, int | None] = {}
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
            (Level(p, q, n) for (s, p), (q, n) in sums.items() if s == "B"), key=lambda lv: -lv.price
        )
        asks = sorted(
            (Level(p, q, n) for (s, p), (q, n) in sums.items() if s == "S"), key=lambda lv: lv.price
        )
        self._cache = (self.version, pp, (bids, asks))
        return bids[:depth], asks[:depth]
