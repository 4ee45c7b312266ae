"""bench/nats_bus.py through the relay: a fast upstream -> ``marketdesk relay --publish`` -> three
consumer processes over NATS, then three over the relay's own WebSocket, in one run.

The upstream is ``bench/fastfeed.py`` (the simulator's market pre-generated, written at
``--rate`` through the protocol server, with a ``BENCH|0`` marker every 20 ms whose ``ltt``
is the wall time it was written: the end-to-end latency each consumer measures when it
applies it).  The relay runs in a process of its own with the NATS publisher attached
(``tui.relay.bus.RelayBus``).  Each phase starts a fresh upstream and relay; at its end
the upstream stops, everyone goes quiet, and each consumer's digest of every scrip's state
must equal the relay's own merged state (exact); a NATS consumer must also have seen no
sequence gap (zero loss).  Run it through ``bench/nats_bus.py --via relay``.
"""

from __future__ import annotations

import os
import sys

_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(_HERE))
sys.path.insert(0, os.path.join(os.path.dirname(_HERE), "tests"))

import argparse
import asyncio
import json
import statistics
import subprocess
import time
from typing import Any

from support.bus_consumer import digest

from tui.market.store import Market
from tui.wire.frames import DecodeErrors

FASTFEED = os.path.join(_HERE, "fastfeed.py")
UPSTREAM_TOKEN = "bench-upstream-token"  # fastfeed's
CLIENT_TOKEN = "bench-client-token"
MARKER = "BENCH|0"


def _cpu() -> float:
    import resource

    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


async def _quiet(last: list[float], seconds: float = 1.0) -> None:
    while time.monotonic() - last[0] < seconds:
        await asyncio.sleep(0.1)


async def _stdin_line() -> str:
    return await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)


# -- roles (child processes) -----------------------------------------------------------------
async def relay_role(args: argparse.Namespace) -> None:
    from tui.bus.config import BusConfig
    from tui.feed.config import FeedConfig
    from tui.relay.bus import RelayBus
    from tui.relay.server import Relay, RelayConfig

    keys = json.loads(args.keys)
    config = RelayConfig(
        upstream=FeedConfig(url=args.upstream, token=UPSTREAM_TOKEN),
        clients=(("BENCH", CLIENT_TOKEN),),
        port=0,
        max_sessions=8,
    )
    relay = Relay(config)
    bus = RelayBus(relay, BusConfig(url=args.nats))
    last, upstream = [time.monotonic()], [0]

    def seen(key: str, seq: int, msg: dict[str, Any]) -> None:
        last[0] = time.monotonic()
        upstream[0] += 1

    relay.cache.listeners.append(seen)
    # everything upstream from the start, in one request, and kept there: the fast feed
    # starts its stream over at every new subscription (its snapshots are its start)
    relay.also_wanted.append(lambda key: True)
    async with relay:
        await bus.start()
        for key in [*keys, MARKER]:
            relay.interest.want("d", key)
            relay.interest.want("l", key)
        relay.wake()
        while bus.publisher.stats.state != "live" or len(relay.cache.scrips) < len(keys):
            await asyncio.sleep(0.02)
        print("RELAY", relay.endpoint("L2"), flush=True)
        c0, n0 = _cpu(), upstream[0]
        await _stdin_line()  # the driver: the upstream has stopped
        await _quiet(last)
        used = _cpu() - c0
        stats = bus.publisher.stats.as_dict()
        print(
            json.dumps(
                {
                    "digest": digest(relay.cache, keys),
                    "cpu": used,
                    "upstream_msgs": upstream[0] - n0,
                    "published": stats["messages"],
                    "nats_msgs": stats["batches"],
                    "states": stats["states"],
                }
            ),
            flush=True,
        )
        await bus.stop()


async def consumer_role(args: argparse.Namespace) -> None:
    if os.environ.get("BUS_DEBUG_GAPS"):
        import tui.bus.splice as sp

        orig = sp.Splice.batch

        def batch(self: Any, epoch: str, seq: int, msgs: Any) -> bool:
            if self.synced and (epoch != self.epoch or seq > self.seq + 1):
                print(
                    "GAP",
                    self.key,
                    self.epoch,
                    self.seq,
                    epoch,
                    seq,
                    [m["t"] for m in msgs][:3],
                    file=sys.stderr,
                )
            return orig(self, epoch, seq, msgs)

        sp.Splice.batch = batch  # type: ignore[method-assign]
    keys = json.loads(args.keys)
    market = Market(DecodeErrors())
    inner, last, lat, count = market.apply, [time.monotonic()], [], [0]

    def apply(msg: dict[str, Any]) -> None:
        inner(msg)
        last[0] = time.monotonic()
        count[0] += 1
        if msg.get("e") == "BENCH" and msg.get("t") == "df":
            lat.append(time.time() - float(msg["ltt"]))

    market.apply = apply
    stats: dict[str, Any] = {}
    if args.role == "nats":
        from tui.bus.config import BusConfig
        from tui.bus.source import NatsSource

        source: Any = NatsSource(BusConfig(url=args.url), market, renew=60.0)
    else:
        from tui.feed.client import FeedClient
        from tui.feed.config import FeedConfig

        source = FeedClient(FeedConfig(url=args.url, token=CLIENT_TOKEN), market)
    source.subscribe([*keys, MARKER], depth=True, orders=True)
    task = asyncio.create_task(source.run())
    while source.health.state != "live":
        await asyncio.sleep(0.02)
    print("ready", flush=True)
    c0 = _cpu()
    await _stdin_line()
    await _quiet(last)
    used = _cpu() - c0
    if args.role == "nats":
        stats = {
            "gaps": source.stats["gaps"],
            "stale": source.stats["stale"],
            "unsynced": len(source.unsynced()),
        }
    await source.stop()
    await asyncio.wait([task], timeout=10)
    lat.sort()
    print(
        json.dumps(
            {
                "digest": digest(market, keys),
                "messages": count[0],
                "errors": market.errors.total,
                "error_kinds": market.errors.as_dict(),
                "p50_ms": lat[len(lat) // 2] * 1e3 if lat else None,
                "p99_ms": lat[int(len(lat) * 0.99)] * 1e3 if lat else None,
                "max_ms": lat[-1] * 1e3 if lat else None,
                "samples": len(lat),
                "cpu_us_per_msg": used / max(count[0], 1) * 1e6,
                **stats,
            }
        ),
        flush=True,
    )


# -- the driver -------------------------------------------------------------------------------
def _spawn(*argv: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, *argv], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )


def _line(p: subprocess.Popen[str], prefix: str) -> str:
    assert p.stdout is not None
    while True:
        line = p.stdout.readline()
        if not line:
            raise RuntimeError(f"a bench process ended before saying {prefix!r}")
        if line.startswith(prefix):
            return line.strip()


def _tell(p: subprocess.Popen[str]) -> None:
    assert p.stdin is not None
    p.stdin.write("stop\n")
    p.stdin.flush()


def _result(p: subprocess.Popen[str]) -> dict[str, Any]:
    out, _ = p.communicate(timeout=300)
    return dict(json.loads(out.strip().splitlines()[-1]))


def phase(
    path: str, nats_url: str, keys: list[str], rate: float, seconds: float, consumers: int
) -> dict[str, Any]:
    messages = int(rate * (seconds + 2))
    feed = _spawn(FASTFEED, "--rate", str(rate), "--messages", str(messages))
    upstream = _line(feed, "ENDPOINT").split()[1]
    relay = _spawn(
        __file__,
        "--role",
        "relay",
        "--upstream",
        upstream,
        "--nats",
        nats_url,
        "--keys",
        json.dumps(keys),
    )
    ws_url = _line(relay, "RELAY").split()[1]
    started = time.monotonic()  # the upstream streams from the relay's first subscription
    url = nats_url if path == "nats" else ws_url
    procs = [
        _spawn(__file__, "--role", path, "--url", url, "--keys", json.dumps(keys))
        for _ in range(consumers)
    ]
    for p in procs:
        _line(p, "ready")
    time.sleep(seconds)
    assert feed.stdin is not None
    feed.stdin.close()  # the upstream stops
    sent = int(_line(feed, "SENT").split()[1])
    seconds = time.monotonic() - started
    feed.wait(timeout=30)
    time.sleep(0.5)
    for p in [relay, *procs]:
        _tell(p)
    return {
        "path": path,
        "sent": sent,
        "seconds": seconds,
        "relay": _result(relay),
        "consumers": [_result(p) for p in procs],
    }


def report(run: dict[str, Any]) -> bool:
    relay = run["relay"]
    name = {"nats": "relay -> NATS", "ws": "relay -> WebSocket (tick by tick)"}[run["path"]]
    extra = ""
    if run["path"] == "nats":
        extra = (
            f"; {relay['nats_msgs']:,} NATS delta messages "
            f"({relay['published'] / max(relay['nats_msgs'], 1):.1f} market messages each)"
        )
    print(
        f"\n{name}: upstream sent {run['sent']:,} in {run['seconds']:.0f} s = "
        f"{run['sent'] / run['seconds']:,.0f}/s; relay CPU "
        f"{relay['cpu'] / max(relay['upstream_msgs'], 1) * 1e6:.1f} µs per upstream message{extra}"
    )
    ok = True
    for i, c in enumerate(run["consumers"]):
        exact = c["digest"] == relay["digest"]
        lossless = not c.get("gaps")
        ok &= exact and lossless
        p50 = "-" if c["p50_ms"] is None else f"{c['p50_ms']:.1f}"
        p99 = "-" if c["p99_ms"] is None else f"{c['p99_ms']:.1f}"
        print(
            f"  consumer {i + 1}: {'EXACT' if exact else 'NOT EXACT'}, {c['messages']:,} messages"
            f", gaps {c.get('gaps', '-')} (join catch-ups {c.get('stale', '-')}), latency p50 {p50} ms p99 {p99} ms "
            f"({c['samples']} markers), CPU {c['cpu_us_per_msg']:.1f} µs/msg, errors {c['errors']}"
        )
    return ok


def run(nats_url: str, keys: list[str], rate: float, seconds: float, consumers: int) -> bool:
    runs = [phase(path, nats_url, keys, rate, seconds, consumers) for path in ("nats", "ws")]
    reports = [report(r) for r in runs]  # every one printed
    ok = all(reports)
    med = {
        r["path"]: (
            statistics.median(c["p50_ms"] or 0 for c in r["consumers"]),
            statistics.median(c["p99_ms"] or 0 for c in r["consumers"]),
        )
        for r in runs
    }
    (n50, n99), (w50, w99) = med["nats"], med["ws"]
    print(
        f"\nthrough the relay, NATS against its WebSocket (median consumer): p50 {n50:.1f} ms vs "
        f"{w50:.1f} ms ({n50 / max(w50, 1e-9):.2f}x), p99 {n99:.1f} ms vs {w99:.1f} ms "
        f"({n99 / max(w99, 1e-9):.2f}x)"
    )
    return ok


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--role", choices=("relay", "nats", "ws"), required=True)
    p.add_argument("--url")
    p.add_argument("--upstream")
    p.add_argument("--nats")
    p.add_argument("--keys")
    args = p.parse_args()
    asyncio.run(relay_role(args) if args.role == "relay" else consumer_role(args))


if __name__ == "__main__":
    main()
