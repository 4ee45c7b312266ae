"""The bus at 50,000 msgs/s: a publisher through a real nats-server to three consumer
processes, against a direct WebSocket fan-out of the same frames, in one run.

Both paths carry the same pre-generated, seeded market (the simulator's, depth and order
level for every instrument), paced at ``--rate`` from this process:

(a) NATS: ``tui.bus.Publisher`` (batching window ``--batch-ms``; several windows are run
    in turn) -> nats-server -> ``tui.bus.NatsSource`` -> ``Market`` in each consumer process
(b) WebSocket: the same messages, one JSON frame each, broadcast to each consumer process
    (websockets) -> ``FrameReader`` -> ``Market``.  The relay (``marketdesk relay``) is
    not in main yet, so this is a direct fan-out of the same frames, the floor a relay's
    WebSocket side can reach, not the relay itself.

Every message carries its send time (``bt``, wall clock in ns; both paths, so it is part
of every state alike) and each consumer records ``receive - bt`` as it applies it.  At the
end each consumer reports a digest of every scrip's state (wire text, typed values, order
book), which must equal the digest of a market fed the messages directly (exact), and the
count of deltas applied, which must equal the count sent with no sequence gap (zero loss).

Run: ``.venv/bin/python bench/nats_bus.py [--rate 50000] [--seconds 5] [--batch-ms 0,2,5]``
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

import msgspec
from machine import machine_reference
from support.bus_consumer import digest

from tui.market.store import Market
from tui.sim.market import SimMarket
from tui.wire.frames import DecodeErrors, FrameReader

FT0 = 1750651200.0
DELTAS = frozenset(("tf", "df", "lo", "lt"))


def messages(seed: int, count: int) -> tuple[list[str], list[dict[str, Any]], int]:
    """The scrips, the snapshot plus ``count`` deltas, and how many deltas."""
    sim = SimMarket(seed=seed)
    keys = sim.keys
    out = sim.snapshot_messages(keys, orders=True)
    i = 0
    while len(out) < count:
        step = sim.step(FT0 + i * 0.001)
        i += 1
        out.extend(step.l2)
        if step.df is not None:
            out.append(step.df)
    deltas = sum(1 for m in out if m["t"] in DELTAS)
    return keys, out, deltas


def cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


# -- the consumer processes ---------------------------------------------------------------
class Recorder:
    """Wraps a market's apply: counts deltas and records their latency."""

    def __init__(self, market: Market) -> None:
        self.market = market
        self.deltas = 0
        self.lat: list[int] = []
        self.last_at = time.monotonic()
        inner = market.apply
        now = time.time_ns

        def apply(msg: dict[str, Any]) -> None:
            inner(msg)
            if msg["t"] in DELTAS:
                self.deltas += 1
                self.lat.append(now() - int(msg["bt"]))
            self.last_at = time.monotonic()

        market.apply = apply


async def consume(args: argparse.Namespace) -> None:
    keys = json.loads(args.keys)
    market = Market(DecodeErrors())
    rec = Recorder(market)
    stats: dict[str, Any] = {}
    if args.role == "nats":
        from tui.bus.config import BusConfig
        from tui.bus.source import NatsSource

        source = NatsSource(BusConfig(url=args.url), market, renew=60.0)
        source.subscribe(keys, depth=True, orders=True)
        task = asyncio.create_task(source.run())
        while len(source._subs) < len(keys) or source.nc is None:
            await asyncio.sleep(0.02)
        await source.nc.flush()
    else:
        from websockets.asyncio.client import connect

        reader = FrameReader(market.errors, sink=market.apply)
        ws = await connect(args.url, max_size=None, ping_interval=None, max_queue=None)

        async def pump() -> None:
            feed = reader.feed
            async for frame in ws:
                feed(frame)

        task = asyncio.create_task(pump())
    print("ready", flush=True)
    c0 = cpu()
    deadline = time.monotonic() + args.timeout
    while rec.deltas < args.expect and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    c1 = cpu()
    if args.role == "nats":
        await asyncio.sleep(0.3)  # a last state or two: must change nothing
        stats = dict(source.stats, unsynced=len(source.unsynced()))  # gaps: losses only
        await source.stop()
    else:
        await ws.close()
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    lat = sorted(rec.lat)
    print(
        json.dumps(
            {
                "deltas": rec.deltas,
                "digest": digest(market, keys),
                "errors": market.errors.total,
                "p50_ms": lat[len(lat) // 2] / 1e6 if lat else None,
                "p99_ms": lat[int(len(lat) * 0.99)] / 1e6 if lat else None,
                "max_ms": lat[-1] / 1e6 if lat else None,
                "cpu_us_per_msg": (c1 - c0) / max(rec.deltas, 1) * 1e6,
                **stats,
            }
        ),
        flush=True,
    )


# -- the driver ------------------------------------------------------------------------------
def spawn(
    role: str, url: str, keys: list[str], expect: int, timeout: float
) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            __file__,
            "--role",
            role,
            "--url",
            url,
            "--keys",
            json.dumps(keys),
            "--expect",
            str(expect),
            "--timeout",
            str(timeout),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )


def wait_ready(procs: list[subprocess.Popen[str]]) -> None:
    for p in procs:
        assert p.stdout is not None
        line = p.stdout.readline()
        if line.strip() != "ready":
            raise RuntimeError(f"a consumer did not start: {line!r}")


def results(procs: list[subprocess.Popen[str]]) -> list[dict[str, Any]]:
    out = []
    for p in procs:
        stdout, _ = p.communicate(timeout=600)
        out.append(json.loads(stdout.strip().splitlines()[-1]))
    return out


async def pace(msgs: list[dict[str, Any]], rate: float, send: Any) -> tuple[float, float]:
    """Hand ``msgs`` to ``send(list)`` at ``rate`` a second, stamped; (seconds, cpu)."""
    c0, t0 = cpu(), time.monotonic()
    i, n = 0, len(msgs)
    stamp = time.time_ns
    while i < n:
        due = min(n, int((time.monotonic() - t0) * rate) + 1)
        if due > i:
            chunk = msgs[i:due]
            bt = str(stamp())
            for m in chunk:
                m["bt"] = bt
            send(chunk)
            i = due
        await asyncio.sleep(0.001)
    return time.monotonic() - t0, cpu() - c0


async def run_nats(
    args: argparse.Namespace,
    url: str,
    keys: list[str],
    msgs: list[dict[str, Any]],
    deltas: int,
    batch_ms: float,
) -> dict[str, Any]:
    from tui.bus.config import BusConfig
    from tui.bus.publisher import Publisher

    procs = [
        spawn("nats", url, keys, deltas, args.seconds * 20 + 30) for _ in range(args.consumers)
    ]
    await asyncio.get_running_loop().run_in_executor(None, wait_ready, procs)
    pub = Publisher(BusConfig(url=url), batch=batch_ms / 1000, state_every=1.0)
    await pub.start()
    while pub.stats.state != "live":
        await asyncio.sleep(0.01)
    add = pub.add

    def send(chunk: list[dict[str, Any]]) -> None:
        for m in chunk:
            add(m)

    seconds, used = await pace(msgs, args.rate, send)
    res = await asyncio.get_running_loop().run_in_executor(None, results, procs)
    stats = pub.stats.as_dict()
    await pub.stop()
    return {
        "path": f"NATS batch {batch_ms:g} ms",
        "seconds": seconds,
        "pub_cpu": used,
        "nats_msgs": stats["batches"],
        "states": stats["states"],
        "dropped": stats["dropped"],
        "consumers": res,
    }


async def run_ws(
    args: argparse.Namespace, keys: list[str], msgs: list[dict[str, Any]], deltas: int
) -> dict[str, Any]:
    from websockets.asyncio.server import broadcast, serve

    clients: set[Any] = set()

    async def handler(ws: Any) -> None:
        clients.add(ws)
        try:
            await ws.wait_closed()
        finally:
            clients.discard(ws)

    encode = msgspec.json.Encoder().encode
    async with serve(handler, "127.0.0.1", 0, ping_interval=None, max_size=None) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        procs = [
            spawn("ws", f"ws://127.0.0.1:{port}", keys, deltas, args.seconds * 20 + 30)
            for _ in range(args.consumers)
        ]
        await asyncio.get_running_loop().run_in_executor(None, wait_ready, procs)
        while len(clients) < args.consumers:
            await asyncio.sleep(0.01)

        def send(chunk: list[dict[str, Any]]) -> None:
            for m in chunk:
                broadcast(clients, encode(m), text=True)

        seconds, used = await pace(msgs, args.rate, send)
        res = await asyncio.get_running_loop().run_in_executor(None, results, procs)
    return {"path": "WebSocket fan-out", "seconds": seconds, "pub_cpu": used, "consumers": res}


def report(run: dict[str, Any], n: int, deltas: int, want: str) -> bool:
    rate = n / run["seconds"]
    extra = ""
    if "nats_msgs" in run:
        extra = (
            f", {run['nats_msgs']:,} NATS delta messages ({n / max(run['nats_msgs'], 1):.1f} "
            f"market messages each), {run['states']:,} states, {run['dropped']} dropped"
        )
    print(
        f"\n{run['path']}: sent {n:,} messages in {run['seconds']:.2f} s = {rate:,.0f}/s; "
        f"publisher CPU {run['pub_cpu'] / n * 1e6:.1f} µs/msg{extra}"
    )
    ok = True
    for i, c in enumerate(run["consumers"]):
        exact = c["digest"] == want
        lossless = c["deltas"] == deltas and not c.get("gaps")
        ok &= exact and lossless
        print(
            f"  consumer {i + 1}: {'EXACT' if exact else 'NOT EXACT'}, {c['deltas']:,}/{deltas:,} "
            f"deltas{'' if lossless else ' (LOSS)'}, gaps {c.get('gaps', '-')}, "
            f"latency p50 {c['p50_ms']:.1f} ms p99 {c['p99_ms']:.1f} ms max {c['max_ms']:.1f} ms, "
            f"CPU {c['cpu_us_per_msg']:.1f} µs/msg, errors {c['errors']}"
        )
    return ok


async def drive(args: argparse.Namespace) -> int:
    from support.nats_server import running_nats

    ref = machine_reference()
    print(
        f"machine reference: a plain 10-million-iteration Python loop takes {ref:.2f} s; "
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    )
    count = int(args.rate * args.seconds)
    keys, msgs, deltas = messages(args.seed, count)
    # the digest depends on bt, which is stamped at send time: the reference is per run
    print(
        f"{len(msgs):,} messages ({deltas:,} deltas) over {len(keys)} scrips, "
        f"{args.consumers} consumer processes, asked {args.rate:,.0f} msgs/s"
    )
    ok = True
    runs: list[dict[str, Any]] = []
    with running_nats() as server:
        for batch_ms in args.batch_ms:
            run = await run_nats(args, server.url, keys, msgs, deltas, batch_ms)
            reference = Market(DecodeErrors())
            for m in msgs:
                reference.apply(m)
            ok &= report(run, len(msgs), deltas, digest(reference, keys))
            runs.append(run)
        via = args.via
        if via == "auto":
            try:
                import tui.relay.bus  # noqa: F401
            except ImportError:  # the relay has not landed: a direct fan-out only
                via = "fanout"
            else:
                via = "relay"
        if via == "relay":
            import nats_relay

            print(
                "\n-- through the relay: a fast upstream, `relay --publish`, NATS against the "
                "relay's own WebSocket --"
            )
            ok &= await asyncio.get_running_loop().run_in_executor(
                None, nats_relay.run, server.url, keys, args.rate, args.seconds, args.consumers
            )
    print(
        "\n-- the same frames from this process: NATS (above) against a direct WebSocket fan-out --"
    )
    run = await run_ws(args, keys, msgs, deltas)
    reference = Market(DecodeErrors())
    for m in msgs:
        reference.apply(m)
    ok &= report(run, len(msgs), deltas, digest(reference, keys))
    runs.append(run)
    ws_p50 = statistics.median(c["p50_ms"] for c in run["consumers"])
    ws_p99 = statistics.median(c["p99_ms"] for c in run["consumers"])
    print("\nlatency against the WebSocket fan-out in this run (median over consumers):")
    for r in runs[:-1]:
        p50 = statistics.median(c["p50_ms"] for c in r["consumers"])
        p99 = statistics.median(c["p99_ms"] for c in r["consumers"])
        print(
            f"  {r['path']}: p50 {p50:.1f} ms ({p50 / ws_p50:.2f}x), "
            f"p99 {p99:.1f} ms ({p99 / ws_p99:.2f}x)"
        )
    print(f"  WebSocket fan-out: p50 {ws_p50:.1f} ms, p99 {ws_p99:.1f} ms")
    if args.json:
        Path(args.json).write_text(json.dumps({"machine_s": ref, "runs": runs}, indent=1))
    print(
        "\nall consumers exact, zero loss" if ok else "\nFAILED: a consumer not exact or lost data"
    )
    return 0 if ok else 1


async def store_compare(scrips: int = 500, writes: int = 20_000) -> None:
    """The last-value store: a stream with one message per subject against a KV bucket."""
    import nats
    from nats.js.api import KeyValueConfig, StorageType, StreamConfig
    from support.nats_server import running_nats

    from tui.bus import subjects as sj

    sim = SimMarket(seed=1)
    states = [
        msgspec.json.encode({"e": "x", "q": i, "m": [sim.depth_snapshot(k)]})
        for i, k in enumerate(sim.keys)
    ]
    keys = [f"NSE.{i}" for i in range(scrips)]
    with running_nats() as server:
        nc = await nats.connect(server.url)
        js = nc.jetstream()
        await js.add_stream(
            StreamConfig(
                name=sj.STREAM,
                subjects=["mds.>"],
                max_msgs_per_subject=1,
                storage=StorageType.MEMORY,
                allow_direct=True,
            )
        )
        kv = await js.create_key_value(
            KeyValueConfig(bucket="MDKV", history=1, storage=StorageType.MEMORY)
        )
        out: dict[str, float] = {}

        async def timed(name: str, n: int, work: Any) -> None:
            t = time.perf_counter()
            await work()
            out[name] = (time.perf_counter() - t) / n * 1e6

        async def stream_pub() -> None:
            for i in range(writes):
                await nc.publish(f"mds.{keys[i % scrips]}", states[i % len(states)])
            await nc.flush()

        async def kv_put() -> None:
            for i in range(writes // 10):  # acked one by one: ten times fewer
                await kv.put(keys[i % scrips], states[i % len(states)])

        async def kv_pub() -> None:
            for i in range(writes):
                await nc.publish(f"$KV.MDKV.{keys[i % scrips]}", states[i % len(states)])
            await nc.flush()

        await timed("write: stream, fire-and-forget publish", writes, stream_pub)
        await timed("write: KV put (acked, the KV API)", writes // 10, kv_put)
        await timed("write: KV, fire-and-forget publish to $KV.", writes, kv_pub)
        gate = asyncio.Semaphore(32)
        jsm = nc.jsm()

        async def read_stream() -> None:
            async def one(k: str) -> None:
                async with gate:
                    await jsm.get_last_msg(sj.STREAM, f"mds.{k}", direct=True)

            await asyncio.gather(*(one(k) for k in keys))

        async def read_kv() -> None:
            async def one(k: str) -> None:
                async with gate:
                    await kv.get(k)

            await asyncio.gather(*(one(k) for k in keys))

        for _ in range(2):  # the second round is reported
            await timed("read: stream direct get, 32 in flight", scrips, read_stream)
            await timed("read: KV get, 32 in flight", scrips, read_kv)
        await nc.close()
    print(f"last-value store, {scrips} scrips, ~{len(states[0])}-byte states (µs per state):")
    for name, us in out.items():
        print(f"  {name:45s} {us:8.1f}")
    print(
        f"  (a late joiner of {scrips} scrips reads them in "
        f"{out['read: stream direct get, 32 in flight'] * scrips / 1000:.0f} ms from the stream, "
        f"{out['read: KV get, 32 in flight'] * scrips / 1000:.0f} ms from the KV bucket)"
    )


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rate", type=float, default=50_000.0)
    p.add_argument("--seconds", type=float, default=5.0)
    p.add_argument("--consumers", type=int, default=3)
    p.add_argument(
        "--batch-ms", type=lambda v: [float(x) for x in v.split(",")], default=[0.0, 2.0, 5.0]
    )
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--json", help="also write the figures to this file")
    p.add_argument(
        "--via",
        choices=("auto", "fanout", "relay"),
        default="auto",
        help="the WebSocket path to compare with: the relay (when it is installed: "
        "auto) or a direct fan-out of the same frames",
    )
    p.add_argument(
        "--store",
        action="store_true",
        help="only compare the last-value stores (a stream against a KV bucket)",
    )
    p.add_argument("--role", choices=("nats", "ws"), help=argparse.SUPPRESS)
    p.add_argument("--url", help=argparse.SUPPRESS)
    p.add_argument("--keys", help=argparse.SUPPRESS)
    p.add_argument("--expect", type=int, help=argparse.SUPPRESS)
    p.add_argument("--timeout", type=float, default=120.0, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.role:
        asyncio.run(consume(args))
        return 0
    if args.store:
        print(
            f"machine reference: a plain 10-million-iteration Python loop takes "
            f"{machine_reference():.2f} s"
        )
        asyncio.run(store_compare())
        return 0
    return asyncio.run(drive(args))


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    raise SystemExit(main())
