"""The dialects as pure translation (tui/wire/dialects): no socket.

Both directions: what the client sends and how it reads each dialect's frames, what the
simulator's half writes and parses, and the round trip simulator -> dialect -> client
giving the same exact prices as the seed's own messages.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import msgspec
import pytest

from tui.config_file import check_url
from tui.feed.config import FeedConfig
from tui.market.store import Market
from tui.sim.market import SimMarket
from tui.wire import dialects
from tui.wire import protocol as p
from tui.wire.dialects import Credentials
from tui.wire.dialects.firstock import FirstockCodec, percent_text, text_units, units_text
from tui.wire.dialects.noren import NorenCodec, normal_ack
from tui.wire.frames import DecodeErrors

SECRET = "s3cr3t/Key+=="
CREDS = Credentials(token=SECRET, uid="FA12345", auth="header")


def dumps(msg: Any) -> bytes:
    return json.dumps(msg).encode()


# ------------------------------------------------------------------ handshakes and URLs
def test_every_dialect_is_registered_and_unknown_names_are_refused() -> None:
    assert dialects.DIALECTS == ("psx", "noren", "noren-token", "firstock-v2")
    with pytest.raises(ValueError, match="one of: psx, noren"):
        dialects.get("shoonya")
    with pytest.raises(ValueError, match="unknown dialect"):
        FeedConfig(url="ws://h/x", dialect="nope")


def test_first_frames_follow_the_sdks() -> None:
    """NorenRestApiPy 0.0.22 ``__on_open_callback``: c with source API; norenrestapi
    0.0.37: a with accesstoken; the seed's connect mode: c; firstock V2: nothing."""
    noren = json.loads(dialects.get("noren").hello(CREDS) or b"")
    assert noren == {
        "t": "c",
        "uid": "FA12345",
        "actid": "FA12345",
        "susertoken": SECRET,
        "source": "API",
    }
    token = json.loads(dialects.get("noren-token").hello(CREDS) or b"")
    assert token == {
        "t": "a",
        "uid": "FA12345",
        "actid": "FA12345",
        "accesstoken": SECRET,
        "source": "API",
    }
    psx = dialects.get("psx")
    assert psx.hello(CREDS) is None and psx.live_on_upgrade(CREDS)
    connect = Credentials(token=SECRET, uid="FA12345", auth="connect")
    assert json.loads(psx.hello(connect) or b"")["t"] == "c" and not psx.live_on_upgrade(connect)
    assert dialects.get("firstock-v2").hello(CREDS) is None


def test_urls_and_headers_carry_the_secret_where_each_dialect_wants_it() -> None:
    psx = dialects.get("psx")
    assert psx.headers(CREDS) == {"Authorization": f"Bearer {SECRET}"}
    query = Credentials(token=SECRET, uid="u", auth="query")
    assert (
        psx.url("ws://h/2.0/market/feed", query)
        == "ws://h/2.0/market/feed?token=s3cr3t%2FKey%2B%3D%3D"
    )
    assert (
        dialects.get("noren")
        .url("wss://h/NorenWSTP/?t={access_token}", CREDS)
        .endswith("?t=s3cr3t%2FKey%2B%3D%3D")
    )
    v2 = dialects.get("firstock-v2").url("wss://socket.firstock.in/V2/ws", CREDS)
    assert v2 == (
        "wss://socket.firstock.in/V2/ws?userId=FA12345&jKey=s3cr3t%2FKey%2B%3D%3D"
        "&source=developer-api"
    )


def test_secrets_are_redacted_from_what_is_shown() -> None:
    cfg = FeedConfig(url="ws://h/V2/ws", token=SECRET, uid="FA1", dialect="firstock-v2")
    assert SECRET not in cfg.endpoint and "jKey=<redacted>" in cfg.endpoint
    assert SECRET not in repr(cfg) and SECRET not in repr(cfg.credentials)
    assert SECRET not in repr(
        msgspec.json.decode(
            dialects.get("noren-token").hello(CREDS) or b"", type=dialects.noren.TokenConnect
        )
    )
    with pytest.raises(ValueError, match="carries a token"):
        check_url("ws://h/2.0/market/feed?token=abc")
    check_url("ws://h/V2/ws?userId=FA1&jKey=abc")  # accepted, and redacted where shown
    given = FeedConfig(
        url=f"ws://h/V2/ws?userId=FA1&jKey={quote(SECRET, safe='')}",
        uid="FA1",
        dialect="firstock-v2",
    )
    assert given.effective_token == SECRET and SECRET not in given.endpoint


# ------------------------------------------------------------------ Noren client side
@pytest.mark.parametrize(
    ("ack", "ok"),
    [
        ({"t": "ck", "s": "OK"}, True),
        ({"t": "ck", "k": "OK"}, True),  # Firstock's page
        ({"t": "ck", "s": "Ok"}, True),
        ({"t": "ck", "s": " ok "}, True),  # Definedge, Flattrade
        ({"t": "ak", "s": "OK"}, True),
        ({"t": "ck", "s": "NOT_OK", "emsg": "Invalid session key"}, False),
        ({"t": "ck", "k": "Not_Ok"}, False),
        ({"t": "ck", "s": "okay"}, False),
    ],
)
def test_acknowledgements_any_case_of_ok_in_s_or_k(ack: dict[str, Any], ok: bool) -> None:
    normal = normal_ack(ack)
    assert normal["t"] == "ck" and normal["s"] == ("OK" if ok else "NOT_OK")
    assert msgspec.convert(normal, p.ConnectAck).s == normal["s"]
    if not ok:
        assert normal["emsg"]


def test_an_ack_without_a_status_is_a_bad_message_not_a_session() -> None:
    normal = normal_ack({"t": "ck", "uid": "x"})
    with pytest.raises(msgspec.ValidationError):
        msgspec.convert(normal, p.ConnectAck)


def test_noren_codec_reads_hk_and_keeps_order_updates_apart() -> None:
    errors = DecodeErrors()
    market = Market(errors)
    codec = NorenCodec(errors, market.apply, order_level=False)
    got = [
        codec.feed(dumps(m))
        for m in (
            {"t": "hk"},
            {"t": "ok"},
            {"t": "om", "norenordno": "24061800001", "status": "COMPLETE", "tsym": "RELIANCE-EQ"},
            {"t": "dk", "e": "NSE", "tk": "2885", "pp": "2", "lp": "1415.60"},
            {"t": "zz"},
        )
    ]
    controls = [codec.control(m) for m in got if m is not None]
    assert controls == [{"t": "h"}, None, None]
    assert codec.order_updates.by_tag == {"ok": 1, "om": 1}
    assert codec.order_updates.as_list()[1]["norenordno"] == "24061800001"
    assert errors.as_dict() == {"unknown-type": 1}
    assert "NSE|2885" in market.scrips


def test_noren_writes_no_order_level_requests_psx_does() -> None:
    requests: list[msgspec.Struct] = [p.DepthSubscribe(k="NSE|1"), p.OrdersSubscribe(k="NSE|1")]
    noren = NorenCodec(DecodeErrors(), lambda m: None, order_level=False)
    psx = NorenCodec(DecodeErrors(), lambda m: None, order_level=True)
    assert noren.encode(requests) == [b'{"t":"d","k":"NSE|1"}']
    assert len(psx.encode(requests)) == 2


# ------------------------------------------------------------------ Firstock V2 client side
def codec(kind: str = "d", *keys: str) -> tuple[FirstockCodec, list[dict[str, Any]], DecodeErrors]:
    errors = DecodeErrors()
    out: list[dict[str, Any]] = []
    c = FirstockCodec(errors, out.append)
    req: msgspec.Struct = (
        p.DepthSubscribe(k="#".join(keys))
        if kind == "d"
        else p.TouchlineSubscribe(k="#".join(keys))
    )
    assert c.encode([req]) == [
        json.dumps(
            {"action": "subscribe", "tokens": "|".join(k.replace("|", ":") for k in keys)},
            separators=(",", ":"),
        ).encode()
    ]
    return c, out, errors


#: Firstock's document, acknowledgement example (NSE 14366), as a V2 frame
DOC_ACK = {
    "best_buy": [
        {"price": 728, "quantity": 556697, "orders": 31},
        {"price": 727, "quantity": 1500222, "orders": 124},
        {},
        {},
        {},
    ],
    "best_sell": [{"price": 729, "quantity": 241310, "orders": 31}, {}, {}, {}, {}],
    "c_exch_feed_time": "11-Jul-2025 09:17:58",
    "c_exch_seg": "NSE",
    "c_net_change_indicator": 45,
    "c_symbol": "14366",
    "i_average_trade_price": 730,
    "i_buy_depth_size": 5,
    "i_closing_price": 733,
    "close_price": 733,
    "i_feed_time": 1752205678,
    "i_high_price": 733,
    "i_last_trade_quantity": 135,
    "i_last_trade_time": 1752205676,
    "i_last_traded_price": 729,
    "i_low_price": 727,
    "i_lower_circuit_limit": 659,
    "i_net_price_change_from_closing_price": 2,
    "i_open_price": 733,
    "i_seconds_since_boe": 1752205678660009700,
    "i_sell_depth_size": 5,
    "i_total_buy_quantity": 13658079,
    "i_total_open_interest": 2616021929,
    "i_total_sell_quantity": 26150279,
    "i_total_tradevalue": 6467553260,
    "i_upper_circuit_limit": 806,
    "i_usecs": 660009635,
    "i_volume_traded_today": 9770825,
    "i_yearly_high_price": 1767,
    "i_yearly_low_price": 629,
}


def test_the_documents_acknowledgement_becomes_a_dk_in_exact_decimal_text() -> None:
    c, out, errors = codec("d", "NSE|14366")
    assert c.feed(dumps({"NSE:14366": DOC_ACK})) is None
    (dk,) = out
    assert dk["t"] == "dk" and (dk["e"], dk["tk"], dk["pp"]) == ("NSE", "14366", "2")
    assert (dk["lp"], dk["c"], dk["o"], dk["h"], dk["l"], dk["ap"]) == (
        "7.29",
        "7.33",
        "7.33",
        "7.33",
        "7.27",
        "7.30",
    )
    assert (dk["lc"], dk["uc"], dk["52h"], dk["52l"]) == ("6.59", "8.06", "17.67", "6.29")
    assert (dk["v"], dk["ltq"], dk["tbq"], dk["tsq"], dk["toi"]) == (
        "9770825",
        "135",
        "13658079",
        "26150279",
        "2616021929",
    )
    assert (dk["ft"], dk["ltt"], dk["pc"]) == ("1752205678", "1752205676", "-0.55")
    assert (dk["bp1"], dk["bq1"], dk["bo1"], dk["bp2"]) == ("7.28", "556697", "31", "7.27")
    assert (dk["bp3"], dk["bq3"], dk["bo3"], dk["sp2"]) == ("0", "0", "0", "0")  # {} is empty
    assert not errors.total and not c.notes
    market = Market(errors)
    market.apply(dk)
    market.sweep()
    view = market.view("NSE|14366")
    assert view is not None and view.price_text("lp") == "7.29" and not errors.total


def test_later_frames_are_changes_floats_rounded_and_counted_sentinels_ignored() -> None:
    c, out, errors = codec("d", "NSE|26000")
    c.feed(dumps({"NSE:26000": {"i_last_traded_price": 2532065, "i_closing_price": 2511240}}))
    frame = (
        b'{"NSE:26000":{"i_last_traded_price":2532100,"i_upper_circuit_limit":'
        b'125190.00000000001,"i_lower_circuit_limit":125189.99999999999,'
        b'"i_open_interest":9223372036854775808,"i_high_price":0,'
        b'"best_sell":[{"quantity":40,"orders":2},{}],"i_feed_time":1752205678123}}'
    )
    c.feed(frame)
    dk, df = out
    assert dk["t"] == "dk" and dk["lp"] == "25320.65" and dk["pp"] == "2"
    assert df["t"] == "df" and df["lp"] == "25321.00" and df["pc"] == "0.83"
    assert (df["uc"], df["lc"]) == ("1251.90", "1251.90")
    assert c.notes == {"off-grid": 2}
    assert "oi" not in df and "h" not in df  # "no value" and a zero price: unchanged
    assert (df["sq1"], df["so1"], "sp1" in df) == ("40", "2", False)  # a partial level
    assert (df["sp2"], df["sq2"]) == ("0", "0")
    assert df["ft"] == "1752205678"  # milliseconds to seconds
    assert not errors.total


def test_touchline_subscriptions_get_tk_tf_and_the_first_level_only() -> None:
    c, out, _ = codec("t", "NSE|14366")
    c.feed(dumps({"NSE:14366": DOC_ACK}))
    c.feed(dumps({"NSE:14366": {"i_last_traded_price": 730}}))
    assert [m["t"] for m in out] == ["tk", "tf"]
    assert "bp1" in out[0] and "bp2" not in out[0]


def test_bad_values_are_counted_and_the_rest_of_the_frame_kept() -> None:
    c, out, errors = codec("d", "NSE|1")
    c.feed(
        dumps(
            {
                "NSE:1": {
                    "i_last_traded_price": "abc",
                    "i_volume_traded_today": 12.5,
                    "i_closing_price": -5,
                    "best_buy": "x",
                    "i_open_price": 101,
                }
            }
        )
    )
    c.feed(b"not json")
    c.feed(b"[1, 2]")
    c.feed(dumps({"foo": 1}))
    c.feed(dumps({"c_exch_seg": "NSE"}))
    assert out[0]["o"] == "1.01" and "lp" not in out[0]
    assert errors.as_dict() == {
        "bad-number": 3,
        "bad-message": 1,
        "not-json": 1,
        "not-object": 1,
        "unknown-type": 1,
        "missing-key": 1,
    }


def test_several_scrips_in_a_frame_the_flat_form_and_unwanted_keys() -> None:
    c, out, errors = codec("d", "NSE|1", "BSE|500470")
    c.feed(
        dumps(
            {
                "NSE:1": {"i_last_traded_price": 100},
                "BSE:500470": {"i_last_traded_price": 200},
                "NSE:999": {"i_last_traded_price": 300},
            }
        )
    )
    c.feed(dumps({"c_exch_seg": "NSE", "c_symbol": "1", "i_last_traded_price": 101}))
    assert [(m["t"], m["tk"], m["lp"]) for m in out] == [
        ("dk", "1", "1.00"),
        ("dk", "500470", "2.00"),
        ("df", "1", "1.01"),
    ]
    assert c.encode([p.DepthUnsubscribe(k="NSE|1")]) == [
        b'{"action":"unsubscribe","tokens":"NSE:1"}'
    ]
    c.feed(dumps({"NSE:1": {"i_last_traded_price": 102}}))  # in flight: no ack in V2
    assert len(out) == 3 and not errors.total


def test_status_frames_decide_the_session() -> None:
    c, _, errors = codec("d", "NSE|1")
    fail = c.feed(dumps({"status": "failed", "message": "Invalid jKey"}))
    assert fail == {"t": "ck", "s": "NOT_OK", "emsg": "Invalid jKey"}
    limit = c.feed(dumps({"status": "failed", "message": "Maximum sessions limit (3) reached"}))
    assert limit is not None and limit["s"] == "NOT_OK" and "sessions limit" in limit["emsg"]
    plain = c.feed(b"Maximum sessions limit (3) reached")  # the SDKs only look for the words
    assert plain == {"t": "ck", "s": "NOT_OK", "emsg": "Maximum sessions limit (3) reached"}
    assert c.feed(dumps({"status": "success", "message": "Authentication successful"})) == {
        "t": "ck",
        "s": "OK",
    }
    # once live, a failure about a request is a refusal, one about the session ends it
    assert c.feed(dumps({"status": "failed", "message": "invalid token NSE:9"}))["t"] == "er"  # type: ignore[index]
    assert c.feed(dumps({"status": "failed", "message": "session expired"}))["s"] == "NOT_OK"  # type: ignore[index]
    c.feed(dumps({"norenordno": "1", "status": "OPEN"}))
    assert c.order_updates.by_tag == {"order": 1} and not errors.total


def test_exact_number_helpers() -> None:
    assert units_text(2532065) == "25320.65" and units_text(5) == "0.05"
    assert text_units("25320.65") == 2532065 and text_units("7.3") == 730
    assert percent_text(2532065, 2511240) == "0.83" and percent_text(729, 733) == "-0.55"
    assert percent_text(733, 733) == "0.00"


# ------------------------------------------------------------------ server side
def test_server_halves_parse_requests_into_the_seeds() -> None:
    v2 = dialects.get("firstock-v2").server()
    t, req = v2.parse({"action": "subscribe", "tokens": "NSE:26000|BSE:1"})  # type: ignore[misc]
    assert t == "d" and req == p.DepthSubscribe(k="NSE|26000#BSE|1")
    assert isinstance(v2.parse({"action": "dance", "tokens": "NSE:1"}), str)
    token = dialects.get("noren-token").server()
    t, req = token.parse({"t": "a", "uid": "u", "actid": "u", "accesstoken": SECRET})  # type: ignore[misc]
    assert t == "c" and isinstance(req, p.Connect) and req.susertoken == SECRET
    bad = token.parse({"t": "a", "uid": 5, "accesstoken": SECRET})
    assert isinstance(bad, str) and SECRET not in bad
    assert dialects.get("noren").server().parse({"t": "a"}) == "unknown request type 'a'"
    assert dialects.get("noren").server().control(p.Heartbeat()) == b'{"t":"hk"}'
    assert v2.control(p.DepthUnsubscribed(k="NSE|1")) is None  # no unsubscribe ack in V2


@pytest.mark.parametrize("dialect", dialects.DIALECTS)
def test_simulator_to_dialect_to_client_gives_the_seeds_exact_prices(dialect: str) -> None:
    """The simulator's messages through a dialect's server half and client half give the
    same prices, quantities and levels as the seed's messages applied directly."""
    sim = SimMarket(7, None, start=1_750_651_200.0)
    keys = [i.key for i in sim.instruments][:12]
    direct, translated = Market(DecodeErrors()), Market(errors := DecodeErrors())
    d = dialects.get(dialect)
    server, client = d.server(), d.client(errors, translated.apply)
    client.encode([p.DepthSubscribe(k=p.join_keys(keys))])
    msgs = [sim.depth_snapshot(k) for k in keys]
    msgs += [
        st.df for st in sim.run(3000, 1_750_651_200.0, 0.01) if st.df is not None and st.key in keys
    ]
    for msg in msgs:
        direct.apply(msg)
        payload = server.market(msg)
        assert payload is not None
        ctl = client.feed(payload)
        assert ctl is None
    direct.sweep()
    translated.sweep()
    fields = [
        "lp",
        "o",
        "h",
        "l",
        "c",
        "v",
        "ltq",
        "tbq",
        "tsq",
        "lc",
        "uc",
        "52h",
        "52l",
        "ft",
        "toi",
        "pc",
    ] + [f"{s}{i}" for s in ("bp", "bq", "bo", "sp", "sq", "so") for i in range(1, 6)]
    for key in keys:
        a, b = direct.view(key), translated.view(key)
        assert a is not None and b is not None
        for name in fields:
            assert a.get(name) == b.get(name), (dialect, key, name)
    assert not errors.total
