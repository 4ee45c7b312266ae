"""Small helpers the async tests share (imported as a module, not a pytest conftest)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

#: how long a test waits for a condition before it fails: generous, because a loaded 2-core
#: machine can be many times slower than a quiet one (a green run never waits this long)
PATIENCE = 30.0


async def until(cond: Callable[[], object], timeout: float = PATIENCE, what: str = "") -> None:
    """Wait for ``cond()`` to hold, polling; fail with ``what`` after ``timeout`` seconds.

    ``timeout`` is a bound for a broken test, never a measure of speed: pass one only to
    make a test fail sooner than ``PATIENCE`` where waiting longer proves nothing."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not cond():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what or cond}")
        await asyncio.sleep(0.01)
