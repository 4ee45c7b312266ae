"""The desk's cost per frame, offline: what a frame costs to take from the market and paint.

No simulator process, no socket, no timers: the simulator's market (seeded) steps in this
process and its messages are generated before anything is timed, ``--rate / --hz`` a frame
over ``--scrips`` instruments (the instrument list of ``bench/desk.py``).  Each frame: the
frame's messages go into the ``Market``, then ``DeskApp.flush`` (the desk's frame), then the
screen's update (``Screen._on_timer_update``: the dirty widgets' lines and Textual's
compositor), then the update is encoded to escape sequences as the real driver would.
The health tick runs every ``--hz / 2`` frames, as on the desk.  The ladder and the tape
show the first stock (the desk bench's first scrip is an index: no book, no tape).  The clocks are injected
(a frame is ``1 / --hz`` seconds), so every run draws the same frames.

Times are the thread's CPU time (``time.thread_time``), not wall time: a neighbour taking
the CPU does not count, so runs on a shared machine compare.  Per pane, the time in its
``render_lines`` (Textual's line cache and styling around our ``render_line``) and the
lines it drew; the compositor's own is the rest of each paint.

``--code DIR`` imports ``tui`` from another checkout (e.g. ``/work/main``) under the same
harness; ``--compare DIR`` runs this checkout and DIR alternately in fresh processes
(``--rounds``) and prints the ratios per round, and checks that both drew the same screens
(a digest of every segment's text and style at several frames).

Run: ``.venv/bin/python bench/paint.py [--frames 400] [--compare /work/main]``
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import hashlib
import io
import json
import pstats
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from deskkit import hook_pane, instruments
from machine import machine_reference, pct

ROOT = Path(__file__).resolve().parent.parent
SIZE = (160, 48)
PANES = ("watchlist", "ladder", "tape", "health_panel")
START = 1_750_651_200.0  # the simulator's default start: 09:00 in Karachi


def frames_of(args: argparse.Namespace) -> tuple[list[str], list[Any], list[list[Any]]]:
    """The keys, the snapshots and each frame's messages (generated before timing)."""
    from tui.sim.market import SimMarket

    insts = instruments(args.scrips)
    sim = SimMarket(args.seed, insts, start=START)
    orders = args.level == "L2"
    snapshots = sim.snapshot_messages(depth=True, orders=orders)
    per_frame = max(int(args.rate / args.hz), 1)
    frames: list[list[Any]] = []
    now = START
    for _ in range(args.warmup + args.frames):
        now += 1.0 / args.hz
        batch: list[Any] = []
        for i in range(per_frame):
            st = sim.step(now + i / args.rate)
            if orders:
                batch += st.l2
            if st.df is not None:
                batch.append(st.df)
        frames.append(batch)
    return [inst.key for inst in insts], snapshots, frames


def digest(app: Any) -> str:
    """A digest of the whole screen: every segment's text and style."""
    h = hashlib.sha256()
    for strip in app.screen._compositor.render_strips():
        for seg in strip:
            h.update(seg.text.encode())
            h.update(repr(seg.style).encode())
        h.update(b"\n")
    return h.hexdigest()[:16]


async def run(args: argparse.Namespace) -> dict[str, Any]:
    from textual._compositor import CompositorUpdate, LayoutUpdate

    from tui.app import make_app
    from tui.market.store import Market

    keys, snapshots, frames = frames_of(args)
    now = [START]
    market = Market()
    for msg in snapshots:
        market.apply(msg)
    from tui.feed.health import LIVE, Health

    health = Health(
        state=LIVE,
        endpoint="ws://127.0.0.1:1/L1",
        level=args.level,
        connected_since=START,
        subscriptions=len(keys),
        connections_used=1,
    )
    stock = next(inst.key for inst in instruments(args.scrips) if not inst.index)
    app = make_app(
        market,
        None,
        watch=keys,
        refresh_hz=0,
        health=lambda: health,
        selected=stock,
        clock=lambda: now[0],
        wall=lambda: now[0],
    )
    clock = time.thread_time
    painting = {name: [0.0, 0] for name in PANES}
    paint_s: list[float] = []
    encode_s: list[float] = []
    pane_s: dict[str, list[float]] = {name: [] for name in PANES}
    pane_lines: dict[str, list[int]] = {name: [] for name in PANES}
    flush_s: list[float] = []
    measuring = [False]
    counts = {"layouts": 0, "full updates": 0}
    digests: list[str] = []
    every_health = max(int(args.hz / 2), 1)
    async with app.run_test(headless=True, size=SIZE) as pilot:
        for name in PANES:
            hook_pane(getattr(app, name), painting[name], clock)
        screen = app.screen
        refresh, display = screen._compositor_refresh, app._display

        def timed_refresh() -> None:
            for figures in painting.values():
                figures[0] = figures[1] = 0
            t0 = clock()
            refresh()
            if measuring[0]:
                paint_s.append(clock() - t0)
                for name, (spent, lines) in painting.items():
                    pane_s[name].append(spent)
                    pane_lines[name].append(int(lines))

        def encoded_display(on: Any, renderable: Any) -> None:
            if measuring[0] and isinstance(renderable, LayoutUpdate):
                counts["full updates"] += 1
            if measuring[0] and isinstance(renderable, CompositorUpdate):
                t0 = clock()
                renderable.render_segments(app.console)
                encode_s.append(clock() - t0)
            display(on, renderable)

        relayout = screen._refresh_layout

        def counted_layout(*args: Any, **kw: Any) -> None:
            if measuring[0]:
                counts["layouts"] += 1
            relayout(*args, **kw)

        screen._compositor_refresh = timed_refresh
        screen._refresh_layout = counted_layout
        app._display = encoded_display
        await pilot.pause()
        app.flush()
        app.update_health()
        await pilot.pause()
        if not args.no_gc_freeze:
            app.settle_gc()
        profiler = cProfile.Profile() if args.profile else None
        for n, batch in enumerate(frames):
            now[0] += 1.0 / args.hz
            measuring[0] = n >= args.warmup
            apply = market.apply
            for msg in batch:
                apply(msg)
            health.messages += len(batch)  # what the client's figures would say
            health.bytes += 180 * len(batch)
            health.msg_rate = len(batch) * args.hz + n % 7  # moves, as a measured rate does
            health.lag = 0.004 + (n % 5) / 1000
            if profiler is not None and measuring[0]:
                profiler.enable()
            t0 = clock()
            app.flush()
            if n % every_health == 0:
                app.update_health()
            if measuring[0]:
                flush_s.append(clock() - t0)
            await pilot._wait_for_screen()
            screen._on_timer_update()
            if profiler is not None:
                profiler.disable()
            if n % args.digest_every == args.digest_every - 1:
                measuring[0] = False
                digests.append(digest(app))
        measuring[0] = False
        built = {
            "watchlist rows": sum(app.watchlist.rows_built.values()),
            "tape rows": app.tape.rows_built,
            "ladder builds": app.ladder.builds,
        }
    if profiler is not None:
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats(args.sort).print_stats(args.profile)
        print(out.getvalue())
    ms = 1000.0
    own = [total - sum(pane_s[name][i] for name in PANES) for i, total in enumerate(paint_s)]
    frame_s = [f + p for f, p in zip(flush_s, paint_s, strict=False)]
    return {
        "code": str(CODE),
        "frames": len(paint_s),
        "msgs_per_frame": round(statistics.fmean(len(b) for b in frames), 1),
        "frame_ms_p50": round(pct(frame_s, 50) * ms, 3),
        "frame_ms_p99": round(pct(frame_s, 99) * ms, 3),
        "flush_ms_p50": round(pct(flush_s, 50) * ms, 3),
        "flush_ms_p99": round(pct(flush_s, 99) * ms, 3),
        "paint_ms_p50": round(pct(paint_s, 50) * ms, 3),
        "paint_ms_p99": round(pct(paint_s, 99) * ms, 3),
        "paint_ms_mean": round(statistics.fmean(paint_s) * ms, 3),
        "encode_ms_p50": round(pct(encode_s, 50) * ms, 3),
        "compositor_ms_p50": round(pct(own, 50) * ms, 3),
        "compositor_ms_p99": round(pct(own, 99) * ms, 3),
        "panes": {
            name: {
                "ms_p50": round(pct(pane_s[name], 50) * ms, 3),
                "ms_p99": round(pct(pane_s[name], 99) * ms, 3),
                "lines_mean": round(statistics.fmean(pane_lines[name] or [0]), 1),
            }
            for name in PANES
        },
        "built": built,
        "counts": counts,
        "digests": digests,
    }


def report(r: dict[str, Any]) -> None:
    print(
        f"{r['code']}: {r['frames']} frames at {SIZE[0]}x{SIZE[1]}, "
        f"{r['msgs_per_frame']:g} msgs a frame (thread CPU time)"
    )
    print(
        f"  frame    p50 {r['frame_ms_p50']:7.3f} ms  p99 {r['frame_ms_p99']:7.3f} ms"
        "  (flush + paint)"
    )
    print(f"  flush    p50 {r['flush_ms_p50']:7.3f} ms  p99 {r['flush_ms_p99']:7.3f} ms")
    print(
        f"  paint    p50 {r['paint_ms_p50']:7.3f} ms  p99 {r['paint_ms_p99']:7.3f} ms"
        f"  (encode p50 {r['encode_ms_p50']:.3f} ms)"
    )
    for name, pane in r["panes"].items():
        print(
            f"    {name:<14} p50 {pane['ms_p50']:7.3f} ms  p99 {pane['ms_p99']:7.3f} ms"
            f"  {pane['lines_mean']:5.1f} lines a paint"
        )
    print(
        f"    {'(compositor)':<14} p50 {r['compositor_ms_p50']:7.3f} ms  p99 "
        f"{r['compositor_ms_p99']:7.3f} ms"
    )
    print("  computed " + ", ".join(f"{k} {v:,}" for k, v in r["built"].items()))
    print("  screen   " + ", ".join(f"{k} {v:,}" for k, v in r["counts"].items()))
    print(f"  screens  {' '.join(r['digests'])}")


def compare(args: argparse.Namespace, argv: list[str]) -> int:
    """This checkout and ``--compare`` alternately, each round in fresh processes."""
    other = str(Path(args.compare).resolve())
    passed = [a for a in argv if not a.startswith("--compare") and a != args.compare]
    if "--rounds" in passed:
        i = passed.index("--rounds")
        del passed[i : i + 2]
    ours, theirs, refs = [], [], [machine_reference()]
    for n in range(args.rounds):
        pair = []
        for code in (str(ROOT), other) if n % 2 == 0 else (other, str(ROOT)):
            out = subprocess.run(
                [sys.executable, __file__, *passed, "--code", code, "--json"],
                capture_output=True,
                text=True,
                check=True,
                cwd=ROOT,
            ).stdout
            pair.append(json.loads(out.strip().splitlines()[-1]))
        mine, base = sorted(pair, key=lambda r: r["code"] != str(ROOT))
        ours.append(mine)
        theirs.append(base)
        same = "same screens" if mine["digests"] == base["digests"] else "SCREENS DIFFER"
        print(
            f"round {n + 1}: paint p50 {mine['paint_ms_p50']:.3f} ms vs {base['paint_ms_p50']:.3f}"
            f" ms ({mine['paint_ms_p50'] / base['paint_ms_p50']:.2f}x), frame p50 "
            f"{mine['frame_ms_p50']:.3f} vs {base['frame_ms_p50']:.3f} ms ({mine['frame_ms_p50'] / base['frame_ms_p50']:.2f}x); {same}"
        )
    refs.append(machine_reference())
    print()
    for rs in (theirs, ours):
        best = min(rs, key=lambda r: r["paint_ms_p50"])
        report(best)
    print()
    for what in ("frame_ms_p50", "frame_ms_p99", "paint_ms_p50", "paint_ms_p99", "flush_ms_p50"):
        ratios = [m[what] / b[what] for m, b in zip(ours, theirs, strict=True) if b[what]]
        print(
            f"  {what:<13} this checkout / {other}: median {statistics.median(ratios):.2f}x "
            f"(rounds {', '.join(f'{x:.2f}' for x in ratios)})"
        )
    for name in PANES:
        ratios = [
            m["panes"][name]["ms_p50"] / b["panes"][name]["ms_p50"]
            for m, b in zip(ours, theirs, strict=True)
            if b["panes"][name]["ms_p50"]
        ]
        if ratios:
            print(f"  paint {name:<13} p50 median {statistics.median(ratios):.2f}x")
    print(
        f"  machine: a plain 10M-iteration Python loop took {refs[0]:.2f} s before, "
        f"{refs[1]:.2f} s after (issue 10's slow machine: 1.66 s)"
    )
    differ = any(m["digests"] != b["digests"] for m, b in zip(ours, theirs, strict=True))
    if differ:
        print("  SCREENS DIFFER between the two checkouts")
    return 1 if differ else 0


CODE = ROOT


def main(argv: list[str] | None = None) -> int:
    global CODE
    argv = sys.argv[1:] if argv is None else argv
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=400, help="frames measured (default 400)")
    ap.add_argument("--warmup", type=int, default=40, help="frames before (default 40)")
    ap.add_argument("--rate", type=float, default=20_000.0, help="msgs/s (default 20,000)")
    ap.add_argument("--hz", type=float, default=20.0, help="frames a second (default 20)")
    ap.add_argument("--scrips", type=int, default=200, help="instruments (default 200)")
    ap.add_argument(
        "--level",
        choices=("L1", "L2"),
        default="L1",
        help="L1: depth only; L2: depth and order events (the tape fills)",
    )
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument(
        "--digest-every",
        type=int,
        default=50,
        help="a digest of the screen every N frames (not timed)",
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
        help="print the top N functions of the frames (cProfile; slows them)",
    )
    ap.add_argument("--sort", default="tottime", help="--profile's order (default tottime)")
    ap.add_argument("--code", default=str(ROOT), help="the checkout whose tui is measured")
    ap.add_argument("--compare", metavar="DIR", help="alternate with the checkout DIR")
    ap.add_argument("--rounds", type=int, default=4, help="rounds of --compare (default 4)")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    args = ap.parse_args(argv)
    if args.compare:
        return compare(args, argv)
    CODE = Path(args.code).resolve()
    sys.path.insert(0, str(CODE))
    ref = machine_reference()
    result = asyncio.run(run(args))
    result["machine_reference_s"] = round(ref, 3)
    if args.json:
        print(json.dumps(result))
    else:
        report(result)
        print(f"  machine: a plain 10M-iteration Python loop took {ref:.2f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
