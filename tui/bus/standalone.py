"""``marketdesk publish``: a feed client whose every market message also goes onto the bus.

The WebSocket client and the market are the desk's own; the market's ``apply`` is wrapped
so each message is merged and handed to the :class:`Publisher`.  What is subscribed
upstream is what the bus's consumers want (:class:`Interest`, with ``--scrip`` pinned on
top).  The feed's token stays in this process: NATS gets the market data, never the token.
When the relay (``marketdesk relay ... --publish``) is in use it does the same job from its
cache; this process is for a feed without a relay in front.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import signal
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any, TextIO

from tui.bus.config import BusConfig
from tui.bus.interest import Interest
from tui.bus.publisher import Publisher
from tui.feed.client import FeedClient
from tui.feed.config import FeedConfig
from tui.feed.health import Health
from tui.market.store import Market
from tui.wire.frames import DecodeErrors

log = logging.getLogger("marketdesk.bus")


def upstream_word(h: Health) -> str:
    """The upstream's state as consumers are told it: ``live``, ``connecting`` (never live
    yet), ``reconnecting``, ``auth-failed``, ``session-limit``, ``stopped``."""
    if h.state in ("idle", "connecting", "authenticating", "backoff"):
        return "reconnecting" if h.sessions else "connecting"
    return h.state


class FeedPublisher:
    def __init__(
        self,
        feed: FeedConfig,
        bus: BusConfig,
        *,
        keys: Sequence[str] = (),
        orders: bool = False,
        grace: float = 5.0,
        batch: float = 0.002,
        state_every: float = 1.0,
        accept: Callable[[str], bool] | None = None,
    ) -> None:
        self.market = Market(DecodeErrors(redact=(feed.token,)))
        self.interest = Interest(self._subscribe, self._unsubscribe, grace=grace, accept=accept)
        self.publisher = Publisher(
            bus,
            batch=batch,
            state_every=state_every,
            interest=self.interest,
            upstream=lambda: upstream_word(self.client.health),
        )
        merge, publish = self.market.apply, self.publisher.add

        def apply(msg: dict[str, Any]) -> None:
            merge(msg)
            publish(msg)

        self.market.apply = apply
        self.client = FeedClient(feed, self.market)
        if keys:
            self.interest.pin(keys, keys if orders else ())

    def _subscribe(self, keys: list[str], orders: bool) -> None:
        self.client.subscribe(keys, depth=True, orders=orders)

    def _unsubscribe(self, keys: list[str]) -> None:
        self.client.unsubscribe(keys)  # forgets them in the market; the bus keeps the last value

    def status(self) -> dict[str, Any]:
        h = self.client.health
        return {
            "upstream": h.state,
            "endpoint": h.endpoint,
            "bus": self.publisher.stats.as_dict(),
            "consumers": len(self.interest.consumers),
            "scrips": len(self.interest.active),
            "decode_errors": self.market.errors.total,
        }

    async def run(self) -> None:
        await self.publisher.start()
        try:
            await self.client.run()
        finally:
            await self.publisher.stop()

    async def stop(self) -> None:
        await self.client.stop()


async def main(
    feed: FeedConfig,
    bus: BusConfig,
    keys: Sequence[str],
    *,
    orders: bool = False,
    grace: float = 5.0,
    exchanges: Sequence[str] = (),
    status_every: float = 10.0,
    seconds: float | None = None,
    out: TextIO = sys.stderr,
) -> int:
    accept = None
    if exchanges:
        allowed = {e.upper() for e in exchanges}
        accept = lambda key: key.split("|", 1)[0].upper() in allowed
    fp = FeedPublisher(feed, bus, keys=keys, orders=orders, grace=grace, accept=accept)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, lambda: asyncio.ensure_future(fp.stop()))
    task = asyncio.create_task(fp.run())
    started = told = time.monotonic()
    try:
        while not task.done():
            await asyncio.wait([task], timeout=0.25)
            now = time.monotonic()
            if seconds is not None and now - started >= seconds:
                break
            if fp.publisher.stats.state in ("auth-failed", "failed"):
                out.write(f"publish: the bus refused us: {fp.publisher.stats.last_error}\n")
                break
            if now - told >= status_every and not task.done():
                told = now
                out.write("publish: " + json.dumps(fp.status()) + "\n")
                out.flush()
    finally:
        await fp.stop()
        await asyncio.wait([task], timeout=10)
    refused = fp.publisher.stats.state in ("auth-failed", "failed")
    return 3 if fp.client.health.state == "auth-failed" or refused else 0
