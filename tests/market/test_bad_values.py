"""A bad value never crashes anything and never replaces a good one (issue 8).

Each hostile value the issue names (a JSON list or object, ``true``, ``null``, a numeric
string of thousands of digits), in every field of ``dk``/``df``/``tk``/``tf`` and in the L2
messages, goes through the frame reader and the market and out through every read the
desk, ``snapshot`` and ``tail`` make.  Nothing raises; the bad value is counted by kind with
its field named; every good value stays.
"""

from __future__ import annotations

import json

import msgspec
import pytest

from tui.market.export import scrip_json
from tui.market.store import Market
from tui.market.tape import TapeFilter
from tui.wire.fields import INT_FIELDS, PERCENT_FIELDS, PRICE_FIELDS, TEXT_FIELDS
from tui.wire.frames import (
    BAD_MESSAGE,
    BAD_NUMBER,
    BAD_VALUE,
    NOT_JSON,
    NOT_OBJECT,
    UNKNOWN_TYPE,
    DecodeErrors,
    FrameReader,
)
from tui.wire.protocol import DepthAck

KEY = "NSE|22"
HOSTILE = [[1, "2"], {"a": 1}, True, None, "9" * 5000, "1." + "5" * 5000]
HOSTILE_IDS = ["list", "object", "true", "null", "5000-digits", "5000-decimals"]
#: every field a touchline or depth message can carry (the wire names)
FIELDS = sorted(f.encode_name for f in msgspec.structs.fields(DepthAck))
VALUE_FIELDS = sorted(set(FIELDS) - {"e", "tk"})


def good_dk() -> dict[str, object]:
    msg: dict[str, object] = {
        "t": "dk",
        "e": "NSE",
        "tk": "22",
        "ts": "ACC-EQ",
        "pp": "2",
        "ti": "0.05",
        "ls": "1",
        "lp": "100.00",
        "pc": "1.25",
        "v": "500",
        "o": "99.00",
        "h": "101.00",
        "l": "98.00",
        "c": "98.75",
        "ap": "688.29",
        "ltt": "10:15:01",
        "ltq": "5",
        "lc": "90.00",
        "uc": "110.00",
        "ft": "1750652516",
    }
    for i in range(1, 6):
        msg |= {
            f"bp{i}": f"{100 - i}.00",
            f"bq{i}": str(10 * i),
            f"bo{i}": str(i),
            f"sp{i}": f"{100 + i}.00",
            f"sq{i}": str(10 * i),
            f"so{i}": str(i),
        }
    return msg


def frame(msg: dict[str, object]) -> bytes:
    return json.dumps(msg).encode()


def fed_market() -> tuple[Market, FrameReader]:
    market = Market()
    return market, FrameReader(market.errors, market.apply)


def every_read(market: Market) -> None:
    """What the desk, ``snapshot`` and ``tail`` read: none of it may raise."""
    market.flush(1.0)
    market.sample_history()
    market.sweep()
    for key in list(market.scrips):
        scrip = market.view(key)
        assert scrip is not None
        scrip.symbol, scrip.bids(), scrip.asks(), scrip.level("b", 1)
        for name in FIELDS:
            scrip.get(name), scrip.text(name), scrip.price_text(name)
        json.dumps(scrip_json(scrip))
        market.history.prices(key)
    for book in market.books.values():
        book.levels(2, 10)
    events = market.tape.since(0)
    TapeFilter("B", 5).select(events)
    for event in events:
        assert all(
            type(v) is str
            for v in (event.key, event.action, event.side, event.price, event.qty, event.oid)
        )


# -- the frame reader -----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("raw", "kind"),
    [
        (b'{"t":[1]}', UNKNOWN_TYPE),
        (b'{"t":{}}', UNKNOWN_TYPE),
        (b'{"t":null}', UNKNOWN_TYPE),
        (b"[" * 100_000 + b"]" * 100_000, NOT_JSON),
        (b'{"t":' + b"[" * 100_000 + b"]" * 100_000 + b"}", NOT_JSON),
        (b'{"t":"df","e":"NSE","tk":"22","lp":"\xff\xfe"}', NOT_JSON),
        ('{"t":"df","e":"NSE","tk":"22","lp":"\udcff"}', NOT_JSON),
        (b'{"t":"df","lp":' + b"9" * 5000 + b"}", NOT_JSON),
        (b"", NOT_JSON),
        (b"7", NOT_OBJECT),
    ],
    ids=[
        "t-list",
        "t-object",
        "t-null",
        "nested-100k",
        "nested-in-t",
        "not-utf8",
        "lone-surrogate",
        "huge-int",
        "empty",
        "number",
    ],
)
def test_the_frame_reader_never_raises(raw, kind):
    errors = DecodeErrors()
    reader = FrameReader(errors, lambda msg: None)
    assert reader.feed(raw) is None
    assert reader.read(raw) is None
    assert errors.by_kind == {kind: 2}


# -- touchline and depth: every field, every hostile value ----------------------------------
@pytest.mark.parametrize("bad", HOSTILE, ids=HOSTILE_IDS)
@pytest.mark.parametrize("t", ["dk", "df", "tk", "tf"])
def test_a_hostile_value_in_any_field_crashes_nothing_and_loses_nothing(t, bad):
    market, reader = fed_market()
    for name in VALUE_FIELDS:
        reader.feed(frame(good_dk()))
        market.sweep()
        before = dict(market.view(KEY).values)
        msg = {**(good_dk() if t in ("dk", "tk") else {"t": t, "e": "NSE", "tk": "22"}), name: bad}
        if t in ("df", "tf"):
            msg["v"] = "600" if name != "v" else bad
        reader.feed(frame(msg))
        every_read(market)
        after = market.view(KEY).values
        assert after.get(name) == before.get(name), f"{t} {name}={bad!r} replaced a good value"
        if name != "v" and name != "pp":
            assert after["v"] == (500 if t in ("dk", "tk") else 600), "the good fields beside it"
    assert market.errors.total >= len(VALUE_FIELDS) - len(TEXT_FIELDS)


def test_bad_values_are_counted_by_kind_with_the_field_named():
    market, reader = fed_market()
    reader.feed(frame(good_dk()))
    reader.feed(frame({"t": "df", "e": "NSE", "tk": "22", "lp": [1], "ap": "abc", "uc": None}))
    market.sweep()
    assert market.errors.by_kind == {BAD_VALUE: 2, BAD_NUMBER: 1}
    assert market.errors.by_field == {"lp": 1, "ap": 1, "uc": 1}
    assert any("ap" in text and "abc" in text for _, text in market.errors.samples)


def test_a_good_value_then_a_bad_one_before_any_read_keeps_the_good_one():
    """The issue's own sequences: ``snapshot`` printed no ``lp``, the view had ``ap=None``."""
    market, reader = fed_market()
    reader.feed(
        frame({"t": "dk", "e": "NSE", "tk": "22", "pp": "2", "lp": "100.00", "ap": "688.29"})
    )
    reader.feed(frame({"t": "df", "e": "NSE", "tk": "22", "lp": "101.00"}))
    reader.feed(frame({"t": "df", "e": "NSE", "tk": "22", "lp": "abc", "ap": "abc"}))
    market.sweep()
    out = scrip_json(market.view(KEY))
    assert (out["lp"], out["ap"]) == ("101.00", "688.29")
    assert market.errors.by_kind == {BAD_NUMBER: 2}


def test_the_good_fields_of_a_message_with_a_bad_field_are_merged():
    market, reader = fed_market()
    reader.feed(frame(good_dk()))
    reader.feed(
        frame({"t": "df", "e": "NSE", "tk": "22", "lp": {"x": 1}, "v": "700", "bp1": "99.50"})
    )
    scrip = market.view(KEY)
    assert (scrip.get("lp"), scrip.get("v"), scrip.get("bp1")) == (10000, 700, 9950)


def test_a_hostile_precision_keeps_the_scale():
    market, reader = fed_market()
    reader.feed(frame(good_dk()))
    for bad in HOSTILE + ["99", "-1"]:
        reader.feed(frame({"t": "df", "e": "NSE", "tk": "22", "pp": bad, "lp": "100.05"}))
        scrip = market.view(KEY)
        assert (scrip.pp, scrip.price_text("lp")) == (2, "100.05")


def test_symbol_and_text_fields_take_only_text():
    market, reader = fed_market()
    reader.feed(frame(good_dk()))
    reader.feed(frame({"t": "df", "e": "NSE", "tk": "22", "ts": ["x"], "ltt": 5}))
    scrip = market.view(KEY)
    assert (scrip.symbol, scrip.text("ltt")) == ("ACC-EQ", "10:15:01")


@pytest.mark.parametrize("name", sorted(PRICE_FIELDS | INT_FIELDS | PERCENT_FIELDS))
def test_thousands_of_digits_are_refused_not_raised(name):
    market, reader = fed_market()
    reader.feed(frame(good_dk()))
    before = dict(market.view(KEY).values)
    reader.feed(frame({"t": "df", "e": "NSE", "tk": "22", name: "1" * 4301}))
    assert market.view(KEY).values == before
    assert market.errors.by_field[name] == 1


# -- L2 -------------------------------------------------------------------------------------
def l2_market() -> tuple[Market, FrameReader]:
    market, reader = fed_market()
    reader.feed(
        frame(
            {
                "t": "lk",
                "e": "NSE",
                "tk": "22",
                "sq": "0",
                "b": [["b1", "99.00", "10"]],
                "s": [["s1", "101.00", "20"]],
            }
        )
    )
    return market, reader


def lo(seq: int, **fields: object) -> bytes:
    base = {
        "t": "lo",
        "e": "NSE",
        "tk": "22",
        "sq": str(seq),
        "oid": "n1",
        "ac": "A",
        "sd": "B",
        "pr": "98.00",
        "q": "5",
    }
    return frame(base | fields)


@pytest.mark.parametrize("bad", HOSTILE, ids=HOSTILE_IDS)
@pytest.mark.parametrize("name", ["pr", "sd", "oid", "q", "ac", "sq", "ft"])
def test_a_hostile_order_event_crashes_nothing_and_loses_nothing(name, bad):
    market, reader = l2_market()
    reader.feed(lo(1))
    reader.feed(lo(2, ac="M", q="7"))
    before = market.books[KEY].levels(2, 10)
    reader.feed(lo(3, **({"ac": "M", "q": "7"} | {name: bad})))
    reader.feed(lo(4, **({"oid": "n2"} | {name: bad})))
    every_read(market)
    if name not in ("ft", "sq"):
        assert market.books[KEY].levels(2, 10) == before
        assert market.errors.by_field[name] >= 1


@pytest.mark.parametrize("bad", HOSTILE, ids=HOSTILE_IDS)
def test_a_hostile_execution_or_book_row_crashes_nothing(bad):
    market, reader = l2_market()
    reader.feed(
        frame(
            {
                "t": "lt",
                "e": "NSE",
                "tk": "22",
                "sq": "1",
                "oid": [bad],
                "sd": "B",
                "pr": "99.00",
                "q": "1",
            }
        )
    )
    reader.feed(
        frame(
            {
                "t": "lt",
                "e": "NSE",
                "tk": "22",
                "sq": "2",
                "oid": "b1",
                "sd": "B",
                "pr": bad,
                "q": bad,
            }
        )
    )
    every_read(market)
    bids, _ = market.books[KEY].levels(2, 10)
    assert [(lv.price, lv.qty) for lv in bids] == [(9900, 10)]
    reader.feed(
        frame(
            {
                "t": "lk",
                "e": "NSE",
                "tk": "22",
                "sq": "3",
                "b": [
                    ["b1", bad, "10"],
                    ["b2", "98.00", bad],
                    [bad, "97.00", "1"],
                    bad,
                    ["b3", "96.00", "3"],
                ],
                "s": bad,
            }
        )
    )
    every_read(market)
    bids, _ = market.books[KEY].levels(2, 10)
    assert [(lv.price, lv.qty) for lv in bids][-1] == (9600, 3)
    assert market.errors.by_kind[BAD_MESSAGE] >= 1  # the row that is not a row
    assert market.errors.total >= 5


def test_lk_with_a_list_oid_and_lt_with_a_list_oid():
    market, reader = l2_market()
    reader.feed(
        frame(
            {
                "t": "lt",
                "e": "NSE",
                "tk": "22",
                "sq": "1",
                "oid": [1],
                "sd": "B",
                "pr": "99.00",
                "q": "1",
            }
        )
    )
    every_read(market)
    assert market.errors.by_field["oid"] == 1
