"""Replaying a recording is exact: at each moment the replay's market state is the live
session's, and the rules on the replay clock fire the alerts they fired live."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tui.feed.client import FeedClient
from tui.feed.config import FeedConfig
from tui.market.export import scrip_json
from tui.market.rules import RuleEngine, Thresholds
from tui.market.store import Market
from tui.record.reader import Recording
from tui.recording import attach_recorder
from tui.replay.source import ReplaySource
from tui.sim.cli import ScenarioSchedule, run_schedule
from tui.sim.server import SimConfig, SimServer
from tui.wire.frames import DecodeErrors

NS = 1_000_000_000


def state(market: Market) -> dict[str, Any]:
    """Everything a screen could show: each scrip's exact values, each L2 book by order id,
    the tape's length and last events."""
    market.sweep()
    scrips = {key: scrip_json(s) for key in sorted(market.scrips) if (s := market.view(key))}
    books = {
        key: sorted((oid, tuple(o)) for oid, o in b.orders.items())
        for key, b in sorted(market.books.items())
    }  # copies: orders change in place
    tape = [
        (e.key, e.action, e.side, e.price, e.qty, e.oid) for e in list(market.tape.events)[-50:]
    ]
    return {
        "scrips": scrips,
        "books": books,
        "tape_total": market.tape.total,
        "tape": tape,
        "errors": market.errors.as_dict(),
    }


async def live_session(
    directory: Path,
    seconds: float,
    every: float,
    on_tick: Callable[[Market, int], None],
    *,
    scenarios: bool = False,
    rate: float = 1500,
    market: Market | None = None,
    **record_options: Any,
) -> None:
    """A seeded simulator session recorded to ``directory``; ``on_tick(market, ns)`` every
    ``every`` seconds between frames (the wall clock in ns)."""
    async with SimServer(SimConfig(seed=7, rate=rate)) as sim:
        keys = [i.key for i in sim.instruments if not i.index][:12]
        market = market if market is not None else Market(DecodeErrors())
        client = FeedClient(FeedConfig(url=sim.endpoint("L2"), token="demo-token"), market)
        client.subscribe(keys, depth=True, orders=True)
        recorder = attach_recorder(client, directory, **record_options)
        schedule = None
        if scenarios:
            schedule = ScenarioSchedule(sim.market, [("all", None)], first=0.5, every=1.0)
            schedule_task = asyncio.create_task(run_schedule(schedule))
        task = asyncio.create_task(client.run())
        try:
            loop = asyncio.get_running_loop()
            end = loop.time() + seconds
            while loop.time() < end:
                await asyncio.sleep(every)
                on_tick(market, time.time_ns())
        finally:
            await client.stop()
            await task
            recorder.close()
            if schedule is not None:
                schedule_task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await schedule_task


async def test_a_replay_has_the_live_state_at_every_moment(tmp_path: Path) -> None:
    snapshots: list[tuple[int, dict[str, Any]]] = []
    await live_session(tmp_path, 4.0, 0.3, lambda m, ns: snapshots.append((ns, state(m))))
    assert len(snapshots) >= 8 and snapshots[-1][1]["tape_total"] > 100
    replay = Market(DecodeErrors())
    source = ReplaySource(Recording(tmp_path.glob("*.mdrec")), replay, speed=0)
    for ns, live in snapshots:
        source.advance_to(ns)
        assert state(replay) == live, f"differs at {ns}"
    assert source.frames > 1000


async def test_the_rules_on_the_replay_clock_fire_the_alerts_they_fired_live(
    tmp_path: Path,
) -> None:
    """Every simulator scenario in turn (``--scenario all``): the rules run live on the wall
    clock, then on the replay clock at the same moments, and raise the same alerts."""
    live_alerts: list[tuple[Any, ...]] = []
    moments: list[int] = []

    def evaluate(engine: RuleEngine, market: Market, now: float) -> list[tuple[Any, ...]]:
        changed = market.flush(now)
        market.sample_history()
        return [(a.time, a.key, a.rule, a.severity, a.text) for a in engine.evaluate(changed, now)]

    def live_tick(market: Market, ns: int) -> None:
        now[0] = ns / NS
        moments.append(ns)
        live_alerts.extend(evaluate(live_engine, market, ns / NS))

    now = [0.0]
    live_market = Market(DecodeErrors())
    live_engine = RuleEngine(live_market, Thresholds(), wall=lambda: now[0])
    await live_session(
        tmp_path, 12.0, 0.25, live_tick, scenarios=True, rate=1000, market=live_market
    )
    assert len({a[2] for a in live_alerts}) >= 3, live_alerts  # several rules fired

    market = Market(DecodeErrors())
    source = ReplaySource(Recording(tmp_path.glob("*.mdrec")), market, speed=0)
    engine = RuleEngine(market, Thresholds(), wall=source.clock)
    replayed: list[tuple[Any, ...]] = []
    for ns in moments:
        source.advance_to(ns)
        assert source.clock() == ns / NS
        replayed.extend(evaluate(engine, market, source.clock()))
    assert replayed == live_alerts


@pytest.mark.slow
async def test_the_replay_loop_plays_pauses_steps_and_jumps_back_exactly(tmp_path: Path) -> None:
    snapshots: list[tuple[int, dict[str, Any]]] = []
    await live_session(tmp_path, 3.0, 0.5, lambda m, ns: snapshots.append((ns, state(m))))
    market = Market(DecodeErrors())
    rec = Recording(tmp_path.glob("*.mdrec"))
    source = ReplaySource(rec, market, speed=4.0)
    events: list[tuple[str, str]] = []
    rewinds: list[int] = []
    source.on_event = lambda kind, text: events.append((kind, text))
    source.on_rewind = lambda: rewinds.append(1)
    task = asyncio.create_task(source.run())

    async def until(cond: Callable[[], bool]) -> None:
        end = time.monotonic() + 30
        while not cond():
            assert time.monotonic() < end
            await asyncio.sleep(0.02)

    await until(lambda: source.health.state == "ended")
    assert source.position_ns >= snapshots[-1][0]  # played to the end
    ns, live = snapshots[2]
    source.jump(ns)  # back: rebuilt from the start
    await until(lambda: source.clock() == ns / NS)
    assert rewinds == [1]
    # the same state; the tape keeps counting across a rewind (its widget follows the count)
    assert {**state(market), "tape_total": 0} == {**live, "tape_total": 0}
    source.step()  # one second on, paused
    await until(lambda: source.clock() == ns / NS + 1.0)
    assert source.paused and source.health.state == "paused"
    after = source.clock()
    await asyncio.sleep(0.3)
    assert source.clock() == after  # a paused clock stands still
    await source.stop()
    await task
    assert events[0][0] == "connected" and ("replay-ended" in [k for k, _ in events])


async def test_a_rotated_file_replays_on_its_own_from_the_state_it_starts_with(
    tmp_path: Path,
) -> None:
    snapshots: list[tuple[int, dict[str, Any]]] = []
    await live_session(
        tmp_path, 4.0, 0.4, lambda m, ns: snapshots.append((ns, state(m))), max_bytes=40_000
    )
    files = sorted(tmp_path.glob("*.mdrec"))
    assert len(files) >= 3
    # the newest file a snapshot follows: messages go on arriving between the last tick and
    # the client's stop, so the very last file may start after every snapshot was taken
    last_tick = snapshots[-1][0]
    last = max(
        i
        for i in range(1, len(files))
        if Recording(files[i:]).files[0].header.started_ns < last_tick
    )
    for first in (1, last):  # from the second file, and from the newest one alone
        market = Market(DecodeErrors())
        rec = Recording(files[first:])
        source = ReplaySource(rec, market, speed=0)
        start = rec.files[0].header.started_ns
        later = [(ns, live) for ns, live in snapshots if ns > start]
        assert later, "a snapshot after the file's start"
        for ns, live in later:
            source.advance_to(ns)
            got = state(market)
            # the tape holds only what the replay saw; everything else is the live picture
            assert {**got, "tape": [], "tape_total": 0} == {**live, "tape": [], "tape_total": 0}
