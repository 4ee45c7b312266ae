"""A bare counting client, to measure what the simulator sustains on one connection.

``count_messages(url, token=..., seconds=...)`` connects (header auth), subscribes,
and counts frames and bytes for ``seconds`` after a short warm-up, doing nothing else
with them: it measures the server, not a client.  ``python -m tui.sim.probe`` starts the
server in a child process (so server and client each have a core, as in production)
and prints the rate; bench code may call :func:`count_messages` or :func:`measure`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass

from websockets.asyncio.client import connect

from tui.sim.instruments import INSTRUMENTS


@dataclass(frozen=True)
class ProbeResult:
    messages: int
    bytes: int
    seconds: float

    @property
    def rate(self) -> float:
        return self.messages / self.seconds if self.seconds else 0.0


async def count_messages(
    url: str,
    *,
    token: str = "demo-token",
    keys: Sequence[str] | None = None,
    seconds: float = 5.0,
    warmup: float = 1.0,
    kinds: str = "d",
) -> ProbeResult:
    """Subscribe ``kinds`` (any of ``t d l``) of ``keys`` (default: every stock and index
    the endpoint may serve) and count what arrives during ``seconds``."""
    if keys is None:
        keys = [i.key for i in INSTRUMENTS if "l" not in kinds or not i.index]
    async with connect(
        url,
        additional_headers={"Authorization": f"Bearer {token}"},
        compression=None,
        max_size=None,
        max_queue=None,
    ) as ws:
        ack = json.loads(await ws.recv())
        if ack.get("s") != "OK":
            raise RuntimeError(f"not accepted: {ack.get('emsg')}")
        for kind in kinds:
            await ws.send(json.dumps({"t": kind, "k": "#".join(keys)}))
        loop = asyncio.get_running_loop()
        end_warmup = loop.time() + warmup
        while loop.time() < end_warmup:
            await ws.recv(decode=False)
        n = size = 0
        start = loop.time()
        end = start + seconds
        recv = ws.recv
        while True:
            frame = await recv(decode=False)
            n += 1
            size += len(frame)
            if not n & 255 and loop.time() >= end:
                break
        return ProbeResult(n, size, loop.time() - start)


def measure(rate: float, seconds: float = 5.0, kinds: str = "d", seed: int = 1) -> ProbeResult:
    """Run the server in a child process at ``rate`` and count on one L2 connection."""
    cmd = [sys.executable, "-m", "tui.sim", "--port", "0", "--rate", str(rate), "--seed", str(seed)]
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, env=env) as proc:
        try:
            assert proc.stdout is not None
            url = ""
            deadline = time.monotonic() + 20
            while not url and time.monotonic() < deadline:
                line = proc.stdout.readline()
                if not line:
                    break
                if line.strip().startswith("L2 "):
                    url = line.split()[1]
            if not url:
                raise RuntimeError("the simulator did not start")
            return asyncio.run(count_messages(url, seconds=seconds, kinds=kinds))
        finally:
            proc.terminate()
            proc.wait(10)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tui.sim.probe", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--rate", type=float, default=60000.0, help="market events per second")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--kinds", default="d", help="subscriptions: any of t, d, l (default d)")
    args = parser.parse_args(argv)
    result = measure(args.rate, args.seconds, args.kinds)
    print(
        f"rate {args.rate:g} events/s, subscribed {args.kinds!r}: {result.messages} messages, "
        f"{result.bytes / result.messages if result.messages else 0:.0f} bytes avg, "
        f"{result.rate:,.0f} msgs/s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
