"""The built-in exchange simulator, run on a free loopback port in a thread of its own.

``marketdesk`` with no feed configured uses it: the desk then connects through the same
WebSocket client a real feed uses.  The simulator gets its own event loop so that its
pacing never waits on the UI's; the token is made fresh for the run and never shown.
``scenarios`` (``--scenario NAME[:KEY]``) are injected on that loop by a
:class:`~tui.sim.cli.ScenarioSchedule`, so the surveillance rules are seen firing.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import threading
from collections.abc import Sequence
from typing import Any

from tui.sim.cli import Entry, ScenarioSchedule, run_schedule
from tui.sim.server import Faults, SimConfig, SimServer


class EmbeddedSim:
    def __init__(
        self,
        *,
        seed: int = 1,
        rate: float = 2000.0,
        level: str = "L2",
        scenarios: Sequence[Entry] = (),
        dialect: str = "psx",
        **faults: Any,
    ):
        self.token = secrets.token_urlsafe(24)
        self.seed, self.rate, self.level, self.dialect = seed, rate, level, dialect
        self.faults = faults
        self.scenarios = list(scenarios)
        #: the running schedule (None without scenarios, or before start)
        self.schedule: ScenarioSchedule | None = None
        self.endpoint = ""
        self.instruments: list[Any] = []
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._main, name="marketdesk-sim", daemon=True)

    def start(self, timeout: float = 10.0) -> str:
        """Start serving; the endpoint URL (no token in it)."""
        self._thread.start()
        if not self._ready.wait(timeout):
            raise RuntimeError("the embedded simulator did not start")
        if self._error is not None:
            raise RuntimeError(f"the embedded simulator failed: {self._error}")
        return self.endpoint

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout=5)

    def _main(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as exc:  # noqa: BLE001 - reported to start(), never lost
            self._error = exc
            self._ready.set()

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        config = SimConfig(
            seed=self.seed,
            rate=self.rate,
            tokens=(self.token,),
            host="127.0.0.1",
            port=0,
            faults=Faults(**self.faults),
            dialect=self.dialect,
        )
        async with SimServer(config) as sim:
            self.endpoint = sim.endpoint(self.level)
            self.instruments = list(sim.instruments)
            task = None
            if self.scenarios:
                self.schedule = ScenarioSchedule(sim.market, self.scenarios)
                task = asyncio.create_task(run_schedule(self.schedule), name="sim-scenarios")
            self._ready.set()
            await self._stop.wait()
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
