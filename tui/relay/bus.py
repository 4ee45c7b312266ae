"""``marketdesk relay ... --publish nats://HOST:4222``: the relay's merged stream onto the bus.

The hook is small on both sides: every message the relay's cache merges (its
``listeners``) of a scrip the bus's consumers want goes to a
:class:`tui.bus.publisher.Publisher` (starting from the cache's full state when the relay
already holds the scrip), and the scrips the bus's
consumers want (:class:`tui.bus.interest.Interest`, fed by ``mdctl.want``) are asked of the
relay's own reference-counted upstream interest, as a WebSocket client's would be
(``Relay.also_wanted`` keeps them upstream while a NATS consumer wants them; the relay's
grace applies when the last one lets go).  The upstream token stays in the relay; NATS
gets market data only.  Protocol: docs/BUS.md.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tui.bus.config import BusConfig
from tui.bus.interest import Interest
from tui.bus.publisher import Publisher
from tui.relay.server import Relay, upstream_word


class RelayBus:
    def __init__(
        self,
        relay: Relay,
        bus: BusConfig,
        *,
        accept: Callable[[str], bool] | None = None,
        batch: float = 0.002,
        state_every: float = 1.0,
    ) -> None:
        self.relay = relay
        # no grace of its own: the relay's grace applies once nobody at all wants a scrip
        self.interest = Interest(self._subscribe, self._unsubscribe, grace=0.0, accept=accept)
        self.publisher = Publisher(
            bus,
            batch=batch,
            state_every=state_every,
            interest=self.interest,
            upstream=self._upstream,
        )
        #: the scrips going onto the bus: those its consumers want (the rest of the relay's
        #: traffic costs the bus nothing)
        self._publishing: set[str] = set()
        relay.cache.listeners.append(self._on_message)
        relay.also_wanted.append(self._wanted)

    def _upstream(self) -> str:
        h = self.relay.upstream.health
        return upstream_word(h.state, h.sessions)

    def _on_message(self, key: str, seq: int, msg: dict[str, Any]) -> None:
        if key in self._publishing:
            self.publisher.add(msg)

    def _wanted(self, key: str) -> bool:
        return key in self.interest.active

    def _subscribe(self, keys: list[str], orders: bool) -> None:
        want = self.relay.interest.want
        for key in keys:
            if key not in self._publishing:
                # already in the cache (a WebSocket client has it): the bus starts from its
                # full state; a new scrip starts from the upstream's own snapshot
                self._publishing.add(key)
                for snapshot in self.relay.cache.state(key):
                    self.publisher.add(snapshot)
            want("d", key)
            if orders:
                want("l", key)
        self.relay.wake()

    def _unsubscribe(self, keys: list[str]) -> None:
        for key in keys:
            self._publishing.discard(key)
            self.relay.interest.unwant(key)

    async def start(self) -> None:
        await self.publisher.start()

    async def stop(self) -> None:
        await self.publisher.stop()
