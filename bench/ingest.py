"""Decode + merge throughput: marketdesk against what the reference Noren client does.

Both sides get the same pre-encoded frames (realistic ``tf``/``df`` deltas over 500
scrips, after one ``dk`` snapshot each) and are run in alternating rounds in one process,
so the machine's swings hit both alike.  The reported figure is the ratio of medians.

- baseline: what the reference Noren client does, run as its own code: NorenRestApiPy's
  ``NorenApi.__on_data_callback`` (``json.loads``, a dict per message, its dispatch on
  ``t``) handing each message to a subscriber that merges it into a per-scrip dict with
  ``dict.update``.  The bare floor of that (``json.loads`` + ``dict.update``, no dispatch,
  no callback) is reported beside it.
- marketdesk: ``FrameReader.feed`` -> ``Market.apply`` (the client's read loop), plus, once
  per simulated frame (``--fps``, default 20: the desk's refresh rate) at the stated feed
  rate, ``Market.flush`` and the conversion to exact integer
  prices of what a desk draws (``--visible`` scrips that changed), so the deferred work is
  paid inside the measurement.
- marketdesk, everything converted: the same, but every changed scrip is converted each
  frame (``Market.sweep``), the worst case, reported beside it.
- marketdesk with the desk's own sweep: the drawn scrips each frame and every scrip once a
  second (``--sweep-hz``, what the desk's health timer does), reported beside it.
- the client's read path (issue 10): the same as the first, but the frames handed over as
  the feed client's connection now does, the frames of one socket read at once
  (``FrameReader.feed_many`` -> ``Market.apply.frames``), ``--batch`` frames a read (32 by
  default: see ``BATCH``), and one frame a read (a quiet feed) so nobody is fooled.

What exactness costs (issue 8): a bad value never replaces a good one, whenever reads
happen.  The hot path keeps each delta's frame beside the conflated text (a ``list.append``,
the frame is already allocated), and a scrip nobody reads is folded (converted) every
``FOLD_AT`` messages so that memory stays bounded; both are inside these figures.  A machine
reference (a plain 10-million-iteration Python loop) is printed beside them.

Run: ``.venv/bin/python bench/ingest.py [--messages 1000000] [--scrips 500] [--rounds 3]
[--batch 32]``
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from machine import machine_reference

from tui.market.store import Market
from tui.wire.frames import DecodeErrors, FrameReader

#: frames per socket read assumed for the client's read path (``--batch``): a modest
#: figure against what was measured (the simulator at 20,000 msgs/s on loopback brought a
#: median of ~500 frames a read on a busy 2-core machine, since it sends a tick's messages
#: at once; a feed over the internet spreads more evenly, a TCP segment holding ~10)
BATCH = 32
#: the clock the runs are timed with (``--clock``)
_clock = time.process_time


def generate(n: int, scrips: int, seed: int = 7) -> tuple[list[bytes], list[bytes]]:
    """Snapshots (one ``dk`` per scrip) and ``n`` deltas: 60% price/volume, 40% depth."""
    rng = random.Random(seed)
    enc = json.JSONEncoder(separators=(",", ":")).encode
    keys = [("NSE" if i % 2 else "PSX", str(1000 + i)) for i in range(scrips)]
    last = {k: rng.randrange(1_000, 500_000) for k in keys}  # in paise/paisa: pp=2
    vol = dict.fromkeys(keys, 0)

    def px(units: int) -> str:
        return f"{units // 100}.{units % 100:02d}"

    snaps = []
    for (e, tk), p in last.items():
        msg = {
            "t": "dk",
            "e": e,
            "tk": tk,
            "ts": f"SCRIP{tk}",
            "pp": "2",
            "ti": "0.05",
            "ls": "1",
            "lp": px(p),
            "pc": "0.00",
            "v": "0",
            "o": px(p),
            "h": px(p),
            "l": px(p),
            "c": px(p),
            "lc": px(p * 9 // 10),
            "uc": px(p * 11 // 10),
            "ft": "1750652516",
        }
        for i in range(1, 6):
            msg |= {
                f"bp{i}": px(p - 5 * i),
                f"bq{i}": str(100 * i),
                f"bo{i}": str(i),
                f"sp{i}": px(p + 5 * i),
                f"sq{i}": str(100 * i),
                f"so{i}": str(i),
            }
        snaps.append(enc(msg).encode())
    deltas = []
    for j in range(n):
        e, tk = key = keys[rng.randrange(scrips)]
        ft = str(1750652516 + j // 20_000)
        if rng.random() < 0.6:
            p = last[key] = max(5, last[key] + 5 * rng.randint(-2, 2))
            q = rng.randrange(1, 500)
            vol[key] += q
            msg = {
                "t": "df",
                "e": e,
                "tk": tk,
                "lp": px(p),
                "pc": f"{rng.uniform(-3, 3):.2f}",
                "v": str(vol[key]),
                "ltq": str(q),
                "ltt": "10:15:01",
                "ap": px(p - 3),
                "ft": ft,
            }
        else:
            p = last[key]
            msg = {"t": "df", "e": e, "tk": tk, "ft": ft}
            for i in rng.sample(range(1, 6), rng.randint(1, 2)):
                side = rng.choice("bs")
                msg[f"{side}p{i}"] = px(p + (5 * i if side == "s" else -5 * i))
                msg[f"{side}q{i}"] = str(rng.randrange(1, 5000))
                msg[f"{side}o{i}"] = str(rng.randrange(1, 30))
            msg["tbq"] = str(rng.randrange(10**5, 10**6))
        deltas.append(enc(msg).encode())
    return snaps, deltas


def run_noren(snaps: list[bytes], deltas: list[bytes]) -> float:
    """NorenRestApiPy's own per-message code (``NorenApi.__on_data_callback``: ``json.loads``
    and its dispatch on ``t``) calling a subscriber that merges like :func:`run_baseline`."""
    from NorenRestApiPy.NorenApi import NorenApi

    state: dict[str, dict[str, object]] = {}

    def subscriber(msg: dict[str, object]) -> None:
        key = f"{msg['e']}|{msg['tk']}"
        scrip = state.get(key)
        if scrip is None:
            state[key] = msg
        else:
            scrip.update(msg)

    api = NorenApi(host="http://127.0.0.1:9/", websocket="ws://127.0.0.1:9/")
    api._NorenApi__subscribe_callback = subscriber  # what start_websocket() would set
    on_data = api._NorenApi__on_data_callback  # the websocket-client on_data hook
    start = _clock()
    for frame in snaps:
        on_data(None, frame, None, None)
    for frame in deltas:
        on_data(None, frame, None, None)
    return _clock() - start


def run_baseline(snaps: list[bytes], deltas: list[bytes]) -> float:
    state: dict[str, dict[str, object]] = {}
    loads = json.loads
    start = _clock()
    for frame in snaps:
        msg = loads(frame)
        state[msg["e"] + "|" + msg["tk"]] = msg
    for frame in deltas:
        msg = loads(frame)
        t = msg["t"]
        if t == "df" or t == "tf":
            key = msg["e"] + "|" + msg["tk"]
            scrip = state.get(key)
            if scrip is None:
                state[key] = msg
            else:
                scrip.update(msg)
    return _clock() - start


def run_marketdesk(
    snaps: list[bytes],
    deltas: list[bytes],
    flush_every: int,
    visible: int | None,
    sweep_every: int = 0,
    batch: int = 0,
) -> float:
    """``visible=None``: convert every changed scrip each frame; else the first N keys, and
    every scrip once every ``sweep_every`` frames (0: never), as the desk's health timer does.
    ``batch``: 0, frame by frame (``FrameReader.feed``); N, the client's read path
    (``FrameReader.feed_many`` on the frames of one socket read, N at a time; the batches
    are cut before the clock starts, as the connection hands them over already listed)."""
    errors = DecodeErrors()
    market = Market(errors)
    reader = FrameReader(errors, market.apply)
    feed = reader.feed
    frames = 0
    if batch:
        return _run_batches(reader, market, snaps, deltas, flush_every, visible, batch)

    def frame() -> None:
        nonlocal frames
        frames += 1
        changed = market.flush(0.0)
        if visible is None or (sweep_every and frames % sweep_every == 0):
            market.sweep()
        else:
            for key in on_screen & changed:
                market.view(key)

    start = _clock()
    for raw in snaps:
        feed(raw)
    on_screen = set(list(market.scrips)[: visible or 0])
    frame()
    countdown = flush_every
    for raw in deltas:
        feed(raw)  # control messages would come back; a market stream has none
        countdown -= 1
        if not countdown:
            frame()
            countdown = flush_every
    frame()
    elapsed = _clock() - start
    assert errors.total == 0, errors.as_dict()
    return elapsed


def _run_batches(
    reader: FrameReader,
    market: Market,
    snaps: list[bytes],
    deltas: list[bytes],
    flush_every: int,
    visible: int | None,
    batch: int,
) -> float:
    """:func:`run_marketdesk` on the client's read path: a desk frame once at least
    ``flush_every`` messages came since the last one (at a batch's end, as in the desk)."""
    batches = [deltas[i : i + batch] for i in range(0, len(deltas), batch)]
    feed_many = reader.feed_many
    on_screen: set[str] = set()

    def frame() -> None:
        changed = market.flush(0.0)
        if visible is None:
            market.sweep()
        else:
            for key in on_screen & changed:
                market.view(key)

    start = _clock()
    feed_many(snaps)
    on_screen = set(list(market.scrips)[: visible or 0])
    frame()
    countdown = flush_every
    for frames in batches:
        feed_many(frames)
        countdown -= len(frames)
        if countdown <= 0:
            frame()
            countdown += flush_every
    frame()
    elapsed = _clock() - start
    assert market.errors.total == 0, market.errors.as_dict()
    return elapsed


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--messages", type=int, default=1_000_000)
    ap.add_argument("--scrips", type=int, default=500)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument(
        "--feed-rate",
        type=float,
        default=20_000.0,
        help="messages/s of the simulated feed (default 20,000)",
    )
    ap.add_argument(
        "--fps",
        type=float,
        default=20.0,
        help="frames/s the desk draws (default 20, the desk's --refresh-hz)",
    )
    ap.add_argument("--visible", type=int, default=40, help="scrips a desk shows at once")
    ap.add_argument(
        "--batch",
        type=int,
        default=BATCH,
        help=f"frames per socket read on the client's read path (default {BATCH})",
    )
    ap.add_argument(
        "--sweep-hz",
        type=float,
        default=1.0,
        help="the desk's sweep of every scrip, per second (default 1)",
    )
    ap.add_argument(
        "--clock",
        choices=("cpu", "wall"),
        default="cpu",
        help="cpu (default): this process's CPU time, what the work costs on a "
        "shared machine; wall: elapsed time",
    )
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    args = ap.parse_args(argv)
    global _clock
    _clock = time.process_time if args.clock == "cpu" else time.perf_counter
    snaps, deltas = generate(args.messages, args.scrips)
    size = sum(map(len, deltas)) / len(deltas)
    flush_every = max(1, int(args.feed_rate / args.fps))
    sweep_every = max(1, round(args.fps / args.sweep_hz)) if args.sweep_hz > 0 else 0
    total = len(snaps) + len(deltas)
    reference = machine_reference()
    base, bare, ours, worst, swept, batched, single = [], [], [], [], [], [], []
    for _ in range(args.rounds):
        batched.append(
            total / run_marketdesk(snaps, deltas, flush_every, args.visible, batch=args.batch)
        )
        single.append(total / run_marketdesk(snaps, deltas, flush_every, args.visible, batch=1))
        base.append(total / run_noren(snaps, deltas))
        bare.append(total / run_baseline(snaps, deltas))
        ours.append(total / run_marketdesk(snaps, deltas, flush_every, args.visible))
        worst.append(total / run_marketdesk(snaps, deltas, flush_every, None))
        if sweep_every:
            swept.append(
                total / run_marketdesk(snaps, deltas, flush_every, args.visible, sweep_every)
            )
    b, o, w = statistics.median(base), statistics.median(ours), statistics.median(worst)
    sw = statistics.median(swept) if swept else None
    f = statistics.median(bare)
    bt, b1 = statistics.median(batched), statistics.median(single)
    result = {
        "messages": total,
        "scrips": args.scrips,
        "avg_bytes": round(size, 1),
        "rounds": args.rounds,
        "fps": args.fps,
        "flush_every": flush_every,
        "visible": args.visible,
        "baseline_msgs_per_s": round(b),
        "bare_json_loads_msgs_per_s": round(f),
        "marketdesk_msgs_per_s": round(o),
        "marketdesk_convert_all_msgs_per_s": round(w),
        "ratio": round(o / b, 2),
        "ratio_convert_all": round(w / b, 2),
        "marketdesk_with_sweep_msgs_per_s": None if sw is None else round(sw),
        "ratio_with_sweep": None if sw is None else round(sw / b, 2),
        "batch": args.batch,
        "marketdesk_batch_msgs_per_s": round(bt),
        "ratio_batch": round(bt / b, 2),
        "marketdesk_batch_of_1_msgs_per_s": round(b1),
        "ratio_batch_of_1": round(b1 / b, 2),
        "ratio_vs_bare_json_loads": round(o / f, 2),
        "goal_ratio": 2.0,
        "machine_reference_s": round(reference, 2),
        "clock": args.clock,
    }
    if args.json:
        print(json.dumps(result))
    else:
        print(
            f"{total:,} messages on {args.scrips} scrips, {size:.0f} bytes avg, "
            f"{args.rounds} alternating rounds, flush every {flush_every} messages, "
            f"{args.clock} time"
        )
        print(f"  baseline: NorenRestApiPy on_data + merge {b:>12,.0f} msgs/s")
        print(f"  floor: bare json.loads + dict.update    {f:>12,.0f} msgs/s   {f / b:.2f}x")
        print(
            f"  marketdesk, {args.visible} scrips drawn             {o:>12,.0f} msgs/s"
            f"   {o / b:.2f}x  (goal: at least 2x)"
        )
        print(f"  marketdesk, every scrip converted        {w:>12,.0f} msgs/s   {w / b:.2f}x")
        if sw is not None:
            print(
                f"  marketdesk, drawn + all swept {args.sweep_hz:g}/s     {sw:>12,.0f} msgs/s"
                f"   {sw / b:.2f}x"
            )
        print(f"  the client's read path (FrameReader.feed_many, {args.visible} drawn):")
        print(
            f"    {args.batch} frames a socket read             {bt:>12,.0f} msgs/s   {bt / b:.2f}x"
        )
        print(f"    1 frame a socket read                {b1:>12,.0f} msgs/s   {b1 / b:.2f}x")
        print(f"  marketdesk against the bare floor: {o / f:.2f}x")
        print(f"  machine reference: a plain 10-million-iteration loop took {reference:.2f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
