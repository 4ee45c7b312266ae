"""The surveillance rule engine's cost: the bare merge against merge + rules, in one run.

Both sides get the same messages, decoded once beforehand (``FrameReader.read``, what the
client's hot path hands ``Market.apply``), and run in alternating rounds in one process so
the machine's swings hit both alike; medians are reported.

- bare merge: ``Market.apply`` per message and ``Market.flush`` per frame;
- merge + rules: the same, plus ``RuleEngine.evaluate(keys, now)`` per frame with every
  rule at its default threshold (it views every scrip that changed, reads the L2 tape
  and checks staleness), as the desk calls it;
- beside them, merge + ``Market.view`` of every changed scrip and nothing else: how much
  of the engine's cost is the conversion to exact values its reads pay (a desk pays it
  anyway for the scrips it draws; after the engine's view, theirs is free).

A frame is every 1,000 messages, as in ``bench/ingest.py``: a 20,000 msgs/s feed drawn at
20 frames a second, with the clocks moving 50 ms a frame.  Two streams:

- ``ingest``: ``bench/ingest.py``'s generator (imported, not copied): 1M touchline and
  depth deltas over 500 scrips after one ``dk`` each.  No L2: the tape rules idle.
- ``sim``: the simulator's own stream (``SimMarket``, seeded) over 500 stocks (the
  built-in ones and copies of them under new keys): ``df`` deltas with the L2 order
  events (``lo``/``lt``) that cause them, after a ``dk`` and an ``lk`` each: every rule
  has work.

``--false-positives MINUTES`` instead runs the simulator at the desk's pace (2,000 events
a second, 20 frames a second) with no scenario, for each ``--seeds``, and counts the
alerts the default thresholds raise: the figures in docs/SURVEILLANCE.md.

Run: ``.venv/bin/python bench/rules.py [--messages 1000000] [--scrips 500] [--rounds 3]``
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import json
import statistics
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tui.market.rules import RuleEngine
from tui.market.store import Market
from tui.wire.frames import DecodeErrors, FrameReader

FT0 = 1750652516  # the generator's first feed time
FRAME_SECONDS = 0.05  # 1,000 messages a frame of a 20,000 msgs/s feed


def _ingest() -> Any:
    """``bench/ingest.py`` as a module (this script's folder is first on ``sys.path``)."""
    import ingest

    return ingest


def decode(frames: list[bytes]) -> list[dict[str, Any]]:
    reader = FrameReader(DecodeErrors())
    out = []
    for frame in frames:
        msg = reader.read(frame)
        assert msg is not None
        out.append(msg)
    return out


def ingest_stream(n: int, scrips: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    snaps, deltas = _ingest().generate(n, scrips)
    return decode(snaps), decode(deltas)


def sim_stream(
    n: int, scrips: int, seed: int = 7
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The simulator's messages over ``scrips`` stocks: snapshots, then ``n`` messages."""
    from tui.sim.instruments import INSTRUMENTS
    from tui.sim.market import SimMarket

    stocks = [i for i in INSTRUMENTS if not i.index]
    pool = [
        dataclasses.replace(base, token=f"{base.token}{k}" if k else base.token)
        for k in range(-(-scrips // len(stocks)))
        for base in stocks
    ][:scrips]
    sim = SimMarket(seed, pool, start=float(FT0))
    snaps = sim.snapshot_messages(orders=True)
    out: list[dict[str, Any]] = []
    now, dt = float(FT0), 1.0 / 20_000
    while len(out) < n:
        st = sim.step(now)
        out += st.l2
        if st.df is not None:
            out.append(st.df)
        now += dt
    return snaps, out[:n]


def run(
    snaps: list[dict[str, Any]], deltas: list[dict[str, Any]], mode: str, frame: int = 1000
) -> tuple[float, int]:
    """Seconds to merge everything, flushing every ``frame`` messages; alerts raised.

    ``mode``: ``bare`` (merge and flush), ``view`` (also ``Market.view`` of every scrip a
    frame changed: the conversion the engine's reads pay, alone) or ``rules`` (also
    ``RuleEngine.evaluate``, which does those views itself).
    """
    market = Market(DecodeErrors())
    clock = [0.0]
    engine = RuleEngine(market, wall=lambda: FT0 + clock[0]) if mode == "rules" else None
    apply, flush, view = market.apply, market.flush, market.view
    seconds_per_frame = FRAME_SECONDS * frame / 1000
    alerts = 0
    gc.collect()
    start = time.perf_counter()
    for msg in snaps:
        apply(msg)
    countdown = frame
    now = 0.0
    for msg in deltas:
        apply(msg)
        countdown -= 1
        if not countdown:
            countdown = frame
            now += seconds_per_frame
            clock[0] = now
            keys = flush(now)
            if engine is not None:
                alerts += len(engine.evaluate(keys, now))
            elif mode == "view":
                for key in keys:
                    view(key)
    now += seconds_per_frame
    clock[0] = now
    keys = flush(now)
    if engine is not None:
        alerts += len(engine.evaluate(keys, now))
        assert engine.errors == 0, engine.last_error
    elif mode == "view":
        for key in keys:
            view(key)
    return time.perf_counter() - start, alerts


def compare(
    name: str,
    snaps: list[dict[str, Any]],
    deltas: list[dict[str, Any]],
    rounds: int,
    frame: int = 1000,
) -> dict[str, Any]:
    times: dict[str, list[float]] = {"bare": [], "view": [], "rules": []}
    alerts = 0
    total = len(snaps) + len(deltas)
    for _ in range(rounds):
        for mode, seconds in times.items():
            took, found = run(snaps, deltas, mode, frame)
            seconds.append(took)
            alerts = found if mode == "rules" else alerts
    b, v, r = (statistics.median(times[m]) for m in ("bare", "view", "rules"))
    return {
        "stream": name,
        "messages": total,
        "rounds": rounds,
        "frame": frame,
        "bare_msgs_per_s": round(total / b),
        "view_msgs_per_s": round(total / v),
        "rules_msgs_per_s": round(total / r),
        "rules_us_per_msg": round((r - b) / total * 1e6, 3),
        "of_which_view_us_per_msg": round((v - b) / total * 1e6, 3),
        "rules_cost_ratio": round(r / b, 2),
        "alerts": alerts,
    }


def false_positives(minutes: float, seeds: list[int]) -> dict[str, Any]:
    """Alerts the default thresholds raise on the simulator with no scenario."""
    from tui.sim.market import SimMarket

    counts: Counter[str] = Counter()
    runs = []
    for seed in seeds:
        now = float(FT0)
        sim = SimMarket(seed, start=now)
        market = Market()
        for msg in sim.snapshot_messages(orders=True):
            market.apply(msg)
        clock = [now]
        engine = RuleEngine(market, wall=lambda clock=clock: clock[0])
        step, apply, dt = sim.step, market.apply, 1.0 / 2000
        found: Counter[str] = Counter()
        for _ in range(round(minutes * 60 * 20)):
            for _ in range(100):
                st = step(now)
                for msg in st.l2:
                    apply(msg)
                if st.df is not None:
                    apply(st.df)
                now += dt
            clock[0] = now
            found.update(a.rule for a in engine.evaluate(market.flush(now), now))
        counts += found
        runs.append({"seed": seed, "alerts": sum(found.values()), "by_rule": dict(found)})
    return {
        "minutes_each": minutes,
        "scrips": 54,
        "events_per_s": 2000,
        "runs": runs,
        "total": sum(counts.values()),
        "by_rule": dict(counts),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--messages", type=int, default=1_000_000)
    ap.add_argument("--scrips", type=int, default=500)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--stream", choices=("ingest", "sim", "both"), default="both")
    ap.add_argument(
        "--frame",
        type=int,
        default=1000,
        help="messages between two flushes (default 1,000: 20 Hz at 20k msgs/s)",
    )
    ap.add_argument(
        "--false-positives",
        type=float,
        default=None,
        metavar="MINUTES",
        help="count the alerts of a quiet simulated session instead",
    )
    ap.add_argument("--seeds", default="1,2,3", help="simulator seeds for --false-positives")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    args = ap.parse_args(argv)
    if args.false_positives is not None:
        seeds = [int(s) for s in args.seeds.split(",")]
        result = false_positives(args.false_positives, seeds)
        if args.json:
            print(json.dumps(result))
            return 0
        print(
            f"quiet simulator, {result['scrips']} scrips at {result['events_per_s']:,} "
            f"events/s, {args.false_positives:g} simulated minutes per seed"
        )
        for r in result["runs"]:
            print(f"  seed {r['seed']}: {r['alerts']} alerts {r['by_rule']}")
        print(f"  total: {result['total']} {result['by_rule']}")
        return 0
    results = []
    streams = ("ingest", "sim") if args.stream == "both" else (args.stream,)
    for name in streams:
        make = ingest_stream if name == "ingest" else sim_stream
        snaps, deltas = make(args.messages, args.scrips)
        results.append(compare(name, snaps, deltas, args.rounds, args.frame))
        del snaps, deltas
    if args.json:
        print(json.dumps(results))
        return 0
    for r in results:
        print(
            f"{r['stream']}: {r['messages']:,} messages on {args.scrips} scrips, "
            f"a frame every {r['frame']:,}, {r['rounds']} alternating rounds"
        )
        print(f"  bare merge (apply + flush)          {r['bare_msgs_per_s']:>12,} msgs/s")
        print(f"  merge + view of each changed scrip  {r['view_msgs_per_s']:>12,} msgs/s")
        print(f"  merge + RuleEngine.evaluate         {r['rules_msgs_per_s']:>12,} msgs/s")
        print(
            f"  the engine costs {r['rules_us_per_msg']:.2f} µs a message "
            f"({r['of_which_view_us_per_msg']:.2f} µs of it converting what it reads), "
            f"{r['rules_cost_ratio']:.2f}x the bare merge's time; {r['alerts']} alerts"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
