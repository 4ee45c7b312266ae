"""The desk's memory over a long run on the built-in feed: flat after warm-up, or where it grows.

Runs what ``marketdesk`` with no feed configured runs: the embedded simulator (its own
thread and loop, ``--rate`` msgs/s, seed 1), the real ``FeedClient`` and ``Market``, the desk
from ``make_app(...)`` with the simulator's default watchlists and ``settle_gc`` after a few
seconds, headless under ``app.run_test(size=(160, 48))`` at its normal frame rate.  Every
``--every`` seconds it prints one JSON line: minutes, the process's resident set (RSS, from
/proc), the Python heap as tracemalloc sees it (with ``--trace``), the market's sizes.

With ``--trace N`` it also compares tracemalloc snapshots (the first one taken after
``--warmup`` seconds) and prints the N source lines whose allocations grew most: where the
memory goes.  tracemalloc slows the process 2-3x; read its lines for places, the RSS of a
run without it for figures.

The verdict: RSS growth from the end of the warm-up to the end, and over the last half
(flat means within a few MB).

Run: ``.venv/bin/python bench/memory.py [--minutes 30] [--every 60] [--trace 15]``
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

from machine import machine_reference

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SIZE = (160, 48)
PAGE = os.sysconf("SC_PAGE_SIZE")


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * PAGE / 2**20


def sizes(market: Any, app: Any) -> dict[str, int]:
    return {
        "scrips": len(market.scrips),
        "books": len(market.books),
        "orders": sum(len(b.orders) for b in market.books.values()),
        "tape": len(market.tape.events),
        "alerts": app.alerts.total,
    }


async def run(args: argparse.Namespace) -> dict[str, Any]:
    from tui.app import make_app
    from tui.feed.client import FeedClient
    from tui.feed.config import FeedConfig
    from tui.launch import SETTLE_GC_AFTER, simulator_watchlists
    from tui.market.store import Market
    from tui.sim.embedded import EmbeddedSim
    from tui.wire.frames import DecodeErrors

    sim = EmbeddedSim(seed=1, rate=args.rate)
    url = sim.start()
    try:
        market = Market(DecodeErrors(redact=(sim.token,)))
        client = FeedClient(FeedConfig(url=url, token=sim.token, auth="header"), market)
        app = make_app(market, client, watchlists=simulator_watchlists(sim.instruments))
        app.settle_gc_after = SETTLE_GC_AFTER
        samples: list[dict[str, Any]] = []
        start = time.monotonic()
        first: tracemalloc.Snapshot | None = None
        async with app.run_test(headless=True, size=SIZE):
            end = start + args.minutes * 60
            next_at = start
            while True:
                now = time.monotonic()
                if now >= next_at:
                    minute = (now - start) / 60
                    row: dict[str, Any] = {"minute": round(minute, 2), "rss_mb": round(rss_mb(), 1)}
                    if args.trace:
                        row["traced_mb"] = round(tracemalloc.get_traced_memory()[0] / 2**20, 1)
                    row |= sizes(market, app)
                    row["messages"] = client.health.messages
                    samples.append(row)
                    print(json.dumps(row), flush=True)
                    if args.trace and first is None and now - start >= args.warmup:
                        first = tracemalloc.take_snapshot()
                    next_at += args.every
                if now >= end:
                    break
                await asyncio.sleep(min(1.0, max(0.0, min(next_at, end) - now)))
            if args.trace and first is not None:
                last = tracemalloc.take_snapshot()
                print(f"-- top {args.trace} growth since minute {args.warmup / 60:.1f}:")
                for stat in last.compare_to(first, "lineno")[: args.trace]:
                    print(f"   {stat}")
    finally:
        sim.stop()
    warm = [s for s in samples if s["minute"] * 60 >= args.warmup]
    half = [s for s in samples if s["minute"] >= args.minutes / 2]
    return {
        "minutes": args.minutes,
        "rate": args.rate,
        "rss_start_mb": samples[0]["rss_mb"],
        "rss_after_warmup_mb": warm[0]["rss_mb"] if warm else None,
        "rss_end_mb": samples[-1]["rss_mb"],
        "rss_max_mb": max(s["rss_mb"] for s in samples),
        "growth_after_warmup_mb": round(samples[-1]["rss_mb"] - warm[0]["rss_mb"], 1)
        if warm
        else None,
        "growth_last_half_mb": round(samples[-1]["rss_mb"] - half[0]["rss_mb"], 1)
        if half
        else None,
        "messages": samples[-1]["messages"],
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=30.0)
    ap.add_argument("--every", type=float, default=60.0, help="seconds between samples")
    ap.add_argument("--warmup", type=float, default=120.0, help="seconds before the baseline")
    ap.add_argument(
        "--rate", type=float, default=2000.0, help="simulator msgs/s (the desk's default)"
    )
    ap.add_argument(
        "--trace",
        type=int,
        default=0,
        metavar="N",
        help="tracemalloc: print the N source lines that grew most",
    )
    args = ap.parse_args(argv)
    ref = machine_reference()
    print(json.dumps({"machine_reference_s": round(ref, 2), "pid": os.getpid()}), flush=True)
    if args.trace:
        tracemalloc.start(1)
    result = asyncio.run(run(args))
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
