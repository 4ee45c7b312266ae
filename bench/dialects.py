"""What reading each dialect costs the client: frames in, ``Market.apply`` out.

The simulator's messages (snapshots, then depth changes) are written once in every dialect
by its server half (``tui/wire/dialects``), then each dialect's client half reads them
into a fresh ``Market``, several rounds in alternation; ``psx`` (the seed, the hot path
unchanged by the dialect layer) is the baseline of the same run.  Prints µs a message,
messages a second, the ratio to psx, and the machine reference (a plain 10-million
iteration Python loop) beside them.

Run: ``.venv/bin/python bench/dialects.py [--messages 200000] [--rounds 5]``
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from machine import machine_reference

from tui.market.store import Market
from tui.sim.market import SimMarket
from tui.wire import dialects
from tui.wire import protocol as p
from tui.wire.frames import DecodeErrors


def messages(n: int) -> tuple[list[str], list[dict[str, str]]]:
    sim = SimMarket(11, None, start=1_750_651_200.0)
    keys = [i.key for i in sim.instruments]
    msgs = [sim.depth_snapshot(k) for k in keys]
    msgs += [st.df for st in sim.run(n, 1_750_651_200.0, 0.0005) if st.df is not None]
    return keys, msgs


def one_round(name: str, keys: list[str], frames: list[bytes]) -> float:
    errors = DecodeErrors()
    market = Market(errors)
    codec = dialects.get(name).client(errors, market.apply)
    codec.encode([p.DepthSubscribe(k=p.join_keys(keys))])
    feed = codec.feed
    start = time.perf_counter()
    for frame in frames:
        feed(frame)
    elapsed = time.perf_counter() - start
    assert not errors.total, errors.as_dict()
    return elapsed


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--messages", type=int, default=200_000, help="market steps simulated")
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    keys, msgs = messages(args.messages)
    frames: dict[str, list[bytes]] = {}
    for name in dialects.DIALECTS:
        server = dialects.get(name).server()
        frames[name] = [f for m in msgs if (f := server.market(m)) is not None]
    times: dict[str, list[float]] = {name: [] for name in dialects.DIALECTS}
    for _ in range(args.rounds):
        for name in dialects.DIALECTS:
            times[name].append(one_round(name, keys, frames[name]))
    ref = machine_reference()
    n = len(msgs)
    base = statistics.median(times["psx"])
    print(
        f"{n} messages ({len(keys)} scrips), median of {args.rounds} rounds; "
        f"machine reference: 10M-iteration loop {ref:.2f} s"
    )
    for name in dialects.DIALECTS:
        t = statistics.median(times[name])
        size = sum(map(len, frames[name])) / len(frames[name])
        print(
            f"  {name:12} {t / n * 1e6:6.2f} µs/msg  {n / t:10,.0f} msgs/s  "
            f"x{t / base:4.2f} of psx  {size:5.0f} bytes/frame"
        )
    print(
        "  (firstock-v2 frames carry whole sides of the book: with {} meaning an empty "
        "level a change cannot leave a level out)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
