"""A small, fixed market for the desk's tests: real scrips, hand-written wire messages.

Built through ``Market.apply`` exactly as the feed would (``dk`` snapshots, ``df`` deltas,
an L2 ``lk`` book with ``lo``/``lt`` events for RELIANCE), then flushed at a fixed time
and swept, so every screen drawn from it is the same.  Until ``tui.sim.market.SimMarket``
lands this is the desk's only data without a socket.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tui.market.store import Market
from tui.wire.frames import DecodeErrors, FrameReader

NOW = 1000.0
FT = 1747038600  # 2025-05-12 08:30:00 UTC
RELIANCE = "NSE|2885"
NIFTY = "NSE|26000"
OGDC = "PSX|OGDC"


def _depth(bids: list[tuple[str, int, int]], asks: list[tuple[str, int, int]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for side, levels in (("b", bids), ("s", asks)):
        for i, (price, qty, orders) in enumerate(levels, 1):
            out[f"{side}p{i}"], out[f"{side}q{i}"], out[f"{side}o{i}"] = (
                price,
                str(qty),
                str(orders),
            )
    return out


def _dk(e: str, tk: str, **fields: Any) -> dict[str, Any]:
    return {"t": "dk", "e": e, "tk": tk, "ft": str(FT), **fields}


SNAPSHOTS: list[dict[str, Any]] = [
    _dk(
        "NSE",
        "26000",
        ts="Nifty 50",
        pp="2",
        ti="0.05",
        lp="24865.45",
        pc="0.42",
        o="24780.10",
        h="24901.30",
        l="24755.00",
        c="24761.45",
        v="0",
    ),
    _dk(
        "NSE",
        "2885",
        ts="RELIANCE-EQ",
        pp="2",
        ti="0.10",
        ls="1",
        lp="2945.60",
        pc="0.49",
        o="2935.00",
        h="2951.90",
        l="2928.10",
        c="2931.20",
        ap="2941.37",
        v="4823117",
        ltq="25",
        ltt="14:00:00",
        lc="2638.10",
        uc="3224.30",
        tbq="612340",
        tsq="587120",
        **_depth(
            [
                ("2945.50", 1250, 3),
                ("2945.40", 880, 2),
                ("2945.30", 2310, 6),
                ("2945.20", 415, 1),
                ("2945.10", 3020, 9),
            ],
            [
                ("2945.60", 640, 2),
                ("2945.70", 1980, 5),
                ("2945.80", 75, 1),
                ("2945.90", 1190, 4),
                ("2946.00", 5400, 12),
            ],
        ),
    ),
    _dk(
        "NSE",
        "11536",
        ts="TCS-EQ",
        pp="2",
        ti="0.10",
        lp="3890.00",
        pc="-0.83",
        o="3921.00",
        h="3925.50",
        l="3884.20",
        c="3922.55",
        v="1733015",
        **_depth([("3889.90", 120, 2)], [("3890.10", 95, 1)]),
    ),
    _dk(
        "NSE",
        "1333",
        ts="HDFCBANK-EQ",
        pp="2",
        ti="0.10",
        lp="1932.40",
        pc="0.00",
        o="1930.00",
        h="1938.80",
        l="1925.10",
        c="1932.40",
        v="2204551",
        **_depth([("1932.30", 300, 4)], [("1932.40", 210, 3)]),
    ),
    _dk(
        "PSX",
        "OGDC",
        ts="OGDC",
        pp="2",
        ti="0.01",
        lp="215.37",
        pc="-1.39",
        o="218.00",
        h="219.10",
        l="214.80",
        c="218.40",
        v="3456789",
        lc="196.56",
        uc="240.24",
        **_depth([("215.36", 5000, 3), ("215.35", 12000, 7)], [("215.38", 2500, 2)]),
    ),
    _dk(
        "PSX",
        "HBL",
        ts="HBL",
        pp="2",
        ti="0.01",
        lp="152.10",
        pc="0.73",
        o="151.00",
        h="153.00",
        l="150.75",
        c="151.00",
        v="912400",
        lc="135.90",
        uc="166.10",
        **_depth([("152.05", 800, 2)], [("152.10", 1500, 3)]),
    ),
    _dk(
        "PSX",
        "KSE100",
        ts="KSE-100",
        pp="2",
        lp="118432.55",
        pc="1.12",
        o="117120.00",
        h="118611.20",
        l="117050.35",
        c="117121.80",
        v="0",
    ),
    _dk(
        "MCX",
        "432294",
        ts="GOLDM05JUN25",
        pp="0",
        ti="1",
        lp="93215",
        pc="-0.21",
        o="93400",
        h="93480",
        l="93102",
        c="93411",
        v="18233",
        oi="12044",
        **_depth([("93214", 3, 2)], [("93216", 5, 3)]),
    ),
]
KEYS = [f"{m['e']}|{m['tk']}" for m in SNAPSHOTS]

L2: list[dict[str, Any]] = [
    {
        "t": "lk",
        "e": "NSE",
        "tk": "2885",
        "sq": "1",
        "ft": str(FT),
        "b": [
            ["B1001", "2945.50", "500"],
            ["B1002", "2945.50", "750"],
            ["B1003", "2945.40", "880"],
        ],
        "s": [
            ["S2001", "2945.60", "400"],
            ["S2002", "2945.60", "240"],
            ["S2003", "2945.70", "1980"],
        ],
    },
]
_EVENTS = [
    ("lo", {"oid": "B1004", "sd": "B", "ac": "A", "pr": "2945.30", "q": "2310"}),
    ("lo", {"oid": "B1002", "sd": "B", "ac": "M", "pr": "2945.50", "q": "700"}),
    ("lt", {"oid": "S2001", "sd": "S", "pr": "2945.60", "q": "150", "ag": "B"}),
    ("lo", {"oid": "S2004", "sd": "S", "ac": "A", "pr": "2945.80", "q": "75"}),
    ("lo", {"oid": "B1003", "sd": "B", "ac": "X", "pr": "2945.40", "q": "880"}),
    ("lt", {"oid": "S2001", "sd": "S", "pr": "2945.60", "q": "250", "ag": "B"}),
    ("lo", {"oid": "B1005", "sd": "B", "ac": "A", "pr": "2945.40", "q": "880"}),
]
for n, (t, fields) in enumerate(_EVENTS):
    L2.append({"t": t, "e": "NSE", "tk": "2885", "sq": str(n + 2), "ft": str(FT + 3 * n), **fields})


def build_market(*, l2: bool = True, bad_frames: bool = True) -> Market:
    """The fixed market, flushed at :data:`NOW` and swept (every value converted)."""
    errors = DecodeErrors()
    market = Market(errors)
    for msg in SNAPSHOTS:
        market.apply(dict(msg))
    if l2:
        for msg in L2:
            market.apply(dict(msg))
    market.flush(NOW)
    market.sample_history()
    market.sweep()
    if bad_frames:
        FrameReader(errors).read(b"\x00not json")
        # counted as bad-number; HBL keeps its last good price
        market.apply({"t": "df", "e": "PSX", "tk": "HBL", "lp": "15x.20"})
        market.flush(NOW)
        market.sample_history()
        market.sweep()
    return market


def tick(market: Market, key: str, **fields: str) -> None:
    """One ``df`` delta for ``key``."""
    e, _, tk = key.partition("|")
    market.apply({"t": "df", "e": e, "tk": tk, **fields})


@dataclass
class FixedHealth:
    """``tui.feed.health.Health`` with fixed figures (same attributes)."""

    state: str = "live"
    endpoint: str = "ws://127.0.0.1:8765/2.0/market/feed/l2"
    level: str = "L2"
    connected_since: float | None = 1747038000.0
    reconnects: int = 1
    next_retry_at: float | None = None
    messages: int = 182_311
    bytes: int = 26_252_784
    msg_rate: float = 1234.4
    byte_rate: float = 177_753.6
    lag: float | None = 0.04
    last_error: str = ""
    refused: int = 0
    last_refusal: str = ""
    subscriptions: int = len(KEYS)
    connections_used: int = 1
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)
