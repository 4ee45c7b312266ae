"""Hostile input, by property (issue 8): no exception escapes, and bad values never win.

1. Arbitrary JSON values (any nesting of null, booleans, numbers, strings, lists and
   objects) in every field of every market message kind, as frames through the frame
   reader into the market, then every read the widgets, the CLI's JSON and the rule
   engine make: nothing raises, and the rule engine meets nothing unexpected.
2. Any interleaving of good and bad values, with reads at random points or none at all,
   folds to a reference that simply skips the bad values (``ref_fold`` in
   ``test_market_fold``, written with ``decimal.Decimal``).
"""

from __future__ import annotations

import json
import math

import msgspec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_market_fold import (
    market_state,
    message,
    ref_convert,
    ref_fold,
    strip,
)

from tui.market.export import scrip_json
from tui.market.rules import RuleEngine
from tui.market.store import Market
from tui.market.tape import TapeFilter
from tui.wire.frames import FrameReader
from tui.wire.protocol import MARKET_TAGS, DepthAck, Execution, OrderBookAck, OrderEvent

EXPECTED = ["NSE|22", "PSX|OGDC"]
FIELDS = {
    "dk": [f.encode_name for f in msgspec.structs.fields(DepthAck)],
    "lk": [f.encode_name for f in msgspec.structs.fields(OrderBookAck)],
    "lo": [f.encode_name for f in msgspec.structs.fields(OrderEvent)],
    "lt": [f.encode_name for f in msgspec.structs.fields(Execution)],
}
FIELDS["df"] = FIELDS["tk"] = FIELDS["tf"] = FIELDS["dk"]

scalar = (
    st.none()
    | st.booleans()
    | st.integers(-(10**20), 10**20)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
    | st.sampled_from(
        [
            "9" * 5000,
            "1." + "5" * 5000,
            "-1",
            "1e3",
            "0",
            "100.00",
            "B",
            "S",
            "A",
            "M",
            "X",
            "o1",
            "2",
        ]
    )
)
json_value = st.recursive(
    scalar,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner, max_size=4)
    ),
    max_leaves=12,
)


@st.composite
def hostile_message(draw) -> dict[str, object]:
    t = draw(st.sampled_from(sorted(MARKET_TAGS)))
    key = draw(st.sampled_from([*EXPECTED, "BSE|1"]))
    e, tk = key.split("|")
    msg: dict[str, object] = {"t": t, "e": e, "tk": tk}
    names = draw(st.lists(st.sampled_from(FIELDS[t]), max_size=8, unique=True))
    for name in names:
        msg[name] = draw(json_value)
    if t == "lk" and draw(st.booleans()):
        msg["b"] = draw(st.lists(st.lists(json_value, min_size=3, max_size=3), max_size=3))
    return msg


def every_read(market: Market, engine: RuleEngine, now: float) -> None:
    changed = market.flush(now)
    market.sample_history()
    for key in sorted(changed | set(market.scrips)):
        scrip = market.view(key)
        if scrip is not None:
            scrip.symbol, scrip.bids(), scrip.asks(), scrip.price_text("lp"), scrip.text("ltt")
            for name in ("lp", "pc", "v", "c", "h", "l", "lc", "uc", "ti", "ft"):
                scrip.get(name)
            json.dumps(scrip_json(scrip), ensure_ascii=False).encode()
            market.history.prices(key)
        book = market.books.get(key)
        if book is not None:
            book.levels(scrip.pp if scrip is not None else 2, 10)
    events = market.tape.since(0)
    TapeFilter("S", 10).select(events)
    engine.evaluate(sorted(changed), now)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(hostile_message(), max_size=30), st.lists(st.booleans(), min_size=30, max_size=30))
def test_arbitrary_json_in_every_field_of_every_kind_raises_nowhere(messages, reads):
    market = Market()
    market.expect(EXPECTED)
    reader = FrameReader(market.errors, market.apply)
    engine = RuleEngine(market, wall=lambda: 1_750_000_000.0)
    now = 1000.0
    for msg, read in zip(messages, reads):
        try:
            raw = json.dumps(msg).encode()
        except ValueError:
            continue
        assert reader.feed(raw) is None
        if read:
            now += 0.25
            every_read(market, engine, now)
    every_read(market, engine, now + 10)
    assert engine.errors == 0, engine.last_error
    assert set(market.scrips) | set(market.books) <= set(EXPECTED)
    assert all(not math.isnan(v) for v in market.errors.by_kind.values())


# -- the fold: bad values skipped, whenever reads happen --------------------------------------
bad_value = st.sampled_from(
    ["abc", "-5", "1.234", "", "1e3", " 7", "+1", "9" * 20, "NaN", "9" * 5000, "1." + "5" * 5000]
) | st.sampled_from([[1], {"a": "1"}, True, False, None, [], {}])


def mixed_message():
    """A market message with about one field in four hostile."""
    return message(bad=True, bad_values=bad_value, one_in=4)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(mixed_message(), max_size=60),
    st.lists(st.sampled_from([0, 0, 0, 1, 2]), min_size=60, max_size=60),
)
def test_any_interleaving_of_good_and_bad_values_folds_like_skipping_the_bad_ones(messages, reads):
    """``reads``: 0 no read, 1 the whole market swept, 2 one scrip viewed."""
    market = Market()
    reader = FrameReader(market.errors, market.apply)
    for msg, read in zip(messages, reads):
        reader.feed(json.dumps(msg).encode())
        if read == 1:
            market.sweep()
        elif read == 2:
            market.view(f"{msg['e']}|{msg['tk']}")
    market.sweep()
    assert strip(market_state(market)) == strip(ref_fold(messages))
    bad_received = sum(
        1
        for msg in messages
        for name, text in msg.items()
        if name not in ("t", "e", "tk", "pp") and ref_convert(name, text, 2) is None
    )
    # a bad value is counted when a read meets it: one replaced before any read is not
    assert market.errors.total <= bad_received


@settings(max_examples=200, deadline=None)
@given(st.lists(mixed_message(), max_size=60))
def test_with_no_read_at_all_the_state_is_still_the_last_good_value(messages):
    market = Market()
    reader = FrameReader(market.errors, market.apply)
    for msg in messages:
        reader.feed(json.dumps(msg).encode())
    market.sweep()
    assert strip(market_state(market)) == strip(ref_fold(messages))
