"""SimMarket without a socket: determinism, the tick grid, and streams a client can trust."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest
from support.sim_client import FT0, Replica

from tui.sim.market import SimMarket, clock_text
from tui.sim.quote import DEPTH_ONLY
from tui.wire import protocol as p
from tui.wire.fields import PRICE_FIELDS
from tui.wire.prices import to_units

STRUCTS: dict[str, type[msgspec.Struct]] = {
    "dk": p.DepthAck,
    "df": p.DepthFeed,
    "tk": p.TouchlineAck,
    "tf": p.TouchlineFeed,
    "lk": p.OrderBookAck,
    "lo": p.OrderEvent,
    "lt": p.Execution,
}
STEPS = 20_000


def _stream(m: SimMarket, n: int, t0: float = FT0, dt: float = 0.001) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for st in m.run(n, t0, dt):
        out.extend(st.l2)
        if st.df is not None:
            out.append(st.df)
    return out


def _without_time(msgs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in msg.items() if k not in ("ft", "ltt")} for msg in msgs]


def test_same_seed_same_market_whatever_the_clock() -> None:
    a = _stream(SimMarket(7), 3000, dt=0.001)
    b = _stream(SimMarket(7, start=FT0 + 999), 3000, t0=FT0 + 5000, dt=0.37)
    assert _without_time(a) == _without_time(b)
    assert _stream(SimMarket(7), 3000) == a  # and exactly the same with the same times
    assert _without_time(_stream(SimMarket(8), 3000)) != _without_time(a)


def test_snapshots_are_deterministic() -> None:
    a, b = SimMarket(3), SimMarket(3)
    a.run(500, FT0)
    b.run(500, FT0)
    for key in a.keys:
        assert a.depth_snapshot(key) == b.depth_snapshot(key)
        if a.scrips[key].book is not None:
            assert a.book_snapshot(key) == b.book_snapshot(key)


def test_prices_on_the_tick_grid_and_inside_the_circuit_limits() -> None:
    m = SimMarket(11)
    msgs = [m.depth_snapshot(k) for k in m.keys] + _stream(m, STEPS)
    checked = 0
    for msg in msgs:
        s = m.scrips[f"{msg['e']}|{msg['tk']}"]
        tick, lc, uc = s.inst.tick, s.inst.lc, s.inst.uc
        prices = [
            (n, v) for n, v in msg.items() if n in PRICE_FIELDS and n not in ("ap", "52h", "52l")
        ]
        if msg["t"] in ("lo", "lt"):
            prices.append(("pr", msg["pr"]))
        for name, text in prices:
            units = to_units(text, s.inst.pp)
            assert units is not None, (name, text)
            if units == 0 and name[:2] in ("bp", "sp"):
                continue  # an emptied level
            assert units % tick == 0, (msg, name)
            if name not in ("ti", "c"):
                assert lc <= units <= uc, (msg, name)
            checked += 1
    assert checked > STEPS


def test_depth_is_the_l2_book_at_every_step() -> None:
    m = SimMarket(5)
    replica = Replica()
    stocks = [k for k in m.keys if m.scrips[k].book is not None]
    for key in stocks:
        replica.apply(m.depth_snapshot(key))
        replica.apply(m.book_snapshot(key))
        replica.check_depth(key)
    trades = 0
    for st in m.run(STEPS, FT0, 0.001):
        for msg in st.l2:
            replica.apply(msg)
            trades += msg["t"] == "lt"
        if st.df is not None:
            replica.apply(st.df)
        if st.key in replica.market.books:
            replica.check_depth(st.key)
    assert trades > 1000
    assert replica.errors.total == 0, replica.errors.samples
    for key in stocks:  # the whole book, not only the top: lk again equals what we rebuilt
        book = replica.market.books[key]
        lk = m.book_snapshot(key)
        assert {
            o: [sd, pr, int(q)]
            for sd, rows in (("B", lk["b"]), ("S", lk["s"]))
            for o, pr, q in rows
        } == book.orders
        assert int(lk["sq"]) == book.seq


def test_snapshot_then_deltas_rebuild_the_picture_with_only_changed_fields() -> None:
    m = SimMarket(2)
    depth = {k: m.depth_snapshot(k) for k in m.keys}
    touch = {k: m.touch_snapshot(k) for k in m.keys}
    for st in m.run(STEPS, FT0, 0.003):
        for delta, state in ((st.df, depth[st.key]), (st.tf, touch[st.key])):
            if delta is None:
                continue
            assert delta["e"] + "|" + delta["tk"] == st.key
            for name, text in delta.items():
                if name not in ("t", "e", "tk"):
                    assert state.get(name) != text, (name, text)  # changed, or it is not sent
            state.update({k: v for k, v in delta.items() if k != "t"})
        if st.tf is not None:
            assert not DEPTH_ONLY & st.tf.keys()
    for key in m.keys:
        assert depth[key] | {"t": "dk"} == m.depth_snapshot(key)
        assert touch[key] | {"t": "tk"} == m.touch_snapshot(key)


def test_every_message_fits_its_protocol_struct_and_is_all_strings() -> None:
    m = SimMarket(4)
    msgs: list[dict[str, Any]] = []
    for key in m.keys:
        msgs += [m.depth_snapshot(key), m.touch_snapshot(key)]
        if m.scrips[key].book is not None:
            msgs.append(m.book_snapshot(key))
    for st in m.run(3000, FT0):
        msgs += st.l2 + [d for d in (st.df, st.tf) if d is not None]
    seen = set()
    for msg in msgs:
        msgspec.convert(msg, STRUCTS[msg["t"]])
        seen.add(msg["t"])
        for name, value in msg.items():
            if name not in ("b", "s"):
                assert type(value) is str, (name, value)
    assert seen == set(STRUCTS)


def test_l2_sequence_rises_by_one_per_scrip() -> None:
    m = SimMarket(9)
    last = {k: int(m.book_snapshot(k)["sq"]) for k in m.keys if m.scrips[k].book is not None}
    for st in m.run(5000, FT0):
        for msg in st.l2:
            assert int(msg["sq"]) == last[st.key] + 1
            last[st.key] += 1
    assert all(int(m.book_snapshot(k)["sq"]) == sq for k, sq in last.items())


def test_stock_snapshot_fields_and_trade_statistics() -> None:
    m = SimMarket(1)
    m.run(STEPS, FT0, 0.001)
    dk = m.depth_snapshot("NSE|2885")
    expected = {
        "t",
        "e",
        "tk",
        "ts",
        "pp",
        "ti",
        "ls",
        "lp",
        "pc",
        "v",
        "o",
        "h",
        "l",
        "c",
        "ap",
        "ltt",
        "ltq",
        "tbq",
        "tsq",
        "lc",
        "uc",
        "52h",
        "52l",
        "ft",
    }
    expected |= {f"{s}{w}{i}" for s in "bs" for w in "pqo" for i in range(1, 6)}
    assert set(dk) == expected
    assert dk["ts"] == "RELIANCE" and dk["ti"] == "0.05" and dk["pp"] == "2"
    lp, h, l, ap = (to_units(dk[n], 2) for n in ("lp", "h", "l", "ap"))
    assert l <= lp <= h and l <= ap <= h  # type: ignore[operator]
    close = to_units(dk["c"], 2)
    assert dk["pc"] == f"{(lp - close) * 100 / close:.2f}".replace("-0.00", "0.00")  # type: ignore[operator]
    assert to_units(dk["bp1"], 2) < to_units(dk["sp1"], 2)  # type: ignore[operator]
    assert int(dk["v"]) > 0 and len(dk["ltt"]) == 8


def test_indices_follow_their_members_and_have_no_book() -> None:
    m = SimMarket(1)
    before = m.depth_snapshot("NSE|26000")
    assert before["ts"] == "Nifty 50" and "toi" in before
    assert not any(name.startswith(("bp", "sp", "bq")) for name in before)
    m.run(STEPS, FT0, 0.001)
    after = m.depth_snapshot("NSE|26000")
    assert after["lp"] != before["lp"]
    assert "PSX|KSE100" in m.keys and m.scrips["PSX|KSE100"].book is None
    with pytest.raises(AssertionError):
        m.book_snapshot("NSE|26000")


def test_clock_text_uses_the_exchange_zone() -> None:
    assert clock_text(int(FT0), 5 * 3600) == "09:00:00"
    assert clock_text(int(FT0) + 61, 5 * 3600 + 1800) == "09:31:01"


def test_snapshot_messages_fill_a_client_market() -> None:
    m = SimMarket(6)
    replica = Replica()
    for msg in m.snapshot_messages(orders=True):
        replica.apply(msg)
    for st in m.run(2000, FT0):
        for msg in [*st.l2, *([st.df] if st.df else [])]:
            replica.apply(msg)
    assert set(replica.market.scrips) == set(m.keys)
    assert set(replica.market.books) == {k for k in m.keys if m.scrips[k].book is not None}
    for key in replica.market.books:
        replica.check_depth(key)
    touch = m.snapshot_messages(["NSE|2885"], depth=False)
    assert [t["t"] for t in touch] == ["tk"] and "bp2" not in touch[0]
