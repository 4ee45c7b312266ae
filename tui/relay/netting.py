"""A conflated client's L2 events, netted per scrip: the fewest events that take its book
from where it was at its last release to the relay's book now.

While a conflated client waits for its next release, each order event of a scrip only
marks the order it touches (:meth:`Touched.mark`: one dict operation, no copy); at the
release the orders touched are compared with the relay's merged book (:func:`net`):

- an order added and gone within the window vanishes (nothing is sent);
- an order the client had that is gone is sent as one ``lo`` ``X`` (cancelled or
  executed away alike: a conflated stream carries state, not each execution);
- an order the client had that is still there is sent as one ``lo`` ``M`` with its final
  price and quantity (a changed price loses time priority on the client, as upstream);
- an order added within the window and still there is sent as one ``lo`` ``A``.

Events go out in the order the orders last took a place in the queue (an add, or a
modify that changed the price), so time priority within a price is kept; an order that
moved and came back to the price the client has is sent as ``X`` then ``A`` (an ``M``
with an unchanged price would leave it in its old place).  ``sq`` rises by one per
event on the connection, as the protocol says (docs/PROTOCOL.md, "Order level"), so it is
this client's own numbering from the last ``lk`` it got; the fan-out sends that ``lk``
instead when it is smaller than the netted events (:func:`lk_is_smaller`).
"""

from __future__ import annotations

from typing import Any, Final

from tui.market.book import OrderBook

#: rough wire sizes: an ``lo`` event, and one ``[oid, price, qty]`` row of an ``lk``
EVENT_BYTES: Final = 95
ROW_BYTES: Final = 28


class Touched:
    """The orders of one scrip touched since the client's last release, in queue order."""

    __slots__ = ("events", "orders")

    def __init__(self) -> None:
        #: oid -> [had it at the window's start, the last event that touched it]
        self.orders: dict[str, list[Any]] = {}
        self.events = 0  # upstream events folded in

    def mark(self, msg: dict[str, Any], moved: bool, before: Any) -> None:
        """``msg`` touched its order; ``moved``: it took the last place in its queue (an
        add, or a modify that changed the price); ``before``: the order's price before a
        modify (``RelayCache.price_before``)."""
        self.events += 1
        oid = msg.get("oid")
        if type(oid) is not str:
            return  # malformed: counted by the merge, and nothing of it is in the book
        orders = self.orders
        entry = orders.get(oid)
        if entry is None:  # first touch: the client has it unless this adds it
            ac = msg.get("ac")
            start = before if ac == "M" else msg.get("pr")
            orders[oid] = [ac != "A", msg, start, moved]
        else:
            entry[1] = msg
            if moved:
                entry[3] = True
                del orders[oid]
                orders[oid] = entry


def moved(msg: dict[str, Any], before: Any) -> bool:
    """Whether an L2 event puts its order last in its queue: an add, or a modify that
    changes its price (``before``); one that keeps its price leaves it in place."""
    ac = msg.get("ac")
    if ac == "A":
        return True
    return ac == "M" and before is not None and msg.get("pr", before) != before


def net(key: str, touched: Touched, book: OrderBook, sq: int, ft: Any) -> list[dict[str, Any]]:
    """The netted events of ``touched`` against ``book`` (the relay's, now), numbered from
    ``sq + 1``."""
    e, _, tk = key.partition("|")
    now = book.orders
    out: list[dict[str, Any]] = []
    for oid, (had, last, start, moved_) in touched.orders.items():
        order = now.get(oid)
        if order is None:
            if not had:
                continue  # added and gone within the window
            msgs = [
                {
                    "t": "lo",
                    "e": e,
                    "tk": tk,
                    "ft": ft,
                    "sq": "",
                    "oid": oid,
                    "sd": last.get("sd"),
                    "ac": "X",
                    "pr": last.get("pr"),
                    "q": last.get("q"),
                }
            ]
        else:
            side, price, qty = order
            msg = {
                "t": "lo",
                "e": e,
                "tk": tk,
                "ft": ft,
                "sq": "",
                "oid": oid,
                "sd": side,
                "ac": "M" if had else "A",
                "pr": price,
                "q": str(qty),
            }
            msgs = [msg]
            if had and moved_ and price == start:  # moved, and back to the client's price:
                msgs = [{**msg, "ac": "X"}, {**msg, "ac": "A"}]  # an M would not move it
        for msg in msgs:
            if ft is None:
                del msg["ft"]
            sq += 1
            msg["sq"] = str(sq)
            out.append(msg)
    return out


def lk_is_smaller(events: int, book: OrderBook) -> bool:
    """Whether a fresh ``lk`` of ``book`` is fewer bytes than ``events`` netted events."""
    return events * EVENT_BYTES > len(book.orders) * ROW_BYTES + 80
