"""Recording and replay: what recording costs, how fast a recording reads and serves.

(a) machine reference: a plain 10-million-iteration Python loop (compare runs by it)
(b) write: ``Recorder.received`` per frame (buffer, zstd level 1, write, once a second on
    a 20,000 msgs/s clock), against the client's own decode + merge of the same frame in
    the same run; as a share of a core at 20,000 msgs/s
(c) in situ (``--live``): the WebSocket client in a child process against the simulator
    in another at 20,000 msgs/s, with and without ``--record``: CPU a message of each
(d) read: the records of a file, then + decode (``FrameReader``), then + merge into a
    ``Market`` (the replay source at ``--speed 0``), in messages/s
(e) serve: ``marketdesk replay --speed 0`` in a process of its own, one connection read by
    a bare websockets loop that counts frames, and by the marketdesk client

The frames are realistic: the simulator's market (every instrument, depth and L2), made
into a recording without a socket (``tui.replay.synthetic``).

Run: ``.venv/bin/python bench/record.py [--seconds 15] [--live]``
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from children import start
from machine import machine_reference

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TOKEN = "bench-token"  # a loopback server's token, not a secret
RATE = 20_000


def cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def frames_of(files: list[Path]) -> list[bytes]:
    from tui.record import format as fmt
    from tui.record.reader import Recording

    return [p for k, _, p in Recording(files).records() if k in (fmt.RECEIVED, fmt.SNAPSHOT)]


def bench_write(frames: list[bytes], tmp: Path) -> dict[str, float]:
    """(b): µs a frame for the client's decode + merge, and for the recorder."""
    from tui.market.store import Market
    from tui.record import format as fmt
    from tui.record.writer import NS, Recorder
    from tui.wire.frames import DecodeErrors, FrameReader

    market = Market(DecodeErrors())
    feed = FrameReader(market.errors, sink=market.apply).feed
    c0 = cpu()
    for f in frames:
        feed(f)
    client_us = 1e6 * (cpu() - c0) / len(frames)

    clock = [time.time_ns()]
    step = NS // RATE
    rec = Recorder(
        tmp / "write",
        fmt.Header(program="bench", endpoint="ws://x/", started_ns=0),
        clock_ns=lambda: clock[0],
        secrets=("bench-secret-token",),
    )
    rec.start()
    received = rec.received
    c0 = cpu()
    for f in frames:
        clock[0] += step
        received(f)
    rec.close()
    record_us = 1e6 * (cpu() - c0) / len(frames)
    raw = sum(len(f) for f in frames)
    return {
        "client_us": client_us,
        "record_us": record_us,
        "record_core_pct_at_20k": record_us * RATE / 1e4,
        "ratio": raw / rec.bytes_written,
        "mb_per_hour_at_20k": rec.bytes_written / len(frames) * RATE * 3600 / 1e6,
    }


def bench_read(files: list[Path]) -> dict[str, float]:
    """(d): records/s; + decode; + merge (the replay source at speed 0).  Per second of
    this process's CPU, so a busy neighbour does not count against the reader."""
    from tui.market.store import Market
    from tui.record.reader import Recording
    from tui.replay.source import ReplaySource
    from tui.wire.frames import DecodeErrors, FrameReader

    out: dict[str, float] = {}
    c0 = cpu()
    n = sum(1 for _ in Recording(files).records())
    out["records_per_s"] = n / (cpu() - c0)

    reader = FrameReader(DecodeErrors(), sink=lambda msg: None)
    feed = reader.feed
    c0 = cpu()
    n = 0
    for kind, _, payload in Recording(files).records():
        if kind in (1, 6):
            feed(payload)
            n += 1
    out["read_decode_per_s"] = n / (cpu() - c0)

    market = Market(DecodeErrors())
    source = ReplaySource(Recording(files), market, speed=0)
    c0 = cpu()
    source.advance_to(1 << 62)
    out["read_decode_merge_per_s"] = source.frames / (cpu() - c0)
    out["frames"] = source.frames
    return out


def proc_cpu(pid: int) -> float:
    """CPU seconds (user + system) a child process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def count_bare(url: str, keys: list[str], total: int) -> dict[str, float]:
    """(e): a websockets loop that only counts frames, until ``total`` arrived."""
    from websockets.asyncio.client import connect
    from websockets.exceptions import ConnectionClosed

    async def main() -> dict[str, float]:
        async with connect(
            url,
            additional_headers={"Authorization": f"Bearer {TOKEN}"},
            compression=None,
            max_size=None,
        ) as ws:
            await ws.recv()  # ck
            await ws.send(json.dumps({"t": "d", "k": "#".join(keys)}))
            await ws.send(json.dumps({"t": "l", "k": "#".join(keys)}))
            await ws.recv(decode=False)  # the first frame starts the clock
            n, t0, recv, clock = 1, time.perf_counter(), ws.recv, time.perf_counter
            last = [t0]

            async def idle() -> None:  # the replay ended: 2 s without a frame
                while clock() - last[0] < 2:
                    await asyncio.sleep(0.2)
                await ws.close()

            watchdog = asyncio.create_task(idle())
            try:
                while n < total:
                    await recv(False)
                    n += 1
                    last[0] = clock()
            except ConnectionClosed:
                pass
            watchdog.cancel()
            return {"messages": n, "seconds": last[0] - t0}

    return asyncio.run(main())


def count_raw(url: str, keys: list[str], total: int) -> dict[str, float]:
    """(e): a plain blocking socket that does the WebSocket upgrade by hand and counts
    frames by their headers: a reader cheap enough that the server is what is measured."""
    import base64
    import socket
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    sock = socket.create_connection((parts.hostname, parts.port))
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(
        (
            f"GET {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
            f"Sec-WebSocket-Version: 13\r\nAuthorization: Bearer {TOKEN}\r\n\r\n"
        ).encode()
    )
    buf = b""
    while b"\r\n\r\n" not in buf:
        buf += sock.recv(65536)
    buf = buf.split(b"\r\n\r\n", 1)[1]

    def send(text: str) -> None:  # a client frame must be masked: a zero mask keeps it as is
        data = text.encode()
        n = len(data)
        head = bytes((0x81, 0x80 | n)) if n < 126 else bytes((0x81, 0xFE)) + n.to_bytes(2, "big")
        sock.sendall(head + b"\0\0\0\0" + data)

    send(json.dumps({"t": "d", "k": "#".join(keys)}))
    send(json.dumps({"t": "l", "k": "#".join(keys)}))
    sock.settimeout(2.0)
    n, t0, last, off = 0, 0.0, 0.0, 0
    try:
        while n < total:
            chunk = sock.recv(1 << 20)
            if not chunk:
                break
            buf = buf[off:] + chunk
            off, end = 0, len(buf)
            while end - off >= 2:
                length = buf[off + 1] & 0x7F
                head = 2
                if length == 126:
                    if end - off < 4:
                        break
                    length, head = int.from_bytes(buf[off + 2 : off + 4], "big"), 4
                elif length == 127:
                    if end - off < 10:
                        break
                    length, head = int.from_bytes(buf[off + 2 : off + 10], "big"), 10
                if end - off < head + length:
                    break
                off += head + length
                n += 1
            last = time.perf_counter()
            if not t0:
                t0 = last
    except TimeoutError:
        pass
    sock.close()
    return {"messages": n, "seconds": last - t0}


def count_client(url: str, keys: list[str], total: int) -> dict[str, float]:
    """(e): the marketdesk client (decode + merge) on one connection."""
    from tui.feed.client import FeedClient
    from tui.feed.config import FeedConfig
    from tui.market.store import Market

    async def main() -> dict[str, float]:
        client = FeedClient(FeedConfig(url=url, token=TOKEN), Market())
        client.subscribe(keys, depth=True, orders=True)
        task = asyncio.create_task(client.run())
        t0, last, last_n = None, time.perf_counter(), -1
        while True:
            await asyncio.sleep(0.05)
            n = client.health.messages
            if n and t0 is None:
                t0, c0 = time.perf_counter(), cpu()
            if n != last_n:
                last, last_n = time.perf_counter(), n
            if n >= total or (t0 is not None and time.perf_counter() - last > 3):
                break
        c1 = cpu()
        await client.stop()
        await task
        return {"messages": last_n, "seconds": last - (t0 or last), "cpu": c1 - c0}

    return asyncio.run(main())


def live_child(url: str, record: str, seconds: float) -> dict[str, float]:
    """(c): the client alone in this process, recording into ``record`` or not."""
    from tui.feed.client import FeedClient
    from tui.feed.config import FeedConfig
    from tui.market.store import Market
    from tui.sim.instruments import INSTRUMENTS

    async def main() -> dict[str, float]:
        client = FeedClient(FeedConfig(url=url, token=TOKEN), Market())
        client.subscribe([i.key for i in INSTRUMENTS], depth=True)
        recorder = None
        if record:
            from tui.recording import attach_recorder

            recorder = attach_recorder(client, record)
        task = asyncio.create_task(client.run())
        await asyncio.sleep(2.0)  # warm up
        n0, c0 = client.health.messages, cpu()
        await asyncio.sleep(seconds)
        n1, c1 = client.health.messages, cpu()
        await client.stop()
        await task
        if recorder is not None:
            recorder.close()
        return {"messages": n1 - n0, "cpu": c1 - c0, "seconds": seconds}

    return asyncio.run(main())


def bench_live(seconds: float, rounds: int, tmp: Path) -> dict[str, float]:
    proc, url = start(
        [sys.executable, "-m", "tui.sim", "--port", "0", "--rate", str(RATE), "--token", TOKEN],
        "L1 ",
    )
    runs: dict[str, list[dict[str, float]]] = {"off": [], "on": []}
    try:
        for r in range(rounds):
            for mode in ("off", "on") if r % 2 == 0 else ("on", "off"):
                record = str(tmp / f"live-{r}") if mode == "on" else ""
                cmd = [
                    sys.executable,
                    __file__,
                    "--child-live",
                    url,
                    "--record-dir",
                    record,
                    "--live-seconds",
                    str(seconds),
                ]
                out = subprocess.run(cmd, capture_output=True, text=True, check=True, cwd=ROOT)
                runs[mode].append(json.loads(out.stdout.strip().splitlines()[-1]))
    finally:
        proc.terminate()
        proc.wait(10)
    res: dict[str, float] = {}
    for mode, xs in runs.items():
        res[f"{mode}_msgs_per_s"] = sorted(x["messages"] / x["seconds"] for x in xs)[len(xs) // 2]
        res[f"{mode}_us_per_msg"] = sorted(1e6 * x["cpu"] / x["messages"] for x in xs)[len(xs) // 2]
    res["extra_core_pct_at_20k"] = (res["on_us_per_msg"] - res["off_us_per_msg"]) * RATE / 1e4
    return res


def bench_serve(files: list[Path], keys: list[str], total: int, rounds: int) -> dict[str, float]:
    """(e): medians of ``rounds`` runs (and the best), each a fresh replay server."""
    cmd = [
        sys.executable,
        "-m",
        "tui",
        "replay",
        *map(str, files),
        "--port",
        "0",
        "--speed",
        "0",
        "--token",
        TOKEN,
    ]
    runs: dict[str, list[dict[str, float]]] = {"raw": [], "bare": [], "client": []}
    for _ in range(rounds):
        for name, consumer in (("raw", count_raw), ("bare", count_bare), ("client", count_client)):
            proc, url = start(cmd, "L2 ")
            try:
                before = proc_cpu(proc.pid)
                out = consumer(url, keys, total)
                out["server_cpu"] = proc_cpu(proc.pid) - before
                runs[name].append(out)
            finally:
                proc.terminate()
                proc.wait(10)
    res: dict[str, float] = {}
    for name, xs in runs.items():
        rates = sorted(x["messages"] / max(x["seconds"], 1e-9) for x in xs)
        res[f"{name}_msgs_per_s"] = rates[len(rates) // 2]
        res[f"{name}_best_msgs_per_s"] = rates[-1]
        res[f"{name}_messages"] = xs[-1]["messages"]
        res[f"{name}_server_us_per_msg"] = sorted(
            1e6 * x["server_cpu"] / max(x["messages"], 1) for x in xs
        )[len(xs) // 2]
        if "cpu" in xs[0]:
            res[f"{name}_us_per_msg"] = sorted(1e6 * x["cpu"] / max(x["messages"], 1) for x in xs)[
                len(xs) // 2
            ]
    return res


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=15.0, help="seconds of recording at 20k/s")
    ap.add_argument("--live", action="store_true", help="also (c): the client in situ")
    ap.add_argument("--live-seconds", type=float, default=8.0)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--child-live", help=argparse.SUPPRESS)
    ap.add_argument("--record-dir", default="", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child_live:
        print(json.dumps(live_child(args.child_live, args.record_dir, args.live_seconds)))
        return 0

    from tui.replay.synthetic import synthetic_recording
    from tui.sim.instruments import INSTRUMENTS

    ref = machine_reference()
    keys = [i.key for i in INSTRUMENTS]
    with tempfile.TemporaryDirectory(prefix="bench-record-") as name:
        tmp = Path(name)
        files = synthetic_recording(tmp / "synthetic", seed=1, rate=RATE, seconds=args.seconds)
        frames = frames_of(files)
        results = {
            "machine_loop_10M_s": ref,
            "frames": len(frames),
            "mean_frame_bytes": sum(map(len, frames)) / len(frames),
        }
        results["write"] = bench_write(frames, tmp)
        results["read"] = bench_read(files)
        results["serve"] = bench_serve(files, keys, len(frames), args.rounds)
        if args.live:
            results["live"] = bench_live(args.live_seconds, args.rounds, tmp)
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    w, r, s = results["write"], results["read"], results["serve"]
    print(f"machine reference: a plain 10M-iteration loop takes {ref:.2f} s")
    print(
        f"{len(frames):,} frames of the simulator's market (mean {results['mean_frame_bytes']:.0f} B)"
    )
    print(
        f"(b) write: recorder {w['record_us']:.2f} µs a frame = {w['record_core_pct_at_20k']:.1f}% "
        f"of a core at 20,000 msgs/s; the client's decode + merge {w['client_us']:.2f} µs "
        f"(recording adds {100 * w['record_us'] / w['client_us']:.0f}% to it); "
        f"zstd ratio {w['ratio']:.1f}x, {w['mb_per_hour_at_20k']:.0f} MB an hour at 20k/s"
    )
    print(
        f"(d) read, per CPU second: {r['records_per_s']:,.0f} records/s; + decode "
        f"{r['read_decode_per_s']:,.0f} msgs/s; + merge {r['read_decode_merge_per_s']:,.0f} msgs/s"
    )
    print(
        f"(e) serve --speed 0, one connection ({args.rounds} rounds, median / best): raw socket "
        f"reader {s['raw_msgs_per_s']:,.0f} / {s['raw_best_msgs_per_s']:,.0f} msgs/s, the server "
        f"at {s['raw_server_us_per_msg']:.1f} µs CPU a message; websockets reader "
        f"{s['bare_msgs_per_s']:,.0f} / {s['bare_best_msgs_per_s']:,.0f} msgs/s "
        f"({s['bare_messages']:,.0f} frames); marketdesk client {s['client_msgs_per_s']:,.0f} / "
        f"{s['client_best_msgs_per_s']:,.0f} msgs/s at {s['client_us_per_msg']:.1f} µs CPU a message; "
        f"the replay server's CPU {s['bare_server_us_per_msg']:.1f} µs a message"
    )
    if "live" in results:
        v = results["live"]
        print(
            f"(c) in situ at 20k asked: client {v['off_us_per_msg']:.1f} µs a message "
            f"({v['off_msgs_per_s']:,.0f}/s) without recording, {v['on_us_per_msg']:.1f} µs "
            f"({v['on_msgs_per_s']:,.0f}/s) with: +{v['extra_core_pct_at_20k']:.1f}% of a core at 20k/s"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
