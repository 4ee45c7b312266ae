"""The relay under load: a 50,000 msgs/s upstream, thirteen clients, the relay's own CPU.

Processes: the fast upstream (``bench/fastfeed.py``: the simulator's market pre-generated,
sent at ``--rate``), the relay (``marketdesk relay``, a process of its own), and clients:

- ``desk``: a desk's feed path (``FeedClient`` -> ``Market``, flushed and every changed
  scrip viewed 20 times a second), conflated to 20/s; reports feed lag from the source's
  ``BENCH|0`` stamp;
- ``tail``: ten ``FeedClient`` + ``Market`` clients conflated to 10/s, in one process;
- ``tick``: tick by tick, every frame decoded; checks the L2 sequence of every scrip
  (no gap = every upstream L2 message in order) and counts ``st`` messages;
- ``slow``: tick by tick but reading at most ``--slow-rate`` frames a second.

Two windows: (A) the upstream subscribed (``/snapshot`` with a long grace) and no client,
so the relay's CPU per upstream message is receive + decode + merge alone; (B) every
client attached, so the extra CPU per frame sent downstream follows.  Relay CPU is read
from ``/proc/<pid>/stat``; frames from its ``/health``.

Run: ``.venv/bin/python bench/relay.py [--rate 50000] [--seconds 10]``
"""

from __future__ import annotations

import os
import sys

_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(_HERE))

import argparse
import asyncio
import json
import socket
import statistics
import subprocess
import time
import urllib.request
from typing import Any

PY = sys.executable
UP_TOKEN = "bench-upstream-token"
CLIENT_TOKENS = {f"BENCH_C{i}": f"bench-client-{i}" for i in range(14)}
TICKS = os.sysconf("SC_CLK_TCK")


def machine_reference() -> float:
    t = time.perf_counter()
    for _ in range(10_000_000):
        pass
    return time.perf_counter() - t


def proc_cpu(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def get(url: str, token: str | None = None, timeout: float = 30) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=timeout) as r:
        return json.loads(r.read())


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(int(len(values) * p / 100), len(values) - 1)]


# -- clients (child processes) -----------------------------------------------------------
def all_keys() -> list[str]:
    from tui.sim.instruments import INSTRUMENTS

    return [i.key for i in INSTRUMENTS]


async def until_stdin_closes() -> None:
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)


async def feed_clients(url: str, tokens: list[str], hz: float, lags: list[float] | None) -> dict[str, Any]:
    from tui.feed.client import FeedClient
    from tui.feed.config import FeedConfig
    from tui.market.store import Market

    keys = all_keys()
    clients = []
    for token in tokens:
        market = Market()
        client = FeedClient(FeedConfig(url=url, token=token), market)
        client.subscribe([*keys, "BENCH|0"], orders=True)
        clients.append((client, market, asyncio.create_task(client.run())))
    frames = 0
    stop = asyncio.create_task(until_stdin_closes())
    while not stop.done():
        await asyncio.sleep(1 / hz)
        frames += 1
        now = time.time()
        for _, market, _ in clients:
            for key in market.flush(now):
                market.view(key)
            if lags is not None:
                bench = market.scrips.get("BENCH|0")
                if bench is not None and bench.values.get("ltt"):
                    lags.append(now - float(str(bench.values["ltt"])))
    for client, _, task in clients:
        await client.stop()
        await task
    return {"frames": frames, "messages": [c.health.messages for c, _, _ in clients],
            "errors": sum(m.errors.total for _, m, _ in clients),
            "samples": [sample for _, m, _ in clients for sample in list(m.errors.samples)[:2]][:4]}


async def raw_client(url: str, token: str, max_rate: float | None) -> dict[str, Any]:
    from websockets.asyncio.client import connect

    keys = "#".join(all_keys())
    ws = await connect(url, additional_headers={"Authorization": f"Bearer {token}"},
                       max_size=2**24, max_queue=4 if max_rate else 16)
    await ws.send(json.dumps({"t": "d", "k": keys}))
    await ws.send(json.dumps({"t": "l", "k": keys}))
    seq: dict[str, int] = {}
    n = gaps = 0
    told: list[str] = []
    stop = asyncio.create_task(until_stdin_closes())
    started = time.perf_counter()
    while not stop.done():
        try:
            raw = await asyncio.wait_for(ws.recv(), 0.5)
        except TimeoutError:
            continue
        n += 1
        msg = json.loads(raw)
        t = msg["t"]
        if t[0] == "l":
            key = msg["e"] + "|" + msg["tk"]
            sq = int(msg["sq"])
            if t != "lk" and key in seq and sq != seq[key] + 1:
                gaps += 1
            seq[key] = sq
        elif t == "st":
            told.append(msg["s"])
        if max_rate and n % 100 == 0:
            ahead = n / max_rate - (time.perf_counter() - started)
            if ahead > 0:
                await asyncio.sleep(ahead)
    await ws.close()
    return {"messages": n, "l2_gaps": gaps, "told": told[:12]}


def child(role: str, url: str, tokens: list[str], slow_rate: float) -> None:
    async def main() -> dict[str, Any]:
        if role == "desk":
            lags: list[float] = []
            out = await feed_clients(url + "?conflate=20", tokens, 20.0, lags)
            return {**out, "lag_p50_ms": pct(lags, 50) * 1000, "lag_p99_ms": pct(lags, 99) * 1000}
        if role == "tail":
            return await feed_clients(url + "?conflate=10", tokens, 10.0, None)
        return await raw_client(url, tokens[0], slow_rate if role == "slow" else None)

    print(json.dumps(asyncio.run(main())), flush=True)


# -- the orchestra -----------------------------------------------------------------------
def spawn(args: list[str], env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen([PY, *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            text=True, env={**os.environ, **(env or {})})


def window(relay_pid: int, http: str, seconds: float) -> dict[str, float]:
    def sample() -> tuple[float, float, int, int]:
        h = get(http + "/health")
        sent = sum(c["frames_sent"] for c in h["clients"])
        return time.perf_counter(), proc_cpu(relay_pid), h["upstream"]["messages"], sent

    t0, c0, m0, s0 = sample()
    time.sleep(seconds)
    t1, c1, m1, s1 = sample()
    dt = t1 - t0
    return {"seconds": dt, "cpu": (c1 - c0) / dt, "upstream": (m1 - m0) / dt, "downstream": (s1 - s0) / dt}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rate", type=float, default=50_000.0)
    p.add_argument("--seconds", type=float, default=10.0)
    p.add_argument("--messages", type=int, default=300_000, help="pre-generated upstream messages")
    p.add_argument("--slow-rate", type=float, default=2000.0)
    p.add_argument("--child", nargs=3, metavar=("ROLE", "URL", "TOKENS"), help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        role, url, tokens = args.child
        child(role, url, tokens.split(","), args.slow_rate)
        return 0

    ref = machine_reference()
    print(f"machine reference: a plain 10-million-iteration loop takes {ref:.2f} s; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"pre-generating {args.messages:,} upstream messages ...", flush=True)
    source = spawn([os.path.join(_HERE, "fastfeed.py"), "--rate", str(args.rate),
                    "--messages", str(args.messages)])
    assert source.stdout is not None
    upstream_url = source.stdout.readline().split()[1]
    port = free_port()
    env = {"BENCH_UP": UP_TOKEN, **CLIENT_TOKENS}
    relay_args = ["-m", "tui.cli", "relay", "--url", upstream_url, "--token-env", "BENCH_UP",
                  "--listen", f"127.0.0.1:{port}", "--grace", "3600", "--max-sessions", "2"]
    for var in CLIENT_TOKENS:
        relay_args += ["--client-token-env", var]
    relay = spawn(relay_args, env)
    assert relay.stdout is not None
    relay.stdout.readline()
    http, url = f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}/2.0/market/feed/l2"
    tokens = list(CLIENT_TOKENS.values())
    children: list[tuple[str, subprocess.Popen[str]]] = []
    try:
        keys = "&".join(f"k={k}" for k in all_keys())
        get(f"{http}/snapshot?{keys}&seconds=10", tokens[0])  # the upstream subscribed, no client
        time.sleep(2)
        a = window(relay.pid, http, args.seconds / 2)
        print(f"(A) upstream only: {a['upstream']:,.0f} msgs/s, relay CPU {a['cpu']:.0%}")
        roles = [("desk", tokens[1:2]), ("tail", tokens[2:12]), ("tick", tokens[12:13]),
                 ("slow", tokens[13:14])]
        for role, toks in roles:
            children.append((role, spawn([__file__, "--child", role, url, ",".join(toks),
                                          "--slow-rate", str(args.slow_rate)])))
        time.sleep(4)
        b = window(relay.pid, http, args.seconds)
        health = get(http + "/health")
    finally:
        results = {}
        for role, proc in children:
            out, _ = proc.communicate("", timeout=60)
            results[role] = json.loads(out.strip().splitlines()[-1]) if out.strip() else {}
        for proc in (relay, source):
            proc.communicate("", timeout=30) if proc is source else proc.terminate()
        relay.wait(10)
    report(args, a, b, health, results)
    return 0


def report(args: argparse.Namespace, a: dict[str, float], b: dict[str, float],
           health: dict[str, Any], results: dict[str, Any]) -> None:
    per_up = a["cpu"] / a["upstream"] * 1e6 if a["upstream"] else float("nan")
    extra = b["cpu"] - per_up * 1e-6 * b["upstream"]
    per_down = extra / b["downstream"] * 1e6 if b["downstream"] else float("nan")
    print(f"(B) clients attached: upstream {b['upstream']:,.0f} msgs/s, downstream "
          f"{b['downstream']:,.0f} frames/s, relay CPU {b['cpu']:.0%}")
    print(f"relay CPU per upstream message (receive, decode, merge): {per_up:.1f} µs")
    print(f"relay CPU per frame sent downstream (fan-out, conflation, writes): {per_down:.1f} µs")
    print(f"upstream lag at the relay: {health['upstream']['lag']} s")
    for c in health["clients"]:
        print(f"  client #{c['id']:>2} {c['name']:<9} {c['mode']:<16} sent {c['frames_sent']:>9,}"
              f"  behind {c['behind']!s:<5} fell behind {c['fell_behind']}x  merged "
              f"{c['merged']:,}  L2 resynced {c['resynced']}  held scrips {c['held_scrips']}"
              f"  queued {c['queued_bytes']:,} B")
    desk = results.get("desk", {})
    if desk:
        print(f"desk: {desk['frames']} frames, lag p50 {desk['lag_p50_ms']:.0f} ms, "
              f"p99 {desk['lag_p99_ms']:.0f} ms, bad frames {desk['errors']} {desk['samples'][:2]}")
    tail = results.get("tail", {})
    if tail:
        print(f"tail x10: messages {statistics.mean(tail['messages']):,.0f} each, bad frames "
              f"{tail['errors']} {tail['samples'][:2]}")
    for role in ("tick", "slow"):
        r = results.get(role, {})
        if r:
            print(f"{role}: {r['messages']:,} messages, L2 sequence gaps {r['l2_gaps']}, told {r['told']}")


if __name__ == "__main__":
    raise SystemExit(main())
