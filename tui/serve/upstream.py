"""What the browser tabs read: every tab is a desk process of its own (textual-serve
starts one per tab), and none of them may open its own upstream connection (the feed
allows two per token).  So they all read one relay:

- ``--url RELAY_URL`` given to ``serve``: a running ``marketdesk relay``; nothing to start.
- otherwise a relay is started in this process, in front of the configured feed, or of
  the built-in simulator when no feed is configured (also started here, on this loop).

:func:`open_upstream` yields an :class:`Upstream`: the URL and token the tabs use (the
token is made fresh for the run, handed to the tabs through their environment, never
shown), and ``health()``, the figures ``/health`` shows, among them the upstream
connections the simulator counts.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from tui.feed.config import FeedConfig
from tui.relay.server import Relay, RelayConfig
from tui.sim.cli import Entry, ScenarioSchedule, run_schedule
from tui.sim.config import Faults, SimConfig
from tui.sim.server import SimServer


@dataclass
class Upstream:
    """Where the tabs connect.  ``simulated``: the feed behind is the built-in simulator
    (its instruments make the default watchlists and the add-scrip search)."""

    url: str
    token: str = field(repr=False)
    simulated: bool
    #: one line for the start banner (no token)
    summary: str
    health: Callable[[], dict[str, Any]]


@dataclass(frozen=True)
class SimOptions:
    """The built-in simulator's settings (the desk's ``--seed``, ``--rate``, ``--scenario``)."""

    seed: int = 1
    rate: float = 2000.0
    scenarios: Sequence[Entry] = ()
    #: ``[simulator]`` of the config and ``--sim-fault``: tui.sim.config.Faults' fields
    faults: Mapping[str, Any] = field(default_factory=dict)


async def _front(
    stack: contextlib.AsyncExitStack, feed: FeedConfig, tabs: int
) -> tuple[str, str, Callable[[], dict[str, Any]]]:
    """The relay in front of ``feed`` (started on this loop, stopped with ``stack``): the
    URL and the fresh client token the tabs use, and the relay's figures.  ``tabs``: the
    most tabs at once (the relay lets two more in, for a desk reconnecting)."""
    token = secrets.token_urlsafe(24)
    relay = await stack.enter_async_context(
        Relay(
            RelayConfig(
                upstream=feed,
                clients=(("serve", token),),
                host="127.0.0.1",
                port=0,
                max_sessions=tabs + 2,
            )
        )
    )

    def health() -> dict[str, Any]:
        h = relay.upstream.health
        return {
            "kind": "relay",
            "url": relay.url,
            "endpoint": feed.endpoint,
            "state": h.state,
            "connections": h.connections_used,
            "clients": len(relay.sessions),
        }

    return relay.endpoint(feed.level or "L1"), token, health


@contextlib.asynccontextmanager
async def open_upstream(
    *,
    relay_url: str | None = None,
    relay_token: str = "",
    feed: FeedConfig | None = None,
    sim: SimOptions | None = None,
    tabs: int = 8,
) -> AsyncIterator[Upstream]:
    """The tabs' upstream, running until the block ends.  ``relay_url``/``relay_token``:
    an existing relay; else a relay here in front of ``feed``, or of a simulator, for at
    most ``tabs`` tabs at once."""
    if relay_url is not None:
        yield Upstream(
            relay_url,
            relay_token,
            simulated=False,
            summary=f"relay {relay_url}",
            health=lambda: {"kind": "relay", "endpoint": relay_url},
        )
        return
    async with contextlib.AsyncExitStack() as stack:
        simulator: SimServer | None = None
        if feed is None:
            options = sim or SimOptions()
            sim_token = secrets.token_urlsafe(24)
            simulator = SimServer(
                SimConfig(
                    seed=options.seed,
                    rate=options.rate,
                    tokens=(sim_token,),
                    host="127.0.0.1",
                    port=0,
                    faults=Faults(**options.faults),
                )
            )
            if not logging.getLogger().isEnabledFor(logging.INFO):  # its socket log: with -v
                logging.getLogger("tui.sim.ws").setLevel(logging.WARNING)
            await stack.enter_async_context(simulator)
            feed = FeedConfig(url=simulator.endpoint("L2"), token=sim_token)
            if options.scenarios:
                schedule = ScenarioSchedule(simulator.market, list(options.scenarios))
                task = asyncio.create_task(run_schedule(schedule), name="serve-scenarios")
                stack.push_async_callback(_cancel, task)
        url, token, front_health = await _front(stack, feed, tabs)

        def health() -> dict[str, Any]:
            report = front_health()
            if simulator is not None:
                report["simulator"] = {
                    "connections": simulator.connections(feed.token),
                    "max_connections": simulator.max_connections(feed.token),
                }
            return report

        behind = "the built-in simulator" if simulator is not None else feed.endpoint
        yield Upstream(
            url,
            token,
            simulated=simulator is not None,
            summary=f"one relay in this process, in front of {behind}",
            health=health,
        )


async def _cancel(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
