"""The replay's wire cache: a client that starts from its snapshots at any moment has the
picture of a client that saw every message (values, order books by id, time priority)."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import msgspec
import pytest

from tui.market.export import scrip_json
from tui.market.store import Market
from tui.record import format as fmt
from tui.record.reader import Recording
from tui.replay.cache import WireCache, touchline_of
from tui.replay.synthetic import synthetic_recording
from tui.wire.frames import DecodeErrors, FrameReader

KEYS = ["PSX|OGDC", "PSX|HBL", "PSX|LUCK", "NSE|26000"]


def picture(market: Market) -> dict[str, Any]:
    market.sweep()
    scrips = {k: scrip_json(s) for k in sorted(market.scrips) if (s := market.view(k))}
    queues: dict[str, dict[tuple[str, str], list[str]]] = {}
    for key, book in sorted(market.books.items()):
        by_price: dict[tuple[str, str], list[str]] = defaultdict(list)
        for oid, (side, price, qty) in book.orders.items():
            by_price[(side, price)].append(f"{oid}:{qty}")  # time priority within a price
        queues[key] = dict(by_price)
    return {"scrips": scrips, "books": queues}


@pytest.fixture(scope="module")
def records(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[int, int, bytes]]:
    files = synthetic_recording(
        tmp_path_factory.mktemp("cache"), seed=11, rate=3000, seconds=8, keys=KEYS
    )
    return list(Recording(files).records())


def test_a_client_joining_from_the_cache_at_any_moment_has_the_full_picture(
    records: list[tuple[int, int, bytes]],
) -> None:
    decode = msgspec.json.Decoder(float_hook=str).decode
    everything = Market(DecodeErrors())
    feed = FrameReader(everything.errors, sink=everything.apply).feed
    cache = WireCache()
    checked = 0
    for i, (kind, _ns, payload) in enumerate(records):
        if kind not in (fmt.RECEIVED, fmt.SNAPSHOT):
            continue
        feed(payload)
        cache.apply(decode(payload))
        if i % 700 == 699:
            joined = Market(DecodeErrors())
            for key in sorted(cache.keys()):
                for sub in ("d", "l"):
                    snap = cache.snapshot(sub, key)
                    if snap is not None:
                        joined.apply(decode(msgspec.json.encode(snap)))
            assert picture(joined) == picture(everything), f"after record {i}"
            assert not joined.errors.by_kind
            checked += 1
    assert checked >= 4
    assert sum(len(b.orders) for b in everything.books.values()) > 50


def test_a_touchline_comes_from_depth_when_only_depth_was_recorded() -> None:
    cache = WireCache()
    cache.apply(
        {
            "t": "dk",
            "e": "NSE",
            "tk": "1",
            "lp": "10.00",
            "bp1": "9.95",
            "bp2": "9.90",
            "sq5": "4",
            "pp": "2",
        }
    )
    cache.apply({"t": "df", "e": "NSE", "tk": "1", "lp": "10.05", "bq3": "7"})
    assert cache.snapshot("t", "NSE|1") == {
        "t": "tk",
        "e": "NSE",
        "tk": "1",
        "lp": "10.05",
        "bp1": "9.95",
        "pp": "2",
    }
    assert touchline_of({"bp1": "1", "sp5": "2", "so2": "3", "lp": "4"}) == {"bp1": "1", "lp": "4"}
    assert cache.snapshot("l", "NSE|1") is None and cache.snapshot("d", "NSE|2") is None


def test_messages_without_a_key_or_of_no_market_kind_are_not_folded(tmp_path: Path) -> None:
    cache = WireCache()
    assert cache.apply({"t": "ck", "s": "OK"}) == ""
    assert cache.apply({"t": "df", "lp": "1"}) == ""
    assert (
        cache.apply({"t": "lo", "e": "NSE", "tk": "1", "oid": "9", "ac": "M", "q": "5"}) == "NSE|1"
    )
    assert cache.keys() == {"NSE|1"}
