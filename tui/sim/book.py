"""The simulator's matching book for one scrip: orders by id, price-time priority.

This is the exchange side of the L2 stream: every change it makes is reported by the
market as an ``lo``/``lt`` event, and the top-5 depth the feed sends is read from it,
so the depth and the orders can never disagree (docs/PROTOCOL.md, "Order level").

Prices are integer units of ``10^-pp`` on the scrip's tick grid.  Each side keeps a
sorted list of its prices (ascending for both; the best bid is the last, the best ask
the first) and a dict of levels; a level keeps its orders in a dict, whose insertion
order is time priority.  Everything is O(log levels) or O(1) per event, which matters
because the market steps tens of thousands of times a second.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from typing import Final

DEPTH: Final = 5
EMPTY: Final = (0, 0, 0)


class Order:
    """A resting order.  ``side`` is ``"B"`` or ``"S"``."""

    __slots__ = ("oid", "price", "qty", "side")

    def __init__(self, oid: str, side: str, price: int, qty: int) -> None:
        self.oid = oid
        self.side = side
        self.price = price
        self.qty = qty


class Level:
    """All orders at one price of one side, oldest first, and their total quantity."""

    __slots__ = ("orders", "qty")

    def __init__(self) -> None:
        self.qty = 0
        self.orders: dict[str, Order] = {}


#: One execution: the resting order (already reduced) and the quantity it traded.
Fill = tuple[Order, int]


class SimBook:
    __slots__ = (
        "ask_px",
        "asks",
        "bid_px",
        "bids",
        "orders",
        "tbq",
        "touched_b",
        "touched_s",
        "tsq",
    )

    def __init__(self) -> None:
        self.orders: dict[str, Order] = {}
        self.bids: dict[int, Level] = {}
        self.asks: dict[int, Level] = {}
        self.bid_px: list[int] = []  # ascending: best bid last
        self.ask_px: list[int] = []  # ascending: best ask first
        self.tbq = 0  # total resting buy quantity
        self.tsq = 0
        #: set when a change reached the top five levels of a side (the publisher clears)
        self.touched_b = True
        self.touched_s = True

    # -- reads ---------------------------------------------------------------------------
    def best_bid(self) -> int:
        """The best bid price, 0 if none."""
        return self.bid_px[-1] if self.bid_px else 0

    def best_ask(self) -> int:
        """The best ask price, 0 if none."""
        return self.ask_px[0] if self.ask_px else 0

    def top(self, side: str) -> list[tuple[int, int, int]]:
        """The five best ``(price, qty, orders)`` of a side, padded with ``(0, 0, 0)``."""
        if side == "B":
            levels, prices = self.bids, self.bid_px[-1 : -DEPTH - 1 : -1]
        else:
            levels, prices = self.asks, self.ask_px[:DEPTH]
        out = []
        for p in prices:
            lv = levels[p]
            out.append((p, lv.qty, len(lv.orders)))
        while len(out) < DEPTH:
            out.append(EMPTY)
        return out

    def level_at(self, side: str, rank: int) -> Level | None:
        """The level ``rank`` places from the best (0 = best), or None."""
        prices = self.bid_px if side == "B" else self.ask_px
        if rank >= len(prices):
            return None
        if side == "B":
            return self.bids[prices[-1 - rank]]
        return self.asks[prices[rank]]

    def depth_of(self, side: str) -> int:
        """How many price levels a side has."""
        return len(self.bid_px) if side == "B" else len(self.ask_px)

    def sides(self) -> tuple[list[Order], list[Order]]:
        """All resting orders, bids then asks, best price first, time priority within."""
        bids = [o for p in reversed(self.bid_px) for o in self.bids[p].orders.values()]
        asks = [o for p in self.ask_px for o in self.asks[p].orders.values()]
        return bids, asks

    # -- changes -------------------------------------------------------------------------
    def add(self, order: Order) -> None:
        """Rest ``order`` at the back of its price level (it must not cross)."""
        if order.side == "B":
            levels, prices = self.bids, self.bid_px
            self.tbq += order.qty
        else:
            levels, prices = self.asks, self.ask_px
            self.tsq += order.qty
        lv = levels.get(order.price)
        if lv is None:
            lv = levels[order.price] = Level()
            insort(prices, order.price)
        lv.orders[order.oid] = order
        lv.qty += order.qty
        self.orders[order.oid] = order
        self._touch(order.side, order.price)

    def remove(self, order: Order) -> None:
        """Take ``order`` out of the book (cancel, or filled)."""
        del self.orders[order.oid]
        self._touch(order.side, order.price)
        if order.side == "B":
            levels, prices = self.bids, self.bid_px
            self.tbq -= order.qty
        else:
            levels, prices = self.asks, self.ask_px
            self.tsq -= order.qty
        lv = levels[order.price]
        del lv.orders[order.oid]
        lv.qty -= order.qty
        if not lv.orders:
            del levels[order.price]
            del prices[bisect_left(prices, order.price)]

    def resize(self, order: Order, qty: int) -> None:
        """Change a resting order's quantity in place (keeps its time priority)."""
        delta = qty - order.qty
        self._touch(order.side, order.price)
        lv = (self.bids if order.side == "B" else self.asks)[order.price]
        lv.qty += delta
        if order.side == "B":
            self.tbq += delta
        else:
            self.tsq += delta
        order.qty = qty

    def reprice(self, order: Order, price: int, qty: int) -> None:
        """Move a resting order to a new price (it loses time priority)."""
        self.remove(order)
        order.price = price
        order.qty = qty
        self.add(order)

    def _touch(self, side: str, price: int) -> None:
        """Flag the side if ``price`` is (or was) among its five best."""
        if side == "B":
            prices = self.bid_px
            if len(prices) <= DEPTH or price >= prices[-DEPTH]:
                self.touched_b = True
        else:
            prices = self.ask_px
            if len(prices) <= DEPTH or price <= prices[DEPTH - 1]:
                self.touched_s = True

    def crosses(self, side: str, price: int) -> bool:
        """Would an order of ``side`` at ``price`` trade on arrival?"""
        if side == "B":
            return bool(self.ask_px) and self.ask_px[0] <= price
        return bool(self.bid_px) and self.bid_px[-1] >= price

    def match(self, side: str, limit: int, qty: int) -> tuple[list[Fill], int]:
        """Execute an incoming order against the other side, best price then oldest first.

        Returns the fills (resting order, traded quantity) and the quantity left over;
        filled resting orders have left the book.
        """
        fills: list[Fill] = []
        if side == "B":
            levels, prices = self.asks, self.ask_px
        else:
            levels, prices = self.bids, self.bid_px
        while qty > 0 and prices:
            best = prices[0] if side == "B" else prices[-1]
            if (side == "B" and best > limit) or (side == "S" and best < limit):
                break
            lv = levels[best]
            for order in list(lv.orders.values()):
                take = min(order.qty, qty)
                qty -= take
                fills.append((order, take))
                if take == order.qty:
                    self.remove(order)
                    order.qty = 0
                else:
                    self.resize(order, order.qty - take)
                if qty == 0:
                    break
        return fills, qty
