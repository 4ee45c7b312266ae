"""The feed source seam: what the desk, the CLI and the benchmarks need from a feed.

A source fills a :class:`~tui.feed.sink.MarketSink` (normally ``tui.market.store.Market``)
with market messages and says how it is doing.  The app never builds one: it is handed a
:class:`FeedSource`, and :func:`open_source` is the one place that picks which kind from the
configuration.  Today that is the WebSocket :class:`~tui.feed.client.FeedClient` (``ws://``,
``wss://``; a relay is the same client pointed at it); a recording, a broker's dialect or
NATS plug in here, in :data:`OPENERS`, without a change to the app or the CLI.

The contract, kept by every source:

- ``run()`` runs until ``stop()`` (or a verdict such as ``auth-failed``) and never raises on
  network or input faults; ``stop()`` makes ``run()`` return soon, and is idempotent.
- ``subscribe(keys, depth=, orders=)`` / ``unsubscribe(keys)`` may be called before and
  while running; unsubscribing forgets the keys' state in the sink.
- ``health`` is a :class:`~tui.feed.health.Health`, read whenever the UI likes.
- ``on_event(kind, text)``, if set, is called for notable events (toasts): ``connected``,
  ``reconnected``, ``reconnect``, ``stall``, ``auth-failed``, ``failed``, ``session-limit``,
  ``refused`` (``tui.feed.client.EVENTS``); ``text`` is for people and holds no secret.
- ``market`` is the sink it writes into.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Final, Protocol, runtime_checkable
from urllib.parse import urlsplit

from tui.feed.client import FeedClient
from tui.feed.config import FeedConfig
from tui.feed.health import Health
from tui.feed.sink import MarketSink


@runtime_checkable
class FeedSource(Protocol):
    """See the module docstring."""

    on_event: Callable[[str, str], None] | None

    @property
    def market(self) -> MarketSink: ...

    @property
    def health(self) -> Health: ...

    def subscribe(
        self, keys: Iterable[str], *, depth: bool = True, orders: bool = False
    ) -> None: ...

    def unsubscribe(self, keys: Iterable[str]) -> None: ...

    async def run(self) -> None: ...

    async def stop(self) -> None: ...


Opener = Callable[[FeedConfig, MarketSink], FeedSource]


def _websocket(config: FeedConfig, sink: MarketSink) -> FeedSource:
    return FeedClient(config, sink)


#: URL scheme -> how to open a source for it (the one table a new kind of source joins)
OPENERS: Final[dict[str, Opener]] = {"ws": _websocket, "wss": _websocket}


def open_source(config: FeedConfig, sink: MarketSink) -> FeedSource:
    """The source for ``config``'s URL, writing into ``sink``; not started (call ``run``).

    Raises ValueError for a URL no source serves (the message names the ones that exist).
    """
    scheme = urlsplit(config.url).scheme.lower()
    opener = OPENERS.get(scheme)
    if opener is None:
        known = ", ".join(f"{name}://" for name in OPENERS)
        raise ValueError(f"no feed source for {scheme or 'this'} URL (known: {known})")
    return opener(config, sink)
