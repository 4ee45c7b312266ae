"""Orders added on the L2 tape lately, by order id: what the L2 rules remember of orders."""

from __future__ import annotations

from typing import Final

#: Order ids remembered per scrip (oldest forgotten first).
MAX_TRACKED_ORDERS: Final = 5000


class RecentOrders:
    """oid -> (time added or last modified, price text, qty), oldest first; an order is
    forgotten ``window`` seconds after, or when :data:`MAX_TRACKED_ORDERS` newer ones came."""

    __slots__ = ("orders", "window")

    def __init__(self, window: float) -> None:
        self.window = window
        self.orders: dict[str, tuple[float, str, int]] = {}

    def put(self, oid: str, now: float, price: str, qty: int) -> tuple[float, str, int] | None:
        """An add or modify (it moves the order to its new price); the order before, if known."""
        orders = self.orders
        before = orders.pop(oid, None)
        orders[oid] = (now, price, qty)
        if len(orders) > MAX_TRACKED_ORDERS:
            del orders[next(iter(orders))]
        return before

    def pop(self, oid: str) -> tuple[float, str, int] | None:
        """A cancel: the order, if known."""
        return self.orders.pop(oid, None)

    def prune(self, now: float) -> None:
        """Forget orders added too long ago to count."""
        orders, window = self.orders, self.window
        while orders:
            oid = next(iter(orders))
            if now - orders[oid][0] <= window:
                break
            del orders[oid]
