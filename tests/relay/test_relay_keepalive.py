"""A slow reader behind the relay: what the relay puts in flight ahead of the pongs to its
keepalive pings stays small (docs/RELAY.md, "Slow clients"), so the reader is not killed
by its own pings while the relay merges its backlog."""

from __future__ import annotations

import asyncio
import fcntl
import json
import termios
import time

import pytest
from support.relay_stack import CLIENTS, relay_url, stack
from support.waiting import until
from websockets.asyncio.client import connect

from tui.relay.fanout import FAST_WRITE_BUDGET
from tui.relay.server import CLIENT_HIGH_WATER, CLIENT_SNDBUF
from tui.server.session import Session

pytestmark = pytest.mark.slow
T = [token for _, token in CLIENTS]


def in_flight(s: Session) -> int:
    """Bytes the relay has handed on for ``s`` that the client has not received: the
    transport's buffer and the kernel's send queue (TIOCOUTQ)."""
    sock = s.transport.get_extra_info("socket")
    unsent = int.from_bytes(fcntl.ioctl(sock.fileno(), termios.TIOCOUTQ, b"\0\0\0\0"), "little")
    return s.transport.get_write_buffer_size() + unsent


async def test_a_slow_reader_has_little_in_flight_and_keeps_its_connection() -> None:
    async with stack(rate=20000.0) as (sim, relay):
        keys = [i.key for i in sim.instruments if not i.index][:20]
        ws = await connect(
            relay_url(relay),
            additional_headers={"Authorization": f"Bearer {T[0]}"},
            max_queue=4,
            ping_interval=1.0,
            ping_timeout=20,
        )
        await ws.send(json.dumps({"t": "d", "k": "#".join(keys)}))
        await ws.send(json.dumps({"t": "l", "k": "#".join(keys)}))
        await until(
            lambda: any(s.stream and s.stream.behind for s in relay.sessions),
            30,
            "the slow reader to fall behind",
        )
        [s] = [s for s in relay.sessions if s.authed]
        worst = 0
        n, start = 0, time.monotonic()
        while time.monotonic() - start < 8:  # at most about 1,000 frames a second
            await ws.recv()
            n += 1
            if n % 50 == 0:
                await asyncio.sleep(0.05)
                worst = max(worst, in_flight(s))
        # the kernel doubles SO_SNDBUF; the transport holds up to its high water plus a write
        # (a write of up to the budget of a client that keeps up may still be draining)
        assert worst <= 2 * CLIENT_SNDBUF + CLIENT_HIGH_WATER + FAST_WRITE_BUDGET, worst
        assert s.stream.behind or s.stream.behinds >= 1
        assert ws.close_code is None, (ws.close_code, ws.close_reason)
        await ws.close()
