"""The relay under load: a 50,000 msgs/s upstream, thirteen clients, every process's CPU.

Processes: the fast upstream (``bench/fastfeed.py``: the simulator's market pre-generated,
sent at ``--rate``), the relay (``marketdesk relay``, a process of its own), and clients:

- ``desk``: a desk's feed path, conflated to 20/s (``?conflate=20``): ``FeedClient`` ->
  ``Market``, subscribed as the desk subscribes at L2 (stocks: depth and order level;
  indices: touchline), flushed and every changed scrip viewed 20 times a second; feed lag
  from the source's ``BENCH|0`` stamp (its wall clock when it sent it);
- ``tail``: ten clients as ``marketdesk tail`` runs by default (depth of every scrip, no
  order level), conflated to 10/s, in one process;
- ``tick``: tick by tick, every frame decoded, the L2 books kept (``OrderBook``); checks
  the L2 sequence of every scrip (no gap = every upstream L2 message in order);
- ``slow``: the same, reading at most ``--slow-rate`` frames a second, with websockets'
  keepalive timeout (a ping every 5 s here, 20 s to answer, the default): its worst ping
  round trip is reported, and whether its connection survived.

Two windows: (A) the upstream subscribed (``/snapshot`` with a long grace) and no client,
so the relay's CPU per upstream message is receive + decode + merge alone; (B) every
client attached, so the extra CPU per frame sent downstream follows.  CPU is read from
``/proc/<pid>/stat`` for every process (1.0 = one core), frames from the relay's
``/health``, the relay's own lag from ``BENCH|0`` in its ``/snapshot``.  Then the source
pauses, the clients drain, and each compares its picture with the relay's (prices and
depth against ``/snapshot``; order books between the desk, tick and slow clients).

Goals (issue 10) are printed one a line: value, goal, met.

Run: ``.venv/bin/python bench/relay.py [--rate 50000] [--seconds 10]``
"""

from __future__ import annotations

import os
import sys

_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(_HERE))

import argparse
import asyncio
import contextlib
import fcntl
import hashlib
import json
import math
import signal
import socket
import subprocess
import termios
import time
import urllib.request
from typing import Any

from machine import machine_reference

PY = sys.executable
UP_TOKEN = "bench-upstream-token"
CLIENT_TOKENS = {f"BENCH_C{i}": f"bench-client-{i}" for i in range(14)}
TICKS = os.sysconf("SC_CLK_TCK")
MARKER = "BENCH|0"


def proc_cpu(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / TICKS


def proc_wait(pid: int) -> float:
    """Seconds ``pid``'s threads waited for a CPU while runnable (/proc/<pid>/schedstat of
    the main thread: the relay and the clients run one thread each)."""
    try:
        with open(f"/proc/{pid}/schedstat") as f:
            return int(f.read().split()[1]) / 1e9
    except OSError:
        return float("nan")


def rss_mb(pid: int | str = "self") -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


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
def instruments() -> tuple[list[str], list[str]]:
    """(stocks, indices) of the simulator's market (fastfeed's scrips)."""
    from tui.sim.instruments import INSTRUMENTS

    return ([i.key for i in INSTRUMENTS if not i.index], [i.key for i in INSTRUMENTS if i.index])


def book_digest(orders: dict[str, list[Any]]) -> str:
    return hashlib.sha1(
        json.dumps(sorted((o, list(v)) for o, v in orders.items())).encode()
    ).hexdigest()


class Stdin:
    """The orchestrator's lines (``window T0 T1``) and end of input, read in a thread."""

    def __init__(self) -> None:
        self.window = (0.0, float("inf"))
        self.done = asyncio.create_task(self._read())

    async def _read(self) -> None:
        loop = asyncio.get_running_loop()
        while line := await loop.run_in_executor(None, sys.stdin.readline):
            if line.startswith("window"):
                _, t0, t1 = line.split()
                self.window = (float(t0), float(t1))

    def inside(self, t: float) -> bool:
        return self.window[0] <= t <= self.window[1]


async def feed_clients(
    http: str, url: str, tokens: list[str], hz: float, desk: bool
) -> dict[str, Any]:
    from tui.feed.client import FeedClient
    from tui.feed.config import FeedConfig
    from tui.market.export import scrip_json
    from tui.market.store import Market

    stocks, indices = instruments()
    keys = stocks + indices
    clients = []
    for token in tokens:
        market = Market()
        client = FeedClient(FeedConfig(url=url, token=token), market)
        if desk:  # as the desk at L2 (tui/feedlink.py), and the lag stamp
            client.subscribe(stocks, depth=True, orders=True)
            client.subscribe([*indices, MARKER], depth=False)
        else:  # as `marketdesk tail --scrip ...` (depth, no order level)
            client.subscribe(keys, depth=True)
        clients.append((client, market, asyncio.create_task(client.run())))
    stdin = Stdin()
    frames: list[float] = []
    lags: list[float] = []
    due = time.monotonic()
    while not stdin.done.done():
        due += 1 / hz  # a frame timer on a fixed grid (a late frame does not delay the next)
        await asyncio.sleep(max(0.0, due - time.monotonic()))
        now = time.time()
        frames.append(now)
        for _, market, _ in clients:
            for key in market.flush(now):
                market.view(key)
        if desk:
            bench = clients[0][1].scrips.get(MARKER)
            if bench is not None and bench.values.get("ltt") and stdin.inside(now):
                lags.append(now - float(str(bench.values["ltt"])))
    # quiet: settle, then compare with the relay's picture
    want = get(f"{http}/snapshot?" + "&".join(f"k={k}" for k in keys), tokens[0])["scrips"]
    wrong = 0
    for _, market, _ in clients:
        market.sweep()
        for key in keys:
            scrip = market.view(key)
            got = scrip_json(scrip) if scrip is not None else None
            if got != want.get(key):
                wrong += 1
    t0, t1 = stdin.window
    out = {
        "frames_per_s": sum(1 for t in frames if t0 <= t <= t1) / max(t1 - t0, 1e-9),
        "messages": [c.health.messages for c, _, _ in clients],
        "errors": sum(m.errors.total for _, m, _ in clients),
        "samples": [x for _, m, _ in clients for x in list(m.errors.samples)[:2]][:4],
        "not_exact": wrong,
        "scrips": len(keys) * len(clients),
    }
    if desk:
        market = clients[0][1]
        out["books"] = {k: book_digest(b.orders) for k, b in market.books.items()}
        out["gaps"] = sum(1 for b in market.books.values() if b.gap)
        out["lag_p50_ms"] = pct(lags, 50) * 1000
        out["lag_p99_ms"] = pct(lags, 99) * 1000
    for client, _, task in clients:
        await client.stop()
        await task
    return out


class Reader:
    """A tick-by-tick client's work per message: decode, keep the L2 books, check ``sq``."""

    def __init__(self, stdin: Stdin) -> None:
        import msgspec

        from tui.wire.frames import DecodeErrors

        self.decode = msgspec.json.Decoder().decode
        self.stdin = stdin
        self.errors = DecodeErrors()
        self.books: dict[str, Any] = {}
        self.n = self.gaps = self.bytes = 0
        self.told: list[str] = []
        self.lags: list[float] = []
        self.last = time.monotonic()

    def __call__(self, raw: bytes | str) -> None:
        from tui.market.book import OrderBook

        self.n += 1
        self.bytes += len(raw)
        self.last = time.monotonic()
        msg = self.decode(raw)
        t = msg["t"]
        if t[0] == "l":
            key = msg["e"] + "|" + msg["tk"]
            book = self.books.get(key)
            if book is None:
                book = self.books[key] = OrderBook(key)
            if t == "lk":
                book.snapshot(msg, self.errors)
            else:
                if book.seq >= 0 and int(msg["sq"]) != book.seq + 1:
                    self.gaps += 1
                (book.event if t == "lo" else book.execution)(msg, self.errors)
        elif t == "st":
            self.told.append(msg["s"])
        elif t == "df" and msg.get("e") == "BENCH" and "ltt" in msg:
            now = time.time()
            if self.stdin.inside(now):
                self.lags.append(now - float(msg["ltt"]))

    def result(self, closed: str, ping_max: float) -> dict[str, Any]:
        return {
            "messages": self.n,
            "l2_gaps": self.gaps,
            "told": self.told[:12],
            "behind": self.told.count("behind"),
            "errors": self.errors.total,
            "samples": list(self.errors.samples)[:2],
            "closed": closed,
            "ping_max_s": ping_max,
            "lag_p99_ms": pct(self.lags, 99) * 1000,
            "books": {k: book_digest(b.orders) for k, b in self.books.items()},
            "gaps_open": sum(1 for b in self.books.values() if b.gap),
        }


async def raw_client(url: str, token: str, max_rate: float | None) -> dict[str, Any]:
    """``tick`` (``max_rate`` None): frames handed over as websockets parses them (the
    relay's own ``DirectConnection``: no ``recv()`` per message, as a fast algorithm
    client would read); ``slow``: one ``recv()`` at a time, at most ``max_rate`` a second.
    Both with websockets' keepalive timeout (20 s), pinging every 5 s to see round trips."""
    from websockets.asyncio.client import connect
    from websockets.exceptions import ConnectionClosed

    from tui.relay.upstream import DirectConnection

    stocks, indices = instruments()
    ws = await connect(
        url,
        additional_headers={"Authorization": f"Bearer {token}"},
        max_size=2**24,
        max_queue=4 if max_rate else 16,
        ping_interval=5,
        create_connection=None if max_rate else DirectConnection,
    )
    await ws.send(json.dumps({"t": "d", "k": "#".join([*stocks, *indices, MARKER])}))
    await ws.send(json.dumps({"t": "l", "k": "#".join(stocks)}))
    stdin = Stdin()
    read = Reader(stdin)
    ping_max = 0.0
    closed = ""
    if isinstance(ws, DirectConnection):
        ws.on_text = read
        for frame in ws.early:
            read(frame)
        while (
            not (stdin.done.done() and time.monotonic() - read.last > 2) and ws.close_code is None
        ):
            await asyncio.sleep(0.5)
            ping_max = max(ping_max, ws.latency)
        if ws.close_code is not None:
            closed = f"{ws.close_code} {ws.close_reason}"
        await ws.close()
        return read.result(closed, ping_max)
    started = time.perf_counter()
    next_ping_look = time.monotonic() + 1
    sock = ws.transport.get_extra_info("socket")
    inq_max = rcvbuf = 0
    while not (stdin.done.done() and time.monotonic() - read.last > 2):
        try:
            raw = await asyncio.wait_for(ws.recv(), 0.5)
        except TimeoutError:
            continue
        except ConnectionClosed:
            closed = f"{ws.close_code} {ws.close_reason}"
            break
        read(raw)
        if time.monotonic() > next_ping_look:
            next_ping_look += 1
            ping_max = max(ping_max, ws.latency)
            with contextlib.suppress(OSError):
                inq_max = max(
                    inq_max,
                    int.from_bytes(
                        fcntl.ioctl(sock.fileno(), termios.FIONREAD, b"\0" * 4), "little"
                    ),
                )
                rcvbuf = max(rcvbuf, sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF))
        if read.n % 100 == 0:
            ahead = read.n / max_rate - (time.perf_counter() - started)  # type: ignore[operator]
            if ahead > 0:
                await asyncio.sleep(ahead)
    if not closed:
        await ws.close()
    out = read.result(closed, ping_max)
    out["own_buffer_max_kb"] = inq_max // 1024  # its kernel's receive queue, unread
    out["rcvbuf_kb"] = rcvbuf // 1024
    out["read_rate_kb_s"] = round(read.bytes / max(time.perf_counter() - started, 1e-9) / 1024)
    return out


def child(role: str, http: str, url: str, tokens: list[str], slow_rate: float) -> None:
    async def main() -> dict[str, Any]:
        if role == "desk":
            return await feed_clients(http, url + "?conflate=20", tokens, 20.0, True)
        if role == "tail":
            return await feed_clients(http, url + "?conflate=10", tokens, 10.0, False)
        return await raw_client(url, tokens[0], slow_rate if role == "slow" else None)

    out = asyncio.run(main())
    out["rss_mb"] = rss_mb()
    print(json.dumps(out), flush=True)


# -- the orchestra -----------------------------------------------------------------------
def spawn(args: list[str], env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [PY, *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )


async def want_orders(url: str, token: str, stocks: list[str]) -> None:
    """Subscribe order level of ``stocks`` for a moment: the relay keeps it upstream."""
    from websockets.asyncio.client import connect

    async with connect(
        url, additional_headers={"Authorization": f"Bearer {token}"}, max_size=2**24
    ) as ws:
        await ws.send(json.dumps({"t": "l", "k": "#".join(stocks)}))
        for _ in range(200):
            await ws.recv()


def relay_lag(http: str) -> float:
    """Wall now minus the ``ltt`` stamp of ``BENCH|0`` in the relay's merged state."""
    doc = get(f"{http}/snapshot?k={MARKER}", CLIENT_TOKENS["BENCH_C0"])
    ltt = doc["scrips"].get(MARKER, {}).get("ltt")
    return time.time() - float(ltt) if ltt else float("nan")


def window(pids: dict[str, int], http: str, seconds: float, lag: bool) -> dict[str, Any]:
    """CPU of every process, upstream and downstream rates, and /health sampled each second."""

    def counters() -> tuple[float, dict[str, float], int, int]:
        h = get(http + "/health")
        sent = sum(c["frames_sent"] for c in h["clients"])
        return (
            time.perf_counter(),
            {r: proc_cpu(p) for r, p in pids.items()},
            h["upstream"]["messages"],
            sent,
        )

    w0 = {r: proc_wait(p) for r, p in pids.items()}
    t0, c0, m0, s0 = counters()
    wall0 = time.time()
    samples: list[dict[str, Any]] = []
    lags: list[float] = []
    while time.perf_counter() - t0 < seconds:
        time.sleep(1.0)
        samples.append(get(http + "/health"))
        if lag:
            lags.append(relay_lag(http))
    t1, c1, m1, s1 = counters()
    dt = t1 - t0
    w1 = {r: proc_wait(p) for r, p in pids.items()}
    return {
        "seconds": dt,
        "wall": (wall0, time.time()),
        "cpu": {r: (c1[r] - c0[r]) / dt for r in pids},
        "waited": {r: (w1[r] - w0[r]) / dt for r in pids},
        "upstream": (m1 - m0) / dt,
        "downstream": (s1 - s0) / dt,
        "samples": samples,
        "lags": lags,
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rate", type=float, default=50_000.0)
    p.add_argument("--seconds", type=float, default=10.0)
    p.add_argument("--messages", type=int, default=300_000, help="pre-generated upstream messages")
    p.add_argument("--slow-rate", type=float, default=2000.0)
    p.add_argument(
        "--profile",
        metavar="FILE",
        help="run the relay under cProfile into FILE "
        "(slows it: read the output for shares, not the figures)",
    )
    p.add_argument(
        "--child", nargs=4, metavar=("ROLE", "HTTP", "URL", "TOKENS"), help=argparse.SUPPRESS
    )
    args = p.parse_args(argv)
    if args.child:
        role, http, url, tokens = args.child
        child(role, http, url, tokens.split(","), args.slow_rate)
        return 0

    ref = machine_reference()
    print(
        f"machine reference: a plain 10-million-iteration loop takes {ref:.2f} s; "
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    )
    print(f"pre-generating {args.messages:,} upstream messages ...", flush=True)
    source = spawn(
        [
            os.path.join(_HERE, "fastfeed.py"),
            "--rate",
            str(args.rate),
            "--messages",
            str(args.messages),
        ]
    )
    assert source.stdout is not None and source.stdin is not None
    upstream_url = source.stdout.readline().split()[1]
    port = free_port()
    env = {"BENCH_UP": UP_TOKEN, **CLIENT_TOKENS}
    profile = ["-m", "cProfile", "-o", args.profile] if args.profile else []
    relay_args = [
        *profile,
        "-m",
        "tui.cli",
        "relay",
        "--url",
        upstream_url,
        "--token-env",
        "BENCH_UP",
        "--listen",
        f"127.0.0.1:{port}",
        "--grace",
        "3600",
        "--max-sessions",
        "2",
    ]
    for var in CLIENT_TOKENS:
        relay_args += ["--client-token-env", var]
    relay = spawn(relay_args, env)
    assert relay.stdout is not None
    relay.stdout.readline()
    http, url = f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}/2.0/market/feed/l2"
    tokens = list(CLIENT_TOKENS.values())
    children: list[tuple[str, subprocess.Popen[str]]] = []
    results: dict[str, Any] = {}
    try:
        stocks, indices = instruments()
        keys = "&".join(f"k={k}" for k in [*stocks, *indices, MARKER])
        get(f"{http}/snapshot?{keys}&seconds=10", tokens[0])  # the upstream subscribed, no client
        asyncio.run(
            want_orders(url, tokens[0], stocks)
        )  # ... with order level (the grace keeps it)
        time.sleep(2)
        pids = {"relay": relay.pid, "source": source.pid}
        a = window(pids, http, args.seconds / 2, lag=True)
        print(
            f"(A) upstream only: {a['upstream']:,.0f} msgs/s, relay CPU {a['cpu']['relay']:.0%} "
            f"(waited for a CPU {a['waited']['relay']:.0%}), source CPU {a['cpu']['source']:.0%}",
            flush=True,
        )
        roles = [
            ("desk", tokens[1:2]),
            ("tail", tokens[2:12]),
            ("tick", tokens[12:13]),
            ("slow", tokens[13:14]),
        ]
        for role, toks in roles:
            children.append(
                (
                    role,
                    spawn(
                        [
                            __file__,
                            "--child",
                            role,
                            http,
                            url,
                            ",".join(toks),
                            "--slow-rate",
                            str(args.slow_rate),
                        ]
                    ),
                )
            )
        time.sleep(4)
        pids.update({role: proc.pid for role, proc in children})
        pids["bench"] = os.getpid()
        relay_rss0 = rss_mb(relay.pid)
        b = window(pids, http, args.seconds, lag=True)
        b["relay_rss"] = (relay_rss0, rss_mb(relay.pid))
        health = get(http + "/health")
        for _, proc in children:
            assert proc.stdin is not None
            proc.stdin.write(f"window {b['wall'][0]} {b['wall'][1]}\n")
            proc.stdin.flush()
        source.stdin.write("pause\n")
        source.stdin.flush()
        settle(http)
        source.stdin.write("pause\n")  # (again, harmless: the finally sends it too)
        source.stdin.flush()
    finally:
        if source.poll() is None:
            source.stdin.write("pause\n")
            source.stdin.flush()
        for role, proc in children:
            try:
                out, _ = proc.communicate("", timeout=120)
            except subprocess.TimeoutExpired:
                proc.kill()
                out, _ = proc.communicate()
            results[role] = json.loads(out.strip().splitlines()[-1]) if out.strip() else {}
        source.communicate("", timeout=30)
        if args.profile:  # cProfile writes its file on the way out of a KeyboardInterrupt
            relay.send_signal(signal.SIGINT)
        else:
            relay.terminate()
        relay.wait(30)
    report(args, ref, a, b, health, results)
    return 0


def settle(http: str, within: float = 90.0) -> None:
    """Wait until the relay has taken everything from the paused source (its upstream
    count still for 2 s) and holds nothing for any client."""
    deadline = time.monotonic() + within
    last, still_since = -1, time.monotonic()
    while time.monotonic() < deadline:
        h = get(http + "/health")
        count = h["upstream"]["messages"]
        if count != last:
            last, still_since = count, time.monotonic()
        idle = all(
            c["queued_bytes"] == 0 and not c["behind"] and c["held_scrips"] == 0
            for c in h["clients"]
        )
        if idle and time.monotonic() - still_since >= 2.0:
            return
        time.sleep(0.5)
    print(f"  (the relay did not settle within {within:.0f} s: the exactness check is early)")


def report(
    args: argparse.Namespace,
    ref: float,
    a: dict[str, Any],
    b: dict[str, Any],
    health: dict[str, Any],
    results: dict[str, Any],
) -> None:
    per_up = a["cpu"]["relay"] / a["upstream"] * 1e6 if a["upstream"] else float("nan")
    extra = b["cpu"]["relay"] - per_up * 1e-6 * b["upstream"]
    per_down = extra / b["downstream"] * 1e6 if b["downstream"] else float("nan")
    print(
        f"(B) clients attached: upstream {b['upstream']:,.0f} msgs/s, downstream "
        f"{b['downstream']:,.0f} frames/s, relay CPU {b['cpu']['relay']:.0%}"
    )
    print(f"relay CPU per upstream message (receive, decode, merge; window A): {per_up:.1f} µs")
    print(
        f"relay CPU per frame sent downstream (fan-out, conflation, writes; B minus A's "
        f"share): {per_down:.1f} µs; the same per upstream message: "
        f"{extra / b['upstream'] * 1e6 if b['upstream'] else float('nan'):.1f} µs"
    )
    cpu = b["cpu"]
    print(
        "CPU in window B (1.0 = one core): "
        + ", ".join(f"{r} {v:.2f}" for r, v in cpu.items())
        + f"; total {sum(cpu.values()):.2f} of {os.cpu_count()}"
    )
    if b["upstream"]:  # the budget at the rate asked, from the CPU each process took a message
        scale = args.rate / b["upstream"]
        need = {r: v * (scale if r in ("relay", "source", "tick") else 1.0) for r, v in cpu.items()}
        print(
            f"projected at {args.rate:,.0f} msgs/s (relay, source and tick scale with the upstream "
            "rate; conflated and slow clients do not): "
            + ", ".join(f"{r} {v:.2f}" for r, v in need.items())
            + f"; total {sum(need.values()):.2f} of {os.cpu_count()} cores"
        )
    print(
        "waited for a CPU while runnable in window B (share of the window): "
        + ", ".join(f"{r} {v:.0%}" for r, v in b["waited"].items())
        + "  (above ~5%: the machine, not the process, set the pace)"
    )
    print(f"relay RSS {b['relay_rss'][0]:.0f} -> {b['relay_rss'][1]:.0f} MB over window B")
    for c in health["clients"]:
        print(
            f"  client #{c['id']:>2} {c['name']:<9} {c['mode']:<16} sent {c['frames_sent']:>9,}"
            f"  behind {c['behind']!s:<5} fell behind {c['fell_behind']}x  merged "
            f"{c['merged']:,}  L2 lk {c['resynced']}  held scrips {c['held_scrips']}"
            f"  queued {c['queued_bytes']:,} B"
        )
    for role, r in results.items():
        shown = {k: v for k, v in r.items() if k != "books"}
        print(f"  {role}: {json.dumps(shown)}")
    slow_name = "BENCH_C13"
    slow_queued = [
        c["queued_bytes"] for h in b["samples"] for c in h["clients"] if c["name"] == slow_name
    ]
    slow_held = [
        c["held_scrips"] for h in b["samples"] for c in h["clients"] if c["name"] == slow_name
    ]
    desk, tail = results.get("desk", {}), results.get("tail", {})
    tick, slow = results.get("tick", {}), results.get("slow", {})
    lags = [x for x in b["lags"] if not math.isnan(x)]
    books = [r.get("books", {}) for r in (desk, tick, slow)]
    differ = sum(1 for k, digest in books[1].items() if any(bk.get(k) != digest for bk in books))
    if differ:
        for name, bk in (("desk", books[0]), ("slow", books[2])):
            off = [k for k, digest in books[1].items() if bk.get(k) != digest]
            print(f"  books of {name} differing from tick's: {len(off)} {off[:3]}")
    n_scrips = len(instruments()[0]) + len(instruments()[1]) + 1
    goals = [
        (
            "upstream delivered (msgs/s)",
            b["upstream"],
            f">= 95% of {args.rate:,.0f}",
            b["upstream"] >= 0.95 * args.rate,
        ),
        (
            "relay lag p99 / max, BENCH|0 at the relay (ms)",
            (pct(lags, 99) * 1000, max(lags or [0]) * 1000),
            "< 250 / < 1000 (bounded)",
            bool(lags) and pct(lags, 99) < 0.25 and max(lags) < 1.0,
        ),
        ("relay CPU per upstream msg (µs)", per_up, "<= 8", per_up <= 8),
        (
            "desk frames/s",
            desk.get("frames_per_s", 0),
            ">= 20 (19.5)",
            desk.get("frames_per_s", 0) >= 19.5,
        ),
        (
            "desk feed lag p99 (ms)",
            desk.get("lag_p99_ms", float("nan")),
            "< 250",
            desk.get("lag_p99_ms", 1e9) < 250,
        ),
        (
            "tick: L2 gaps / told behind / bad frames",
            (tick.get("l2_gaps"), tick.get("behind"), tick.get("errors")),
            "0 / 0 / 0",
            tick.get("l2_gaps") == 0 and tick.get("behind") == 0 and tick.get("errors") == 0,
        ),
        (
            "tick lag p99 (ms)",
            tick.get("lag_p99_ms", float("nan")),
            "< 250",
            tick.get("lag_p99_ms", 1e9) < 250,
        ),
        (
            "slow: connection kept (worst ping round trip s, its own receive queue KB, it read KB/s)",
            (
                not slow.get("closed"),
                round(slow.get("ping_max_s", 0), 1),
                slow.get("own_buffer_max_kb"),
                slow.get("read_rate_kb_s"),
            ),
            "kept",
            bool(slow) and not slow.get("closed"),
        ),
        (
            "slow: relay-side queue max (KB) / held scrips max",
            (max(slow_queued or [0]) // 1024, max(slow_held or [0])),
            f"<= 2048 / <= {n_scrips}",
            max(slow_queued or [0]) <= 2 * 1024 * 1024 and max(slow_held or [0]) <= n_scrips,
        ),
        (
            "bad frames: desk / tail x10 / slow",
            (desk.get("errors"), tail.get("errors"), slow.get("errors")),
            "0 / 0 / 0",
            desk.get("errors") == 0 and tail.get("errors") == 0 and slow.get("errors") == 0,
        ),
        (
            "exact at the end: scrips off /snapshot (desk, tail) / books differing (desk, tick, slow)",
            (desk.get("not_exact"), tail.get("not_exact"), differ),
            "0 / 0 / 0",
            desk.get("not_exact") == 0
            and tail.get("not_exact") == 0
            and differ == 0
            and bool(books[1]),
        ),
    ]
    print(
        f"\nGoals (machine reference {ref:.2f} s, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}):"
    )
    for name, value, goal, met in goals:
        shown = f"{value:,.1f}" if isinstance(value, float) else str(value)
        print(f"  {'MET ' if met else 'NOT '} {name}: {shown}  (goal {goal})")


if __name__ == "__main__":
    raise SystemExit(main())
