"""What the client wants subscribed, kept across connections and replayed after ``ck OK``.

A key has at most one price stream, touchline (``t``) or depth (``d``): both carry the
touchline fields and a ``tk`` snapshot would wipe the depth levels a ``dk`` set.  Depth
wins: asking for depth on a touchline key switches it (``u`` then ``d``); asking for
touchline on a depth key changes nothing.  Order level (``l``) is independent of both.

Each method returns the request messages for the change; the client sends them only when
the session is live (otherwise :meth:`replay` sends everything on the next ``ck OK``).
"""

from __future__ import annotations

from collections.abc import Iterable

from msgspec import Struct

from tui.wire.protocol import (
    DepthSubscribe,
    DepthUnsubscribe,
    OrdersSubscribe,
    OrdersUnsubscribe,
    TouchlineSubscribe,
    TouchlineUnsubscribe,
    join_keys,
)

#: keys per request: a long ``k`` is split (some Noren servers cap the frame size)
CHUNK = 100


def _check(keys: Iterable[str]) -> list[str]:
    out: list[str] = []
    for key in keys:
        key = key.strip()
        if not key:
            continue
        if "|" not in key or "#" in key:
            raise ValueError(f"a scrip key is EXCH|TOKEN without '#': {key!r}")
        if key not in out:
            out.append(key)
    return out


def _requests(kind: type[Struct], keys: list[str]) -> list[Struct]:
    return [kind(k=join_keys(keys[i : i + CHUNK])) for i in range(0, len(keys), CHUNK)]


class Subscriptions:
    def __init__(self) -> None:
        # dicts as ordered sets: replay in the order the user asked
        self.depth: dict[str, None] = {}
        self.touch: dict[str, None] = {}
        self.orders: dict[str, None] = {}

    def __len__(self) -> int:
        return len(self.depth.keys() | self.touch.keys() | self.orders.keys())

    def wants(self, key: str) -> bool:
        return key in self.depth or key in self.touch or key in self.orders

    def add(self, keys: Iterable[str], *, depth: bool = True, orders: bool = False) -> list[Struct]:
        keys = _check(keys)
        requests: list[Struct] = []
        if depth:
            switch = [k for k in keys if k in self.touch]
            new = [k for k in keys if k not in self.depth]
            for k in switch:
                del self.touch[k]
            self.depth.update(dict.fromkeys(new))
            requests += _requests(TouchlineUnsubscribe, switch) + _requests(DepthSubscribe, new)
        else:
            new = [k for k in keys if k not in self.depth and k not in self.touch]
            self.touch.update(dict.fromkeys(new))
            requests += _requests(TouchlineSubscribe, new)
        if orders:
            new = [k for k in keys if k not in self.orders]
            self.orders.update(dict.fromkeys(new))
            requests += _requests(OrdersSubscribe, new)
        return requests

    def remove(self, keys: Iterable[str]) -> tuple[list[Struct], list[str]]:
        """Forget the keys entirely: the requests to send, and the keys that were wanted."""
        keys = _check(keys)
        depth = [k for k in keys if self.depth.pop(k, 0) is None]
        touch = [k for k in keys if self.touch.pop(k, 0) is None]
        orders = [k for k in keys if self.orders.pop(k, 0) is None]
        requests = (
            _requests(DepthUnsubscribe, depth)
            + _requests(TouchlineUnsubscribe, touch)
            + _requests(OrdersUnsubscribe, orders)
        )
        removed = [k for k in keys if k in depth or k in touch or k in orders]
        return requests, removed

    def resubscribe_orders(self, keys: Iterable[str]) -> list[Struct]:
        """``ul`` then ``l`` for wanted order-level keys: a fresh ``lk`` after a gap."""
        wanted = [k for k in keys if k in self.orders]
        return _requests(OrdersUnsubscribe, wanted) + _requests(OrdersSubscribe, wanted)

    def replay(self) -> list[Struct]:
        """Every subscription, for a newly acknowledged session."""
        return (
            _requests(DepthSubscribe, list(self.depth))
            + _requests(TouchlineSubscribe, list(self.touch))
            + _requests(OrdersSubscribe, list(self.orders))
        )
