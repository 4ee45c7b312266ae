"""The whole desk under load: frames drawn, feed lag, key-to-repaint latency and CPU.

The simulator runs in a process of its own (a core of its own on a 2-core machine) and
streams the depth of ``--scrips`` instruments (the built-in list, plus synthetic copies of
its stocks to reach the count) at ``--rate`` messages a second.  This process runs what a
user runs: the real ``FeedClient`` (from ``open_source``), a ``Market`` and the desk from
``make_app(...)`` under ``app.run_test(headless=True, size=(160, 48))`` with its normal frame timer
(``--hz``, default 20), for ``--seconds`` after a warm-up.

What is measured, and how:

- **frames/s**: screen updates the compositor actually produced (``App._display`` called
  with an update outside a batch) that drew news a flush had taken, not timer ticks and
  not the repaints of key presses (all updates are reported beside it).  Each update is also encoded to the
  terminal's escape sequences (``render_segments``, what the real driver does before it
  writes) unless ``--no-encode``.  ``DeskApp.flush`` calls that ran are reported beside it.
- **feed lag**: the age of the newest message a frame takes.  The simulator's ``ft`` has
  one-second resolution, too coarse for a 250 ms goal, so the simulator process stamps
  every ``df`` it frames with its wall clock in an extra field ``bt`` (ignored by the desk,
  ~20 bytes); at each ``flush`` the newest ``bt`` among the scrips that changed is compared
  with this process's wall clock.  It includes the simulator's send queue, the socket,
  the client's backlog and the wait for the frame.  Bounded means the last quarter's
  median is within 50 ms of the first quarter's.
- **key press to repaint**: ``j``/``k`` pressed through the pilot every 150-350 ms
  (seeded), timed from just before the press to the first screen update that touches the
  watchlist after its cursor moved.
- **CPU**: this process's user+system time over the window divided by the window's wall
  time (1.0 = one core); the simulator's own, from /proc, beside it.  The time the desk
  waited for a CPU while runnable (/proc/self/schedstat) says whether other work on a
  shared machine took it: above 5% the run is flagged as unreliable.

- **paint**: each compositor refresh (``Screen._compositor_refresh``: the widgets' lines
  and Textual's compositing of them), and within it, per pane, the time in the pane's
  ``render_lines`` (Textual's line cache and styling around our ``render_line``) and how
  many lines it drew; the rest is the compositor's own.  Rows rebuilt a second (the
  watchlist's cells, the tape's rows, the ladder's builds) beside it.

Also reported: the garbage collector's pauses over the window (full collections of a heap
full of cached strips are the longest stalls), and ``--no-gc-freeze`` measures without ``DeskApp.settle_gc()`` (``gc.freeze()``)
once the desk is up, an experiment for what the app could do.

The baseline, measured first in the same run against the same simulator: the same client
and market with no UI, frames taken by a plain 20 Hz timer (``--baseline-seconds``, 5 by
default).  The desk's CPU is also given as a ratio to it: what the UI costs.

Goals (the desk issue): >= 20 frames/s, lag p99 < 250 ms, key p99 < 100 ms.  PASS/FAIL is
printed per goal; ``--strict`` exits 1 on any FAIL.  ``--profile N`` prints the top N
functions by own time over the window (cProfile: slows everything, read it for shares).

The machine reference (a plain 10-million-iteration Python loop, timed before and after the
runs) is printed beside the figures: compare runs by it (issue 10's slow machine: 1.66 s).

``--code DIR`` runs another checkout's desk (``tui``) under this script and its simulator,
for a before/after in the same minutes; ``bench/paint.py`` measures the frames' own cost
offline (CPU time, per pane) where a shared machine makes this one noisy.

Run: ``.venv/bin/python bench/desk.py [--seconds 20] [--rate 20000] [--scrips 200]``
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import dataclasses
import gc
import io
import json
import os
import pstats
import random
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from deskkit import hook_pane, instruments
from machine import machine_reference, pct

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TOKEN = "bench-token"  # a loopback simulator's token, not a secret
GOALS = {"fps": 20.0, "lag_p99_ms": 250.0, "key_p99_ms": 100.0}
SIZE = (160, 48)
STAMP = "bt"
#: watchlist rows a 160x48 desk shows (the feed-only baseline converts as many a frame)
VISIBLE_ROWS = 40
#: the desk's panes whose paint is timed apart (attributes of the app)
PANES = ("watchlist", "ladder", "tape", "health_panel")


# -- the simulator process ---------------------------------------------------------------


def serve_sim(rate: float, scrips: int, seed: int) -> None:
    """The simulator, with every ``df`` stamped with the wall time it was framed at."""
    from tui.sim.server import SimConfig, SimServer

    wall = time.time

    async def main() -> None:
        config = SimConfig(
            seed=seed, rate=rate, tokens=(TOKEN,), port=0, instruments=instruments(scrips)
        )
        sim = SimServer(config)
        frame = sim.frame_market

        def stamped(message: dict[str, Any]) -> bytes | None:
            if message.get("t") == "df":
                message = {**message, STAMP: f"{wall():.4f}"}  # a copy: the sim keeps its own
            return frame(message)

        sim.frame_market = stamped  # looked up by the backend on every batch
        async with sim:
            print("ENDPOINTS", sim.endpoint("L1"), sim.endpoint("L2"), flush=True)
            # serve until the parent closes our stdin (or dies)
            await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)

    asyncio.run(main())


def start_sim(args: argparse.Namespace) -> tuple[subprocess.Popen[str], str]:
    cmd = [
        sys.executable,
        __file__,
        "--sim-child",
        "--rate",
        str(args.rate),
        "--scrips",
        str(args.scrips),
        "--seed",
        str(args.seed),
    ]
    proc = subprocess.Popen(
        cmd,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env=dict(os.environ, PYTHONUNBUFFERED="1"),
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line.startswith("ENDPOINTS"):
        proc.kill()
        raise RuntimeError(f"the simulator did not start: {line!r}")
    l1, l2 = line.split()[1:3]
    return proc, l2 if args.level == "L2" else l1


def proc_cpu(pid: int) -> float | None:
    """User + system seconds of process ``pid`` (Linux /proc), None elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_queue_wait() -> float | None:
    """Seconds this process's main thread has waited for a CPU while runnable (Linux
    schedstat): how much another process took from the desk on a shared machine."""
    try:
        return int(Path("/proc/self/schedstat").read_text().split()[1]) / 1e9
    except (OSError, IndexError, ValueError):
        return None


def cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


# -- the desk ----------------------------------------------------------------------------


@dataclasses.dataclass
class Probe:
    """What the hooks record while ``measuring``."""

    measuring: bool = False
    closing: bool = False  # the window is over: frames no longer matter
    flushes: int = 0
    flush_s: list[float] = dataclasses.field(default_factory=list)
    idle_flushes: int = 0  # frames with no new message
    lag: list[tuple[float, float]] = dataclasses.field(default_factory=list)  # (t, s)
    frames: int = 0
    data_frames: int = 0  # frames that drew a flush's news (not only a key press's repaint)
    news: bool = False  # a flush took messages since the last frame
    paint_s: list[float] = dataclasses.field(default_factory=list)
    #: per pane, the seconds in its render_lines each paint (0 when not drawn)
    pane_s: dict[str, list[float]] = dataclasses.field(default_factory=dict)
    #: per pane, the lines it drew (render_line calls) each paint
    pane_lines: dict[str, list[int]] = dataclasses.field(default_factory=dict)
    #: the running paint's figures, per pane: [seconds, lines]
    painting: dict[str, list[float]] = dataclasses.field(default_factory=dict)
    encode_s: list[float] = dataclasses.field(default_factory=list)
    key_target: int | None = None  # cursor row the pending key press moves to
    key_drawn: asyncio.Event | None = None
    key_drawn_at: float = 0.0
    gc_pauses: dict[int, list[float]] = dataclasses.field(default_factory=dict)  # gen -> s


def watch_gc(probe: Probe) -> Callable[[str, dict[str, int]], None]:
    """A ``gc.callbacks`` entry recording each collection's pause while measuring."""
    started = [0.0]

    def callback(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            started[0] = time.perf_counter()
        elif probe.measuring:
            pause = time.perf_counter() - started[0]
            probe.gc_pauses.setdefault(info["generation"], []).append(pause)

    return callback


def newest_stamp(market: Any) -> str:
    """The newest ``bt`` among the scrips with messages since the last frame ("" if none).
    One format with as many digits throughout: the latest text is the latest time."""
    scrips, newest = market.scrips, ""
    for key in market.dirty:
        scrip = scrips.get(key)
        if scrip is not None:
            newest = max(newest, scrip.delta.get(STAMP) or scrip.raw.get(STAMP) or "")
    return newest


def hook_flush(app: Any, market: Any, probe: Probe) -> None:
    """Wrap ``app.flush`` (before mount: the frame timer binds it then) to time frames and
    read the newest ``bt`` among the scrips the frame takes."""
    flush, wall, clock = app.flush, time.time, time.perf_counter

    def timed_flush() -> Any:
        if probe.closing:  # the app may be tearing its screens down
            return set()
        if not probe.measuring:
            return flush()
        newest = newest_stamp(market)
        t0 = clock()
        if newest:
            probe.lag.append((t0, wall() - float(newest)))
            probe.news = True
        else:
            probe.idle_flushes += 1
        result = flush()
        probe.flush_s.append(clock() - t0)
        probe.flushes += 1
        return result

    app.flush = timed_flush


def hook_screen(app: Any, probe: Probe, encode: bool) -> None:
    """Count and time the screen updates the compositor produces (after mount)."""
    from textual._compositor import CompositorUpdate

    display, clock = app._display, time.perf_counter
    screen = app.screen
    refresh = screen._compositor_refresh
    painting = probe.painting
    for name in PANES:
        painting[name] = [0.0, 0]
        hook_pane(getattr(app, name), painting[name])

    def timed_refresh() -> None:
        for figures in painting.values():
            figures[0] = figures[1] = 0
        t0 = clock()
        refresh()
        if probe.measuring:
            probe.paint_s.append(clock() - t0)
            for name, (spent, lines) in painting.items():
                probe.pane_s.setdefault(name, []).append(spent)
                probe.pane_lines.setdefault(name, []).append(int(lines))

    def counted_display(on: Any, renderable: Any) -> None:
        if renderable is not None and not app._batch_count and on is app.screen:
            if probe.measuring:
                probe.frames += 1
                if probe.news:
                    probe.data_frames += 1
                    probe.news = False
                if encode and isinstance(renderable, CompositorUpdate):
                    t0 = clock()
                    renderable.render_segments(app.console)
                    probe.encode_s.append(clock() - t0)
            if probe.key_target is not None and probe.key_drawn is not None:
                wl = app.watchlist
                if wl.cursor == probe.key_target and _touches(renderable, wl.region):
                    probe.key_drawn_at = clock()
                    probe.key_target = None
                    probe.key_drawn.set()
        display(on, renderable)

    screen._compositor_refresh = timed_refresh
    app._display = counted_display


def _touches(update: Any, region: Any) -> bool:
    """True if a compositor update redraws some of ``region`` (screen coordinates)."""
    spans = getattr(update, "spans", None)
    if spans is None:  # a full layout update
        return True
    top, bottom, left, right = region.y, region.bottom, region.x, region.right
    return any(top <= y < bottom and x1 < right and x2 > left for y, x1, x2 in spans)


async def press_keys(
    pilot: Any, app: Any, probe: Probe, until: float, seed: int
) -> tuple[list[float], list[asyncio.Task[None]]]:
    """Press j/k at random intervals until ``until``: each press-to-repaint in seconds, and
    the pilot's press tasks (still waiting for idle) to await once the window is over."""
    rng = random.Random(seed)
    wl = app.watchlist
    latencies: list[float] = []
    pressing: list[asyncio.Task[None]] = []
    down = True
    while time.perf_counter() + 0.4 < until:
        await asyncio.sleep(rng.uniform(0.15, 0.35))
        rows = len(wl.keys)
        if rows < 2:
            continue
        if wl.cursor >= rows - 1:
            down = False
        elif wl.cursor <= 0:
            down = True
        probe.key_target = wl.cursor + (1 if down else -1)
        probe.key_drawn = asyncio.Event()
        t0 = time.perf_counter()
        # the pilot sends the key at once, then waits for the process to look idle (up to
        # 1 s twice under this load): that wait is the pilot's, so it runs in the background
        pressing.append(asyncio.create_task(pilot.press("j" if down else "k")))
        try:
            await asyncio.wait_for(probe.key_drawn.wait(), timeout=2.0)
        except TimeoutError:
            probe.key_target = None
            latencies.append(float("inf"))
            continue
        latencies.append(probe.key_drawn_at - t0)
    return latencies, pressing


async def run_feed_only(url: str, args: argparse.Namespace) -> dict[str, float]:
    """The baseline, in the same run: the same client and market with no UI, a plain
    asyncio timer taking the frames (``Market.flush`` and the conversion of the scrips a
    160x48 desk shows).  What the desk adds is the difference."""
    from tui.feed.config import FeedConfig
    from tui.feed.source import open_source
    from tui.market.store import Market

    keys = [inst.key for inst in instruments(args.scrips)]
    market = Market()
    client = open_source(FeedConfig(url=url, token=TOKEN), market)
    client.subscribe(keys, depth=True, orders=args.level == "L2")
    task = asyncio.create_task(client.run())
    visible = keys[:VISIBLE_ROWS]
    deadline = time.monotonic() + 20
    while len(market.scrips) < len(keys) and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    await asyncio.sleep(args.warmup)
    lags: list[float] = []
    messages0, cpu0, t0 = client.health.messages, cpu(), time.perf_counter()
    while time.perf_counter() - t0 < args.baseline_seconds:
        await asyncio.sleep(1.0 / args.hz)
        newest = newest_stamp(market)
        if newest:
            lags.append(time.time() - float(newest))
        changed = market.flush(time.monotonic())
        for key in visible:
            if key in changed:
                market.view(key)
    wall = time.perf_counter() - t0
    messages1, cpu1 = client.health.messages, cpu()
    await client.stop()
    await asyncio.wait([task], timeout=5)
    return {
        "msgs_per_s": (messages1 - messages0) / wall,
        "cpu": (cpu1 - cpu0) / wall,
        "lag_p50": pct(lags, 50),
        "lag_p99": pct(lags, 99),
    }


async def run_desk(url: str, sim_pid: int, args: argparse.Namespace) -> dict[str, Any]:
    from tui.app import make_app
    from tui.feed.config import FeedConfig
    from tui.feed.source import open_source
    from tui.market.store import Market

    keys = [inst.key for inst in instruments(args.scrips)]
    market = Market()
    client = open_source(FeedConfig(url=url, token=TOKEN), market)
    app = make_app(market, client, watch=keys, refresh_hz=args.hz)
    probe = Probe()
    hook_flush(app, market, probe)
    profiler = cProfile.Profile() if args.profile else None
    async with app.run_test(headless=True, size=SIZE) as pilot:
        hook_screen(app, probe, encode=not args.no_encode)
        deadline = time.monotonic() + 20
        while len(market.scrips) < len(keys) and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        if len(market.scrips) < len(keys):
            raise RuntimeError(f"only {len(market.scrips)} of {len(keys)} scrips arrived")
        if not args.no_gc_freeze:  # what run_desk does a few seconds after start
            app.settle_gc()
        await asyncio.sleep(args.warmup)
        gc.callbacks.append(watch_gc(probe))
        messages0, cpu0, sim0 = client.health.messages, cpu(), proc_cpu(sim_pid)
        waited0 = run_queue_wait()
        built0 = rows_built(app)
        t0 = time.perf_counter()
        probe.measuring = True
        if profiler is not None:
            profiler.enable()
        keys_s, pressing = await press_keys(pilot, app, probe, t0 + args.seconds, args.seed)
        await asyncio.sleep(max(0.0, t0 + args.seconds - time.perf_counter()))
        probe.measuring, probe.closing = False, True
        if profiler is not None:
            profiler.disable()
        wall = time.perf_counter() - t0
        messages1, cpu1, sim1 = client.health.messages, cpu(), proc_cpu(sim_pid)
        waited1 = run_queue_wait()
        built1 = rows_built(app)
        await asyncio.gather(*pressing)
    profile = _top(profiler, args.profile) if profiler is not None else ""
    sim_cpu = None if sim0 is None or sim1 is None else (sim1 - sim0) / wall
    waited = None if waited0 is None or waited1 is None else (waited1 - waited0) / wall
    result = summarise(
        probe,
        keys_s,
        wall,
        messages1 - messages0,
        (cpu1 - cpu0) / wall,
        sim_cpu,
        len(app.watchlist.keys),
        profile,
    )
    result["run_queue_wait"] = None if waited is None else round(waited, 3)
    result["built_per_s"] = {k: round((built1[k] - built0[k]) / wall, 1) for k in built1}
    return result


def rows_built(app: Any) -> dict[str, int]:
    """What the panes have computed so far: watchlist rows, tape rows, ladder builds."""
    return {
        "watchlist rows": sum(app.watchlist.rows_built.values()),
        "tape rows": app.tape.rows_built,
        "ladder builds": app.ladder.builds,
    }


def _top(profiler: cProfile.Profile, n: int) -> str:
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(n)
    return out.getvalue()


# -- figures -----------------------------------------------------------------------------


def summarise(
    probe: Probe,
    keys_s: list[float],
    wall: float,
    messages: int,
    cpu_share: float,
    sim_cpu: float | None,
    rows: int,
    profile: str,
) -> dict[str, Any]:
    ms = 1000.0
    lags = [lag for _, lag in probe.lag]
    quarter = max(len(lags) // 4, 1)
    first_q, last_q = (
        statistics.median(lags[:quarter] or [0]),
        statistics.median(lags[-quarter:] or [0]),
    )
    keys_ms = [k * ms for k in keys_s]
    result: dict[str, Any] = {
        "seconds": round(wall, 2),
        "watchlist_rows": rows,
        "msgs_per_s": round(messages / wall),
        "fps": round(probe.data_frames / wall, 1),
        "all_frames_per_s": round(probe.frames / wall, 1),
        "flushes_per_s": round(probe.flushes / wall, 1),
        "idle_flushes": probe.idle_flushes,
        "flush_ms_p50": round(pct(probe.flush_s, 50) * ms, 2),
        "flush_ms_p99": round(pct(probe.flush_s, 99) * ms, 2),
        "paint_ms_p50": round(pct(probe.paint_s, 50) * ms, 2),
        "paint_ms_p99": round(pct(probe.paint_s, 99) * ms, 2),
        "encode_ms_p50": round(pct(probe.encode_s, 50) * ms, 2) if probe.encode_s else None,
        "panes": {
            name: {
                "ms_p50": round(pct(spent, 50) * ms, 2),
                "ms_p99": round(pct(spent, 99) * ms, 2),
                "lines_mean": round(statistics.fmean(probe.pane_lines[name]), 1),
            }
            for name, spent in probe.pane_s.items()
        },
        "compositor_ms_p50": round(pct(_own(probe), 50) * ms, 2),
        "compositor_ms_p99": round(pct(_own(probe), 99) * ms, 2),
        "lag_ms_p50": round(pct(lags, 50) * ms, 1),
        "lag_ms_p99": round(pct(lags, 99) * ms, 1),
        "lag_ms_max": round(max(lags, default=float("nan")) * ms, 1),
        "lag_ms_first_quarter_p50": round(first_q * ms, 1),
        "lag_ms_last_quarter_p50": round(last_q * ms, 1),
        "lag_bounded": last_q <= first_q + 0.050,
        "key_presses": len(keys_ms),
        "key_ms_p50": round(pct(keys_ms, 50), 1),
        "key_ms_p99": round(pct(keys_ms, 99), 1),
        "key_ms_max": round(max(keys_ms, default=float("nan")), 1),
        "gc_gen2_pauses": len(probe.gc_pauses.get(2, [])),
        "gc_gen2_ms_max": round(max(probe.gc_pauses.get(2, [0.0])) * ms, 1),
        "gc_ms_per_s": round(sum(map(sum, probe.gc_pauses.values())) * ms / wall, 1),
        "cpu": round(cpu_share, 2),
        "sim_cpu": None if sim_cpu is None else round(sim_cpu, 2),
    }
    result["pass"] = {
        "fps": result["fps"] >= GOALS["fps"],
        "lag_p99": result["lag_ms_p99"] < GOALS["lag_p99_ms"] and result["lag_bounded"],
        "key_p99": result["key_ms_p99"] < GOALS["key_p99_ms"],
    }
    if profile:
        result["profile"] = profile
    return result


def _own(probe: Probe) -> list[float]:
    """Each paint's time outside the timed panes' render_lines: the compositor's own."""
    panes = list(probe.pane_s.values())
    return [total - sum(p[i] for p in panes) for i, total in enumerate(probe.paint_s)]


def report(r: dict[str, Any], args: argparse.Namespace) -> None:
    ok = r["pass"]

    def verdict(name: str) -> str:
        return "PASS" if ok[name] else "FAIL"

    import tui

    print(
        f"{Path(tui.__file__).parent.parent}: "
        f"desk at {SIZE[0]}x{SIZE[1]}, {args.hz:g} Hz frame timer, {r['watchlist_rows']} "
        f"watchlist rows, {args.level}; simulator asked for {args.rate:,.0f} msgs/s over "
        f"{args.scrips} scrips; {r['seconds']:g} s measured"
    )
    print(f"  received        {r['msgs_per_s']:>9,} msgs/s")
    print(
        f"  frames drawn    {r['fps']:>9.1f} /s   {verdict('fps')} (goal >= {GOALS['fps']:g})"
        f"   [with key repaints {r['all_frames_per_s']:.1f}/s; flush calls "
        f"{r['flushes_per_s']:.1f}/s, {r['idle_flushes']} without news]"
    )
    print(
        f"  frame cost      flush p50 {r['flush_ms_p50']:.2f} ms p99 {r['flush_ms_p99']:.2f} ms;"
        f" paint p50 {r['paint_ms_p50']:.2f} ms p99 {r['paint_ms_p99']:.2f} ms"
        + (f"; encode p50 {r['encode_ms_p50']:.2f} ms" if r["encode_ms_p50"] is not None else "")
    )
    for name, pane in r["panes"].items():
        print(
            f"    paint {name:<13} p50 {pane['ms_p50']:6.2f} ms  p99 {pane['ms_p99']:6.2f} ms"
            f"  {pane['lines_mean']:5.1f} lines a paint"
        )
    print(
        f"    paint {'(compositor)':<13} p50 {r['compositor_ms_p50']:6.2f} ms  p99 "
        f"{r['compositor_ms_p99']:6.2f} ms  (the rest of each paint)"
    )
    built = ", ".join(f"{name} {n:,.0f}/s" for name, n in r["built_per_s"].items())
    print(f"  computed        {built}")
    print(
        f"  feed lag        p50 {r['lag_ms_p50']:.0f} ms  p99 {r['lag_ms_p99']:.0f} ms  "
        f"max {r['lag_ms_max']:.0f} ms   {verdict('lag_p99')} (goal p99 < "
        f"{GOALS['lag_p99_ms']:g} ms, bounded)"
    )
    print(
        f"                  first quarter p50 {r['lag_ms_first_quarter_p50']:.0f} ms, last "
        f"quarter p50 {r['lag_ms_last_quarter_p50']:.0f} ms: "
        + ("bounded" if r["lag_bounded"] else "GROWING")
    )
    print(
        f"  key to repaint  p50 {r['key_ms_p50']:.0f} ms  p99 {r['key_ms_p99']:.0f} ms  "
        f"max {r['key_ms_max']:.0f} ms over {r['key_presses']} presses   {verdict('key_p99')}"
        f" (goal p99 < {GOALS['key_p99_ms']:g} ms)"
    )
    sim = f"; simulator {r['sim_cpu']:.0%} of a core" if r["sim_cpu"] is not None else ""
    print(
        f"  garbage         {r['gc_ms_per_s']:.1f} ms/s in collections; {r['gc_gen2_pauses']} "
        f"full (gen 2) pauses, the longest {r['gc_gen2_ms_max']:.0f} ms"
    )
    print(f"  CPU             desk {r['cpu']:.0%} of a core{sim}")
    base = r.get("feed_only")
    if base is not None:
        print(
            f"  baseline        the same feed with no UI (this run): {base['msgs_per_s']:,} "
            f"msgs/s, {base['cpu']:.0%} of a core, lag p50 {base['lag_ms_p50']:.0f} ms "
            f"p99 {base['lag_ms_p99']:.0f} ms; the desk uses {r['cpu_vs_feed_only']:.2f}x "
            f"its CPU"
        )
    waited = r.get("run_queue_wait")
    if waited is not None:
        busy = "   MACHINE BUSY: figures unreliable" if waited > 0.05 else ""
        print(f"  waited for CPU  {waited:.1%} of the window (runnable, not running){busy}")
    ref = r["machine_reference_s"]
    print(
        f"  machine         a plain 10M-iteration Python loop took {ref[0]:.2f} s before, "
        f"{ref[1]:.2f} s after (issue 10's slow machine: 1.66 s)"
    )
    if "profile" in r:
        print(r["profile"])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=20.0, help="measured window (default 20)")
    ap.add_argument("--rate", type=float, default=20_000.0, help="msgs/s asked (default 20,000)")
    ap.add_argument("--scrips", type=int, default=200, help="instruments streamed (default 200)")
    ap.add_argument("--hz", type=float, default=20.0, help="the desk's frame timer (default 20)")
    ap.add_argument(
        "--level",
        choices=("L1", "L2"),
        default="L1",
        help="endpoint: L1 (depth) or L2 (depth and order events: more messages)",
    )
    ap.add_argument("--warmup", type=float, default=2.0, help="seconds after every scrip arrived")
    ap.add_argument(
        "--baseline-seconds",
        type=float,
        default=5.0,
        help="seconds of the feed-only baseline first (0: none)",
    )
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument(
        "--no-encode",
        action="store_true",
        help="do not encode frames to escape sequences (headless skips it)",
    )
    ap.add_argument(
        "--no-gc-freeze",
        action="store_true",
        help="skip DeskApp.settle_gc() (gc.freeze once the desk is up, as run_desk does)",
    )
    ap.add_argument(
        "--profile",
        type=int,
        default=0,
        metavar="N",
        help="print the top N functions by own time (cProfile; slows the desk)",
    )
    ap.add_argument("--strict", action="store_true", help="exit 1 if a goal is missed")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    ap.add_argument(
        "--code",
        metavar="DIR",
        help="measure the desk of another checkout (e.g. /work/main) with this "
        "script and simulator: a before/after in the same minutes",
    )
    ap.add_argument("--sim-child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.code and not args.sim_child:
        sys.path.insert(0, str(Path(args.code).resolve()))
    if args.sim_child:
        serve_sim(args.rate, args.scrips, args.seed)
        return 0

    reference_before = machine_reference()
    proc, url = start_sim(args)
    try:
        baseline = asyncio.run(run_feed_only(url, args)) if args.baseline_seconds > 0 else None
        result = asyncio.run(run_desk(url, proc.pid, args))
    finally:
        assert proc.stdin is not None
        proc.stdin.close()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
    result["machine_reference_s"] = [round(reference_before, 3), round(machine_reference(), 3)]
    if baseline is not None:
        result["feed_only"] = {
            "msgs_per_s": round(baseline["msgs_per_s"]),
            "cpu": round(baseline["cpu"], 2),
            "lag_ms_p50": round(baseline["lag_p50"] * 1000, 1),
            "lag_ms_p99": round(baseline["lag_p99"] * 1000, 1),
        }
        result["cpu_vs_feed_only"] = round(result["cpu"] / max(baseline["cpu"], 1e-9), 2)
    if args.json:
        print(json.dumps(result))
    else:
        report(result, args)
    return 1 if args.strict and not all(result["pass"].values()) else 0


if __name__ == "__main__":
    raise SystemExit(main())
