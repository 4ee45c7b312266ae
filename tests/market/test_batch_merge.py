"""The batch read path (the frames of one socket read decoded and merged at once) is exact.

1. ``FrameReader.feed_many`` -> ``Market.apply.frames`` leaves the same market, the
   same counts of bad input by kind and field, and the same control messages as
   ``FrameReader.feed`` frame by frame, for any frames (hostile ones included) cut into
   any batches, with reads at the same points.
2. A bad value in a batch never replaces a good one; a scrip nobody reads stays bounded.
3. A sink without a loop of its own (a relay's cache wraps ``apply``) gets every message, one
   by one, in order.
The connection that hands the batches over: ``feed/test_batch_connection.py``.
"""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_market_hostile import EXPECTED, bad_value, hostile_message, mixed_message

from tui.market.scrip import FOLD_AT
from tui.market.store import Market
from tui.wire.frames import DecodeErrors, FrameReader

ODD_FRAMES = [
    b"",
    b"7",
    b"[]",
    b"not json",
    b'{"t":[1]}',
    b'{"t":"zz","e":"NSE"}',
    b'{"t":"df"}',
    b'{"t":"df","e":1,"tk":"22"}',
    b'{"t":"ck","s":"OK"}',
    b'{"t":"er","emsg":"no"}',
    b'{"t":"df","e":"NSE","tk":"22","lp":"\xff"}',
    b"[" * 2000 + b"]" * 2000,
    b'{"t":"df","e":"NSE","tk":"22","lp":"',
    b'"},{"t":"df","e":"NSE","tk":"22","lp":"9"}',
]


def encoded(msg: dict[str, object]) -> bytes | None:
    try:
        return json.dumps(msg).encode()
    except ValueError:
        return None


frame_of = (
    mixed_message().map(encoded) | hostile_message().map(encoded) | st.sampled_from(ODD_FRAMES)
).filter(lambda raw: raw is not None)


def market_and_reader() -> tuple[Market, FrameReader]:
    market = Market(DecodeErrors())
    market.expect([*EXPECTED, "NSE|26000", "PSX|OGDC", "NSE|2885"])
    return market, FrameReader(market.errors, market.apply)


def everything(market: Market) -> tuple[object, ...]:
    market.sweep()
    return (
        {key: dict(scrip.values) for key, scrip in market.scrips.items()},
        {key: (book.levels(2, 10), book.seq) for key, book in market.books.items()},
        [(e.key, e.action, e.price, e.qty) for e in market.tape.since(0)],
        dict(market.errors.by_kind),
        dict(market.errors.by_field),
    )


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(frame_of, max_size=60),
    st.lists(st.integers(1, 9), min_size=60, max_size=60),
    st.lists(st.booleans(), min_size=60, max_size=60),
)
def test_a_batch_merges_and_counts_exactly_as_frame_by_frame(frames, cuts, reads):
    one, one_reader = market_and_reader()
    many, many_reader = market_and_reader()
    controls_one: list[dict[str, object]] = []
    controls_many: list[dict[str, object]] = []
    i = 0
    for cut, read in zip(cuts, reads):
        if i >= len(frames):
            break
        batch = frames[i : i + cut]
        controls_one += [m for m in map(one_reader.feed, batch) if m is not None]
        controls_many += many_reader.feed_many(batch)
        i += cut
        if read:  # a bad value is counted when a read meets it: both read at the same points
            one.sweep()
            many.sweep()
    assert controls_many == controls_one
    assert everything(many) == everything(one)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from([None, *range(5)]), max_size=30), st.data())
def test_a_bad_value_in_a_batch_never_replaces_a_good_one(plan, data):
    """Each step is a batch of df frames for one scrip, good lp texts and bad ones mixed;
    the state's lp is the last good one received, whatever the batches."""
    market, reader = market_and_reader()
    reader.feed(b'{"t":"dk","e":"NSE","tk":"22","pp":"2","lp":"1.00"}')
    last_good = 100
    for step in plan:
        if step is None:
            market.view("NSE|22")
            continue
        batch = []
        for _ in range(step + 1):
            if data.draw(st.booleans()):
                last_good = data.draw(st.integers(1, 10**6))
                text: object = f"{last_good // 100}.{last_good % 100:02d}"
            else:
                text = data.draw(bad_value)
            batch.append(json.dumps({"t": "df", "e": "NSE", "tk": "22", "lp": text}).encode())
        reader.feed_many(batch)
    assert market.view("NSE|22").get("lp") == last_good


def test_a_sink_without_a_batch_merge_gets_every_message_in_order():
    got: list[object] = []
    reader = FrameReader(DecodeErrors(), got.append)
    frames = [
        b'{"t":"df","e":"NSE","tk":"1","lp":"1.00"}',
        b"bad",
        b'{"t":"ck","s":"OK"}',
        b'{"t":"tf","e":"NSE","tk":"2","lp":"2.00"}',
    ]
    assert reader.feed_many(frames) == [{"t": "ck", "s": "OK"}]
    assert [m["tk"] for m in got] == ["1", "2"]  # type: ignore[index]
    assert reader.errors.by_kind == {"not-json": 1}


def test_a_scrip_nobody_reads_holds_a_bounded_number_of_messages_on_the_batch_path():
    market, reader = market_and_reader()
    reader.feed(b'{"t":"dk","e":"NSE","tk":"22","pp":"2","lp":"100.00"}')
    for start in range(0, 10 * FOLD_AT, 37):
        reader.feed_many(
            [
                json.dumps(
                    {"t": "df", "e": "NSE", "tk": "22", "lp": f"{100 + i % 50}.00", "v": str(i)}
                ).encode()
                for i in range(start, min(start + 37, 10 * FOLD_AT))
            ]
        )
        assert len(market.scrips["NSE|22"].pending) < FOLD_AT
    assert market.view("NSE|22").get("v") == 10 * FOLD_AT - 1
