"""Helpers the bus tests share (imported as a module): a seeded market stream, a consumer
with its own market, and the exactness check (a consumer's market against the reference
market fed the same messages directly)."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
from collections.abc import Callable, Iterator
from typing import Any, Self

from support.waiting import until as _until
from tui.bus.config import BusConfig
from tui.bus.source import NatsSource
from tui.market.store import Market
from tui.sim.market import SimMarket
from tui.wire.frames import DecodeErrors

FT0 = 1750651200.0


def stream(market: SimMarket, steps: int, *, start: int = 0) -> Iterator[dict[str, Any]]:
    """The deltas a depth+orders subscriber of every scrip gets for ``steps`` steps."""
    for i, step in enumerate(market.run(steps, FT0 + start * 0.01, 0.01)):
        del i
        yield from step.l2
        if step.df is not None:
            yield step.df


def state_of(market: Market, key: str) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """Everything a desk can read of one scrip: wire text, typed values, the order book."""
    market.sweep()
    scrip = market.view(key)
    raw = {k: v for k, v in scrip.raw.items() if k != "t"} if scrip else {}
    values = dict(scrip.values) if scrip else {}
    book = market.books.get(key)
    orders = {oid: tuple(o) for oid, o in book.orders.items()} if book else {}
    return raw, values, orders


def digest(market: Market, keys: list[str]) -> str:
    """One short hash of everything :func:`state_of` reads, for comparing processes."""
    h = hashlib.sha256()
    for key in keys:
        h.update(json.dumps([key, *state_of(market, key)], sort_keys=True, default=str).encode())
    return h.hexdigest()[:16]


def differences(reference: Market, other: Market, keys: list[str]) -> list[str]:
    """The keys on which ``other`` is not exactly ``reference`` (empty: exact)."""
    return [k for k in keys if state_of(reference, k) != state_of(other, k)]


class Consumer:
    """A NatsSource with its own market, run as a task."""

    def __init__(
        self,
        url: str,
        keys: list[str],
        *,
        orders: bool = True,
        ca_file: str | None = None,
        **kw: Any,
    ) -> None:
        self.market = Market(DecodeErrors())
        self.source = NatsSource(BusConfig(url=url, ca_file=ca_file), self.market, **kw)
        self.source.subscribe(keys, depth=True, orders=orders)
        self.task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Self:
        self.task = asyncio.create_task(self.source.run())
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.source.stop()
        assert self.task is not None
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.task, timeout=10)


async def until(cond: Callable[[], object], timeout: float = 20.0, what: str = "") -> None:
    """``helpers.until`` with a bound for a busy machine: a bus test starts processes,
    a server and reconnections, each of which can wait for a core."""
    await _until(cond, timeout=timeout, what=what)
