"""Any sequence of snapshots and deltas folds to what a plain reference fold gives.

The reference is written independently of tui.market: it converts every field of every
message at once with ``decimal.Decimal`` (the obvious, slow way).  The market merges wire
text on the hot path and converts only when a scrip is read; the two must agree.
"""

from collections import Counter
from decimal import Decimal, InvalidOperation

from hypothesis import given, settings
from hypothesis import strategies as st

from tui.market.store import Market
from tui.wire.fields import INT_FIELDS, PERCENT_FIELDS, PRICE_FIELDS
from tui.wire.frames import BAD_NUMBER

KEYS = ["NSE|26000", "PSX|OGDC", "NSE|2885"]
PRICES = sorted(PRICE_FIELDS - {"ti"})
INTS = sorted(INT_FIELDS - {"ls"})


def ref_convert(name, text, pp):
    """The reference conversion: Decimal, exact or nothing.  Only text is a value; a text
    field holds at most 256 characters."""
    if type(text) is not str:
        return None
    if name in PRICE_FIELDS or name in PERCENT_FIELDS:
        scale = 2 if name in PERCENT_FIELDS else pp
        try:
            value = Decimal(text).scaleb(scale)
        except InvalidOperation:
            return None
        if not value.is_finite() or value != value.to_integral_value() or "e" in text.lower():
            return None
        if value < 0 and name not in PERCENT_FIELDS:
            return None
        if text.strip() != text or text.startswith("+") or abs(value) >= 10**15:
            return None
        return int(value)
    if name in INT_FIELDS or name == "pp":
        ok = text.isascii() and text.isdigit() and len(text) <= 18 and int(text) < 10**15
        return int(text) if ok else None
    return text if len(text) <= 256 else None


def ref_fold(messages):
    """One typed dict per key, every message converted as it arrives; bad fields skipped.

    A snapshot replaces the state, but a field it brings bad keeps its last good value (a
    bad value never replaces a good one)."""
    state: dict[str, dict] = {}
    for msg in messages:
        key = f"{msg['e']}|{msg['tk']}"
        if msg["t"] in ("dk", "tk"):
            old = state.get(key, {})
            pp = old.get("pp", 2)
            state[key] = {
                name: old[name]
                for name, text in msg.items()
                if name not in ("t", "pp") and name in old and ref_convert(name, text, pp) is None
            }
        typed = state.setdefault(key, {})
        pp_text = msg.get("pp")
        if pp_text is not None:
            pp = ref_convert("pp", pp_text, 0)
            if pp is not None and pp <= 8 and pp != typed.get("pp", 2):
                typed.clear()  # a new scale: nothing of the old one is kept
            if pp is not None and pp <= 8:
                typed["pp"] = pp
        pp = typed.get("pp", 2)
        for name, text in msg.items():
            if name in ("t", "pp"):
                continue
            value = ref_convert(name, text, pp)
            if value is not None:
                typed[name] = value
    return state


def price_text(draw_pp):
    return st.builds(
        lambda units, pp: str(Decimal(units).scaleb(-pp)) if pp else str(units),
        st.integers(0, 10**9),
        st.just(draw_pp),
    )


good_value = {
    **{name: st.integers(0, 10**7).map(lambda u: f"{u // 100}.{u % 100:02d}") for name in PRICES},
    **{name: st.integers(0, 10**12).map(str) for name in INTS},
    "pc": st.integers(-(10**4), 10**4).map(
        lambda u: ("-" if u < 0 else "") + f"{abs(u) // 100}.{abs(u) % 100:02d}"
    ),
    "ltt": st.sampled_from(["09:15:00", "15:29:59"]),
    "ts": st.sampled_from(["Nifty 50", "OGDC"]),
}
bad_value = st.sampled_from(["abc", "-5", "1.234", "", "1e3", " 7", "+1", "9" * 20, "NaN"])
FIELD_NAMES = sorted(good_value)


@st.composite
def message(draw, bad, bad_values=bad_value, one_in=10):
    """A tk/tf/dk/df of good values; with ``bad``, about one field in ``one_in`` is drawn
    from ``bad_values`` instead."""
    key = draw(st.sampled_from(KEYS))
    exch, tk = key.split("|")
    t = draw(st.sampled_from(["dk", "df", "df", "df", "tf", "tk"]))
    names = draw(st.lists(st.sampled_from(FIELD_NAMES), max_size=12, unique=True))
    msg = {"t": t, "e": exch, "tk": tk}
    if t in ("dk", "tk"):
        msg["pp"] = "2"
    for name in names:
        if bad and draw(st.integers(0, one_in - 1)) == 0:
            msg[name] = draw(bad_values)
        else:
            msg[name] = draw(good_value[name])
    return msg


def market_state(market):
    return {key: dict(scrip.values) for key, scrip in market.scrips.items()}


def strip(state):
    return {k: {n: v for n, v in d.items() if n not in ("e", "tk")} for k, d in state.items()}


@settings(max_examples=300, deadline=None)
@given(st.lists(message(bad=False), max_size=40), st.lists(st.booleans(), min_size=40, max_size=40))
def test_good_sequences_fold_to_the_reference_whenever_read(messages, read_after):
    market = Market()
    for msg, read in zip(messages, read_after):
        market.apply(dict(msg))
        if read:
            market.sweep()
    market.sweep()
    assert strip(market_state(market)) == strip(ref_fold(messages))
    assert market.errors.total == 0


@settings(max_examples=300, deadline=None)
@given(st.lists(message(bad=True), max_size=40))
def test_bad_fields_are_counted_and_keep_the_last_good_value(messages):
    """Read after every message (as a frame that drew each), bad input loses nothing good."""
    market = Market()
    for msg in messages:
        market.apply(dict(msg))
        market.sweep()
    assert strip(market_state(market)) == strip(ref_fold(messages))
    # read after every message, every bad value received is counted once, its field named
    bad = [
        name
        for msg in messages
        for name, text in msg.items()
        if name not in ("t", "e", "tk", "pp") and ref_convert(name, text, 2) is None
    ]
    assert market.errors.by_kind.get(BAD_NUMBER, 0) == len(bad)
    assert market.errors.by_field == Counter(bad)


def test_absent_means_unchanged_and_snapshot_replaces():
    market = Market()
    market.apply(
        {
            "t": "dk",
            "e": "NSE",
            "tk": "26000",
            "pp": "2",
            "lp": "10.00",
            "v": "5",
            "bp1": "9.95",
            "bq1": "10",
            "bo1": "1",
        }
    )
    market.apply({"t": "df", "e": "NSE", "tk": "26000", "lp": "10.05"})
    assert market.flush(1.0) == {"NSE|26000"}
    scrip = market.view("NSE|26000")
    assert (scrip.get("lp"), scrip.get("v"), scrip.bids()[0].qty) == (1005, 5, 10)
    market.apply({"t": "dk", "e": "NSE", "tk": "26000", "pp": "2", "lp": "11.00"})
    market.sweep()
    assert scrip.get("v") is None and scrip.bids() == []  # replaced, not merged


def test_an_emptied_level_is_representable():
    market = Market()
    market.apply(
        {
            "t": "dk",
            "e": "PSX",
            "tk": "OGDC",
            "pp": "2",
            "sp1": "120.50",
            "sq1": "300",
            "so1": "2",
            "sp2": "120.55",
            "sq2": "100",
            "so2": "1",
        }
    )
    market.apply({"t": "df", "e": "PSX", "tk": "OGDC", "sp2": "0", "sq2": "0", "so2": "0"})
    scrip = market.view("PSX|OGDC")
    assert [lv.price for lv in scrip.asks()] == [12050]
    assert scrip.level("s", 2).empty


def test_keys_are_exchange_and_token_never_token_alone():
    market = Market()
    market.apply({"t": "dk", "e": "NSE", "tk": "22", "pp": "2", "lp": "1.00"})
    market.apply({"t": "dk", "e": "BSE", "tk": "22", "pp": "2", "lp": "2.00"})
    assert market.view("NSE|22").get("lp") == 100 and market.view("BSE|22").get("lp") == 200


def test_each_frame_hands_over_the_scrips_that_received_messages_once():
    market = Market()
    market.apply({"t": "dk", "e": "NSE", "tk": "1", "pp": "2", "lp": "1.00"})
    market.apply({"t": "dk", "e": "NSE", "tk": "2", "pp": "2", "lp": "1.00"})
    assert market.flush(5.0) == {"NSE|1", "NSE|2"}
    assert market.updated["NSE|1"] == 5.0
    market.sweep()
    market.apply({"t": "df", "e": "NSE", "tk": "1", "lp": "1.05"})
    market.apply({"t": "df", "e": "NSE", "tk": "2", "lp": "1.00"})  # same value again
    assert market.flush(6.0) == {"NSE|1", "NSE|2"}
    assert market.scrips["NSE|1"].materialize() is True
    assert market.scrips["NSE|2"].materialize() is False  # nothing to redraw
    assert market.flush(7.0) == set()


def test_nothing_is_converted_until_read():
    market = Market()
    market.apply({"t": "dk", "e": "NSE", "tk": "1", "pp": "2", "lp": "1.00", "v": "x"})
    assert market.scrips["NSE|1"].values == {} and market.errors.total == 0
    assert market.view("NSE|1").get("lp") == 100
    assert market.errors.by_kind == {BAD_NUMBER: 1}
    assert market.view("NSE|404") is None


def test_a_new_precision_rescales_every_price():
    market = Market()
    market.apply({"t": "dk", "e": "NSE", "tk": "1", "pp": "2", "lp": "1.50"})
    market.sweep()
    market.apply({"t": "df", "e": "NSE", "tk": "1", "pp": "4"})
    scrip = market.view("NSE|1")
    assert (scrip.pp, scrip.get("lp"), scrip.price_text("lp")) == (4, 15000, "1.5000")
