"""What the bus's consumers want from a relay: reference-counted, leased, with a grace period.

Each consumer (by its id) states its whole interest in one ``mdctl.want`` message and
renews it within its lease; a ``mdctl.bye``, or a lease run out (the consumer died), takes
it away.  A scrip goes upstream as soon as one consumer (or the relay itself, with
:meth:`Interest.pin`) wants it, and is dropped upstream ``grace`` seconds after the last one
let it go, unless someone wants it again meanwhile: a desk flicking between watchlists
does not churn the upstream subscription.  Order level (L2) is asked for with the scrip and
kept while the scrip is.  No I/O here: the publisher feeds it, ``tick`` runs on a timer and
the two callbacks reach the upstream.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable

Subscribe = Callable[[list[str], bool], None]  # (keys, orders)
Unsubscribe = Callable[[list[str]], None]
PINNED = "\0pinned"  # not an id a consumer can send (ids are printable)


class Interest:
    def __init__(
        self,
        subscribe: Subscribe,
        unsubscribe: Unsubscribe,
        *,
        grace: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
        accept: Callable[[str], bool] | None = None,
        max_keys: int = 5000,
    ) -> None:
        self._subscribe, self._unsubscribe = subscribe, unsubscribe
        self.grace = grace
        self.clock = clock
        #: which keys this relay serves (e.g. its exchanges); others are ignored
        self.accept = accept or (lambda key: True)
        self.max_keys = max_keys  # a consumer asking for more is cut at this many
        #: consumer id -> (keys, order keys, lease expiry)
        self.consumers: dict[str, tuple[frozenset[str], frozenset[str], float]] = {}
        self.active: set[str] = set()  # subscribed upstream
        self.active_orders: set[str] = set()
        self.dropping: dict[str, float] = {}  # key -> when it goes upstream
        self.refused = 0  # keys not accepted or past max_keys

    def pin(self, keys: Iterable[str], orders: Iterable[str] = ()) -> None:
        """The relay's own interest, without a lease (``--scrip`` of the publisher)."""
        self.want(PINNED, keys, orders)

    def want(
        self, consumer: str, keys: Iterable[str], orders: Iterable[str] = (), *, lease: float = 15.0
    ) -> None:
        os_ = self._filter(orders)
        ks = self._filter(keys) | os_
        if consumer == PINNED:
            until = math.inf
        else:  # a lease from the wire is bounded: 1 s .. 1 h
            until = self.clock() + min(max(lease if math.isfinite(lease) else 15.0, 1.0), 3600.0)
        self.consumers[consumer] = (ks, os_, until)
        self._reconcile()

    def bye(self, consumer: str) -> None:
        if self.consumers.pop(consumer, None) is not None:
            self._reconcile()

    def tick(self) -> None:
        """Expire leases; drop upstream what has been unwanted for the grace period."""
        now = self.clock()
        expired = [c for c, (_, _, until) in self.consumers.items() if until <= now]
        for c in expired:
            del self.consumers[c]
        if expired:
            self._reconcile()
        gone = [k for k, at in self.dropping.items() if at <= now]
        if gone:
            for k in gone:
                del self.dropping[k]
                self.active.discard(k)
                self.active_orders.discard(k)
            self._unsubscribe(sorted(gone))

    def wanted(self) -> tuple[set[str], set[str]]:
        keys: set[str] = set()
        orders: set[str] = set()
        for ks, os_, _ in self.consumers.values():
            keys |= ks
            orders |= os_
        return keys, orders

    def refcount(self, key: str) -> int:
        return sum(key in ks for ks, _, _ in self.consumers.values())

    def _filter(self, keys: Iterable[str]) -> frozenset[str]:
        out: list[str] = []
        for key in keys:
            if isinstance(key, str) and "|" in key and self.accept(key):
                out.append(key)
            else:
                self.refused += 1
        if len(out) > self.max_keys:
            self.refused += len(out) - self.max_keys
            out = out[: self.max_keys]
        return frozenset(out)

    def _reconcile(self) -> None:
        keys, orders = self.wanted()
        for k in keys:
            self.dropping.pop(k, None)  # wanted again within the grace period
        new = sorted(keys - self.active)
        new_orders = sorted(orders - self.active_orders)
        if new_orders:
            self._subscribe(new_orders, True)
        plain = [k for k in new if k not in orders]
        if plain:
            self._subscribe(plain, False)
        self.active |= keys
        self.active_orders |= orders
        at = self.clock() + self.grace
        for k in self.active - keys:
            self.dropping.setdefault(k, at)
