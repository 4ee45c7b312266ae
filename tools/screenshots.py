"""Write the pictures in screenshots/ from the app itself (``make screenshots``).

The desk is filled from the seeded simulator market (no socket, no wall clock), so the
pictures are the same on every machine and change only when the UI does.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC
from pathlib import Path
from typing import TYPE_CHECKING

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tui.app import DeskApp, make_app
from tui.feed.health import Health
from tui.launch import simulator_watchlists
from tui.market.store import Market
from tui.sim.instruments import INSTRUMENTS
from tui.sim.market import SimMarket
from tui.watchlist_store import Watchlists

if TYPE_CHECKING:
    from textual.pilot import Pilot

FT0 = 1750651200.0  # 2025-06-23 04:00 UTC: PSX and NSE are both trading
#: name: (terminal size, theme, keys pressed before the picture)
SHOTS: dict[str, tuple[tuple[int, int], str, tuple[str, ...]]] = {
    "desk": ((160, 48), "marketdesk-dark", ()),
    "desk-light": ((160, 48), "marketdesk-light", ()),
    "desk-colour-blind": ((160, 48), "marketdesk-cb", ()),
    "desk-80x24": ((80, 24), "marketdesk-dark", ()),
    "help": ((120, 36), "marketdesk-dark", ("question_mark",)),
    "add-scrip": ((120, 36), "marketdesk-dark", ("plus", "b", "a", "n", "k")),
}
#: the surveillance screen after this many simulated seconds of every scenario in turn
SURVEILLANCE_SECONDS = 75
SURVEILLANCE_SIZE = (160, 48)


def filled_market(seed: int = 7, steps: int = 4000) -> Market:
    """The simulator's market after ``steps`` steps, with a sparkline's worth of history."""
    sim = SimMarket(seed)
    market = Market()
    for msg in sim.snapshot_messages(depth=True, orders=True):
        market.apply(msg)
    for n, step in enumerate(sim.run(steps, FT0, dt=0.01)):
        for msg in step.l2:
            market.apply(msg)
        if step.df is not None:
            market.apply(step.df)
        if n % 200 == 0:
            market.flush(float(n))
            market.sample_history()
    return market


def watchlists() -> Watchlists:
    """The lists a new user gets on the built-in simulator (``tui.launch``)."""
    return simulator_watchlists(INSTRUMENTS)


def health(market: Market) -> Health:
    return Health(
        state="live",
        endpoint="ws://127.0.0.1:8765/2.0/market/feed/l2",
        level="L2",
        connected_since=FT0 - 3600,
        reconnects=0,
        messages=482_113,
        bytes=61_540_219,
        msg_rate=4012.0,
        byte_rate=512_000.0,
        lag=0.04,
        subscriptions=len(market.scrips),
        connections_used=1,
    )


async def shoot(
    name: str, size: tuple[int, int], theme: str, keys: tuple[str, ...], out: Path
) -> Path:
    market = filled_market()
    figures = health(market)
    # no selection given: the desk opens on the first stock, as it does for a new user
    app = make_app(
        market,
        watchlists=watchlists(),
        catalogue=INSTRUMENTS,
        clock=lambda: 100.0,
        wall=lambda: FT0,
        refresh_hz=0,
        health=lambda: figures,
        theme=theme,
        tz=UTC,
    )
    async with app.run_test(size=size) as pilot:
        app.flush()
        app.update_health()
        await pilot.pause()
        if keys:
            await pilot.press(*keys)
            await pilot.pause()
        path = out / f"{name}.svg"
        app.save_screenshot(filename=path.name, path=str(out))
    return path


def surveillance_desk(
    seconds: float = SURVEILLANCE_SECONDS,
) -> tuple[DeskApp, Callable[[Pilot[None]], Awaitable[None]]]:
    """The desk and a ``run(pilot)`` that feeds it the simulator running every scenario in
    turn (``--scenario all``), frame by frame on a simulated clock, for ``seconds``."""
    from tui.sim.cli import ScenarioSchedule

    sim = SimMarket(7)
    market = Market()
    for msg in sim.snapshot_messages(depth=True, orders=True):
        market.apply(msg)
    now = [0.0]
    figures = health(market)
    app = make_app(market, watchlists=watchlists(), catalogue=INSTRUMENTS,
                   clock=lambda: now[0], wall=lambda: FT0 + now[0], refresh_hz=0,
                   health=lambda: figures, tz=UTC)  # fmt: skip
    schedule = ScenarioSchedule(sim, [("all", None)], first=2.0, every=6.0)
    frame = 0.05  # 20 frames a second, 20 simulator steps a frame

    async def run(pilot: Pilot[None]) -> None:
        while now[0] < seconds:
            schedule.due(now[0])
            for step in sim.run(20, FT0 + now[0], dt=frame / 20):
                for msg in step.l2:
                    market.apply(msg)
                if step.df is not None:
                    market.apply(step.df)
            now[0] += frame
            app.flush()
            if round(now[0] / frame) % 10 == 0:
                app.update_health()

    return app, run


async def shoot_surveillance(out: Path) -> Path:
    """The surveillance screen (``v``) after every scenario in turn: tiles coloured by
    their alerts."""
    app, run = surveillance_desk()
    async with app.run_test(size=SURVEILLANCE_SIZE) as pilot:
        await run(pilot)
        await pilot.press("v")
        await pilot.pause()
        app.save_screenshot(filename="surveillance.svg", path=str(out))
    return out / "surveillance.svg"


def main() -> int:
    out = ROOT / "screenshots"
    out.mkdir(exist_ok=True)
    print(asyncio.run(shoot_surveillance(out)))
    for name, (size, theme, keys) in SHOTS.items():
        print(asyncio.run(shoot(name, size, theme, keys, out)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
