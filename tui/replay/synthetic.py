"""A recording made from the simulator's market without a socket, on a made-up clock:
realistic frames at any rate, for tests, benches (``bench/record.py``) and demos.

It holds what a live recording holds: the connection's events, the requests, the
snapshots the server answers with, then every delta and L2 event at its time.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

import msgspec

from tui.record import format as fmt
from tui.record.writer import NS, Recorder
from tui.sim.market import SimMarket

_encode = msgspec.json.Encoder().encode


def synthetic_recording(
    directory: Path | str,
    *,
    seed: int = 1,
    rate: float = 2000.0,
    seconds: float = 10.0,
    keys: Sequence[str] | None = None,
    orders: bool = True,
    start_ns: int | None = None,
    max_bytes: int = 1 << 40,
) -> list[Path]:
    """Record ``seconds`` of the seeded simulated market at ``rate`` events a second into
    ``directory``; the files written."""
    market = SimMarket(seed)
    keys = list(keys) if keys is not None else market.keys
    stocks = [k for k in keys if market.scrips[k].book is not None] if orders else []
    clock = [start_ns if start_ns is not None else time.time_ns()]
    subs = {"d": list(keys), **({"l": stocks} if stocks else {})}
    header = fmt.Header(program="marketdesk synthetic", endpoint="ws://127.0.0.1/2.0/market/feed/l2",
                        started_ns=0, level="L2" if orders else "L1", auth="header",
                        subscriptions=subs)  # fmt: skip
    rec = Recorder(directory, header, clock_ns=lambda: clock[0], hourly=False, max_bytes=max_bytes)
    rec.start()
    rec.opened(header.endpoint, header.level)
    rec.received(b'{"t":"ck","s":"OK","uid":"SIM1"}')
    rec.acknowledged()
    rec.sent(b'{"t":"d","k":"' + "#".join(keys).encode() + b'"}')
    if stocks:
        rec.sent(b'{"t":"l","k":"' + "#".join(stocks).encode() + b'"}')
    for msg in market.snapshot_messages(keys, orders=bool(stocks)):
        rec.received(_encode(msg))
    wanted, books = set(keys), set(stocks)
    step_ns = int(NS / rate)
    received = rec.received
    for _ in range(int(rate * seconds)):
        clock[0] += step_ns
        st = market.step(clock[0] / NS)
        if st.key not in wanted:
            continue
        if st.key in books:
            for msg in st.l2:
                received(_encode(msg))
        if st.df is not None:
            received(_encode(st.df))
    rec.closed(1000, "end of the synthetic session")
    rec.close()
    return rec.files
