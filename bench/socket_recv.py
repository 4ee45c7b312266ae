"""The simulator streaming to three clients over loopback, side by side in one run.

(a) marketdesk: ``FeedClient`` (websockets asyncio) -> ``FrameReader.feed`` -> ``Market.apply``
(b) NorenRestApiPy: its own client (websocket-client in a thread, ``json.loads``, a
    callback) with the consumer's ``dict.update`` into per-scrip state
(c) bare: a websockets asyncio loop that only counts frames

The simulator runs in a process of its own (a core of its own on a 2-core machine) and
streams depth for every instrument as fast as asked (``--rate``).  Each client runs in a
fresh child process, one at a time, in alternating rounds; each reports the messages it
handled in the measured window and the CPU its process used (user + system), so both
messages/s and CPU per message are measured, not inferred.  The bare client's rate is
also what the simulator sustains on one connection.

Run: ``.venv/bin/python bench/socket_recv.py [--rate 80000] [--seconds 5] [--rounds 3]``
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

from children import start

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TOKEN = "bench-token"  # a loopback simulator's token, not a secret
CLIENTS = ("marketdesk", "noren", "bare")


def cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def keys() -> list[str]:
    from tui.sim.instruments import INSTRUMENTS

    return [inst.key for inst in INSTRUMENTS]


class Window:
    """Counts messages; marks the start and end of the measured window."""

    def __init__(self, warmup: float, seconds: float) -> None:
        self.warmup, self.seconds = warmup, seconds

    def measure(self, count: callable) -> dict[str, float]:  # type: ignore[valid-type]
        time.sleep(self.warmup)
        n0, c0, t0 = count(), cpu(), time.perf_counter()
        time.sleep(self.seconds)
        n1, c1, t1 = count(), cpu(), time.perf_counter()
        return {"messages": n1 - n0, "cpu": c1 - c0, "wall": t1 - t0}


def run_marketdesk(url: str, window: Window) -> dict[str, float]:
    from tui.feed.config import FeedConfig
    from tui.feed.source import open_source
    from tui.market.store import Market

    client = open_source(FeedConfig(url=url, token=TOKEN), Market())
    client.subscribe(keys(), depth=True)
    result: dict[str, float] = {}

    async def main() -> None:
        task = asyncio.create_task(client.run())
        loop = asyncio.get_running_loop()
        # the window is timed from another thread so the loop is never paused to measure
        out = await loop.run_in_executor(None, window.measure, lambda: client.health.messages)
        result.update(out)
        await client.stop()
        await asyncio.wait([task], timeout=5)

    asyncio.run(main())
    return result


def run_noren(url: str, window: Window) -> dict[str, float]:
    from NorenRestApiPy.NorenApi import FeedType, NorenApi

    api = NorenApi(host="http://127.0.0.1:9/", websocket=url)
    api.set_session("bench", "unused", TOKEN)
    state: dict[str, dict[str, object]] = {}
    count = [0]
    opened = threading.Event()

    def on_message(msg: dict[str, object]) -> None:  # the consumer's merge
        count[0] += 1
        key = f"{msg['e']}|{msg['tk']}"
        scrip = state.get(key)
        if scrip is None:
            state[key] = msg
        else:
            scrip.update(msg)

    def on_open() -> None:
        api.subscribe(keys(), feed_type=FeedType.SNAPQUOTE)
        opened.set()

    api.start_websocket(subscribe_callback=on_message, socket_open_callback=on_open)
    if not opened.wait(15):
        raise RuntimeError("NorenRestApiPy did not connect")
    result = window.measure(lambda: count[0])
    api.close_websocket()
    return result


def run_bare(url: str, window: Window) -> dict[str, float]:
    from websockets.asyncio.client import connect

    count = [0]

    async def main() -> dict[str, float]:
        async with connect(
            url,
            additional_headers={"Authorization": f"Bearer {TOKEN}"},
            compression=None,
            max_size=None,
        ) as ws:
            await ws.recv()  # ck
            await ws.send(json.dumps({"t": "d", "k": "#".join(keys())}))
            loop = asyncio.get_running_loop()
            measuring = loop.run_in_executor(None, window.measure, lambda: count[0])
            while not measuring.done():
                await ws.recv(decode=False)
                count[0] += 1
            return await measuring

    return asyncio.run(main())


def child(name: str, url: str, warmup: float, seconds: float) -> dict[str, float]:
    """Run one client in a fresh process; its JSON result."""
    cmd = [
        sys.executable,
        __file__,
        "--child",
        name,
        "--url",
        url,
        "--warmup",
        str(warmup),
        "--seconds",
        str(seconds),
    ]
    out = subprocess.run(
        cmd, capture_output=True, text=True, timeout=warmup + seconds + 60, cwd=ROOT, check=False
    )
    if out.returncode != 0:
        raise RuntimeError(f"{name} failed: {out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def start_sim(rate: float) -> tuple[subprocess.Popen[str], str]:
    cmd = [sys.executable, "-m", "tui.sim", "--port", "0", "--rate", str(rate), "--token", TOKEN]
    return start(cmd, "L1 ", timeout=20, what="the simulator")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rate", type=float, default=80_000.0, help="simulator events/s asked")
    ap.add_argument("--seconds", type=float, default=5.0, help="measured window per client")
    ap.add_argument("--warmup", type=float, default=1.5)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--child", choices=CLIENTS, help=argparse.SUPPRESS)
    ap.add_argument("--url", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        run = {"marketdesk": run_marketdesk, "noren": run_noren, "bare": run_bare}[args.child]
        print(json.dumps(run(args.url, Window(args.warmup, args.seconds))))
        return 0

    proc, url = start_sim(args.rate)
    results: dict[str, list[dict[str, float]]] = {name: [] for name in CLIENTS}
    try:
        for r in range(args.rounds):
            order = CLIENTS if r % 2 == 0 else tuple(reversed(CLIENTS))
            for name in order:
                results[name].append(child(name, url, args.warmup, args.seconds))
    finally:
        proc.terminate()
        proc.wait(10)

    summary = {}
    for name, runs in results.items():
        rate = statistics.median(x["messages"] / x["wall"] for x in runs)
        us = statistics.median(1e6 * x["cpu"] / x["messages"] for x in runs if x["messages"])
        summary[name] = {"msgs_per_s": round(rate), "cpu_us_per_msg": round(us, 2)}
    a, b, c = (summary[n]["msgs_per_s"] for n in CLIENTS)
    ratios = {
        "marketdesk_vs_noren_rate": round(a / b, 2),
        "marketdesk_vs_noren_cpu": round(
            summary["noren"]["cpu_us_per_msg"] / summary["marketdesk"]["cpu_us_per_msg"], 2
        ),
        "marketdesk_vs_bare_rate": round(a / c, 2),
        "simulator_msgs_per_s": c,
    }
    if args.json:
        print(json.dumps({"rate_asked": args.rate, "clients": summary, **ratios}))
        return 0
    print(
        f"simulator asked for {args.rate:,.0f} events/s; depth of every instrument; "
        f"{args.rounds} alternating rounds of {args.seconds:g} s per client"
    )
    for name in CLIENTS:
        s = summary[name]
        print(f"  {name:<11} {s['msgs_per_s']:>9,} msgs/s   {s['cpu_us_per_msg']:>6.2f} µs CPU/msg")
    print(
        f"  marketdesk / NorenRestApiPy: {ratios['marketdesk_vs_noren_rate']:.2f}x the rate, "
        f"{ratios['marketdesk_vs_noren_cpu']:.2f}x less CPU per message (goal: 2x)"
    )
    print(f"  marketdesk / bare loop:      {ratios['marketdesk_vs_bare_rate']:.0%} (goal: 70%)")
    print(f"  simulator on one connection: {c:,} msgs/s (goal: 50,000)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
