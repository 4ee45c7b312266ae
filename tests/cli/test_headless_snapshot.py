"""``marketdesk snapshot`` says what happened: the L2 book with --orders, the state the feed
was in when the snapshot was taken, and on an endpoint that cannot give what is asked, what
it did instead (notes) or a refusal with its own exit code.  The real client against the
seeded simulator, in process."""

from __future__ import annotations

import io
import json
from collections import defaultdict
from typing import Any

import pytest

from tui.feed.config import FeedConfig
from tui.feed_commands import EXIT_OK, EXIT_REFUSED, snapshot, tail
from tui.sim.config import SimConfig
from tui.sim.server import SimServer

TOKEN = "demo-token"
#: the real client against a real simulator server: end to end
pytestmark = pytest.mark.slow


async def snap(level: str, keys: list[str], *, orders: bool = False, seconds: float = 1.0,
               **sim: Any) -> tuple[int, dict[str, Any]]:  # fmt: skip
    async with SimServer(SimConfig(seed=5, rate=1000.0, tokens=(TOKEN,), **sim)) as server:
        out = io.StringIO()
        code = await snapshot(FeedConfig(url=server.endpoint(level), token=TOKEN), keys, seconds,
                              orders=orders, out=out)  # fmt: skip
    return code, json.loads(out.getvalue())


async def test_orders_adds_each_scrips_l2_book_levels_and_orders():
    code, doc = await snap("L2", ["PSX|OGDC", "NSE|2885"], orders=True)
    assert code == EXIT_OK and "notes" not in doc
    for key in ("PSX|OGDC", "NSE|2885"):
        scrip = doc["scrips"][key]
        book = scrip["book"]
        assert book["gap"] is False
        orders = book["orders"]
        assert len(orders) > 10
        assert all(set(o) == {"id", "side", "price", "qty"} for o in orders)
        assert all(o["side"] in "BS" and isinstance(o["qty"], int) and o["qty"] > 0 for o in orders)
        assert len({o["id"] for o in orders}) == len(orders)
        # the levels are the orders summed by price, best first, every one of them
        summed: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
        for o in orders:
            summed[(o["side"], o["price"])][0] += o["qty"]
            summed[(o["side"], o["price"])][1] += 1
        for side, levels in (("B", book["bids"]), ("S", book["asks"])):
            assert {(p, q, n) for p, q, n in levels} == {
                (p, q, n) for (s, p), (q, n) in summed.items() if s == side
            }
            prices = [float(p) for p, _, _ in levels]
            assert prices == sorted(prices, reverse=side == "B")
        sides = [o["side"] for o in orders]
        assert sides == sorted(sides), "bids, then asks"
        assert len(book["bids"]) >= len(scrip["bids"]) and len(book["asks"]) >= len(scrip["asks"])
        assert float(book["bids"][0][0]) < float(book["asks"][0][0])


async def test_the_state_printed_is_the_feeds_when_the_snapshot_was_taken():
    code, doc = await snap("L1", ["PSX|OGDC"])
    assert code == EXIT_OK
    assert doc["health"]["state"] == "live" and doc["health"]["refused"] == 0
    assert "book" not in doc["scrips"]["PSX|OGDC"]


async def test_l0_falls_back_to_the_touchline_and_says_so():
    code, doc = await snap("L0", ["PSX|OGDC", "NSE|26000"])
    assert code == EXIT_OK
    assert doc["notes"] == [
        "L0 feed: no depth at L0; subscribed the touchline instead (the best bid and ask only)"
    ]
    assert doc["health"]["refused"] == 0, doc["health"]["last_refusal"]
    for key in ("PSX|OGDC", "NSE|26000"):
        scrip = doc["scrips"][key]
        assert scrip["lp"] and len(scrip["bids"]) <= 1 and len(scrip["asks"]) <= 1


async def test_l0_refusing_every_scrip_exits_6_with_the_refusal_in_the_json():
    code, doc = await snap("L0", ["PSX|MARI"])  # not served at L0
    assert code == EXIT_REFUSED == 6
    assert doc["scrips"] == {}
    assert doc["health"]["refused"] == 1
    assert doc["health"]["last_refusal"] == "scrip not available at L0 (PSX|MARI)"
    assert "no data for PSX|MARI" in doc["notes"]


async def test_orders_on_an_l1_feed_says_there_is_no_book():
    code, doc = await snap("L1", ["PSX|OGDC"], orders=True)
    assert code == EXIT_OK and doc["health"]["refused"] == 0
    assert doc["notes"] == ["--orders needs an L2 endpoint; this feed is L1: no order book"]
    assert "book" not in doc["scrips"]["PSX|OGDC"] and doc["scrips"]["PSX|OGDC"]["bids"]


async def test_tail_on_l0_follows_the_touchline_too():
    async with SimServer(SimConfig(seed=5, rate=1000.0, tokens=(TOKEN,))) as server:
        out = io.StringIO()
        code = await tail(
            FeedConfig(url=server.endpoint("L0"), token=TOKEN), ["PSX|OGDC"], 30.0, count=3, out=out
        )  # fmt: skip  (a bound: stops at 3 lines)
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert code == EXIT_OK and len(lines) == 3
    assert all(line["key"] == "PSX|OGDC" and line["lp"] for line in lines)
