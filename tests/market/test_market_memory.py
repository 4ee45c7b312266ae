"""Memory is bounded by what was asked for (issue 8).

A market told what is subscribed (``Market.expect``, which the feed client calls) keeps
nothing for any other key: a flood of unsolicited keys is counted, not stored.  Field names
the market does not know are kept only up to a small bound per scrip.  A scrip nobody reads
holds at most ``FOLD_AT`` messages.  Sizes are counted (objects the garbage collector
tracks, tracemalloc), never timed.
"""

from __future__ import annotations

import gc
import json
import tracemalloc

from tui.market.scrip import EXTRA_FIELDS, FOLD_AT
from tui.market.store import Market
from tui.wire.frames import UNKNOWN_FIELD, UNSOLICITED, DecodeErrors, FrameReader

WANTED = ["NSE|22", "NSE|2885"]


def subscribed_market() -> tuple[Market, FrameReader]:
    market = Market(DecodeErrors())
    market.expect(WANTED)
    return market, FrameReader(market.errors, market.apply)


def frame(**fields: object) -> bytes:
    return json.dumps(fields).encode()


def test_a_flood_of_unsolicited_keys_is_counted_and_not_kept():
    market, reader = subscribed_market()
    reader.feed(frame(t="dk", e="NSE", tk="22", pp="2", lp="100.00"))
    gc.collect()
    before = len(gc.get_objects())
    for i in range(200_000):
        t = ("df", "dk", "tf", "lo", "lk")[i % 5]
        reader.feed(
            frame(
                t=t,
                e="BSE",
                tk=str(i),
                pp="2",
                lp="1.00",
                sq="1",
                oid="o",
                ac="A",
                sd="B",
                pr="1.00",
                q="1",
                b=[["o", "1.00", "1"]],
            )
        )
    gc.collect()
    grown = len(gc.get_objects()) - before
    assert list(market.scrips) == ["NSE|22"] and market.books == {}
    assert market.tape.total == 0 and len(market.dirty) == 1
    assert market.errors.by_kind == {UNSOLICITED: 200_000}
    assert grown < 100, f"200,000 unsolicited keys left {grown:,} more objects"


def test_a_key_just_unsubscribed_drops_its_in_flight_messages_quietly():
    market, reader = subscribed_market()
    reader.feed(frame(t="dk", e="NSE", tk="22", pp="2", lp="100.00"))
    market.forget("NSE|22")
    reader.feed(frame(t="df", e="NSE", tk="22", lp="100.05"))
    assert "NSE|22" not in market.scrips and market.errors.total == 0
    market.expect(["NSE|22"])  # subscribed again: kept again
    reader.feed(frame(t="df", e="NSE", tk="22", lp="100.10"))
    assert market.view("NSE|22").price_text("lp") == "100.10"


def test_a_market_never_told_what_is_subscribed_keeps_every_key():
    market = Market()
    market.apply({"t": "dk", "e": "BSE", "tk": "1", "pp": "2", "lp": "1.00"})
    assert list(market.scrips) == ["BSE|1"] and market.errors.total == 0


def test_unknown_field_names_are_kept_only_up_to_a_bound():
    market, reader = subscribed_market()
    reader.feed(frame(t="dk", e="NSE", tk="22", pp="2", lp="100.00", bt="1.5"))
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for i in range(0, 30_000, 10):
            reader.feed(
                frame(t="df", e="NSE", tk="22", **{f"x{j}": "v" * 20 for j in range(i, i + 10)})
            )
        market.sweep()
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    scrip = market.view("NSE|22")
    assert scrip.text("bt") == "1.5" and scrip.price_text("lp") == "100.00"
    assert len(scrip.raw) <= 5 + EXTRA_FIELDS
    assert market.errors.by_kind[UNKNOWN_FIELD] == 30_000 - (EXTRA_FIELDS - 1)
    assert grown < 500_000, f"30,000 unknown field names grew the market by {grown:,} bytes"


def test_a_scrip_nobody_reads_holds_a_bounded_number_of_messages():
    market, reader = subscribed_market()
    reader.feed(frame(t="dk", e="NSE", tk="22", pp="2", lp="100.00"))
    for i in range(10 * FOLD_AT):
        reader.feed(frame(t="df", e="NSE", tk="22", lp=f"{100 + i % 50}.00", v=str(i)))
        assert len(market.scrips["NSE|22"].pending) < FOLD_AT
    assert market.view("NSE|22").get("v") == 10 * FOLD_AT - 1
