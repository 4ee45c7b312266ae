"""The L2 book by order id folds like a plain dict of orders, and aggregates like depth."""

from hypothesis import given, settings
from hypothesis import strategies as st

from tui.market.store import Market
from tui.wire.frames import BAD_MESSAGE, BAD_VALUE

E, TK = "PSX", "OGDC"


@st.composite
def l2_sequence(draw):
    """A consistent stream: an lk, then adds, modifies, cancels and executions."""
    live: dict[str, list] = {}
    msgs = []
    seq = 0
    book_b = [
        [f"b{i}", f"{100 - i}.00", str(draw(st.integers(1, 500)))]
        for i in range(draw(st.integers(0, 4)))
    ]
    book_s = [
        [f"s{i}", f"{101 + i}.00", str(draw(st.integers(1, 500)))]
        for i in range(draw(st.integers(0, 4)))
    ]
    msgs.append({"t": "lk", "e": E, "tk": TK, "sq": str(seq), "b": book_b, "s": book_s})
    for oid, price, qty in book_b:
        live[oid] = ["B", price, int(qty)]
    for oid, price, qty in book_s:
        live[oid] = ["S", price, int(qty)]
    next_id = 0
    for _ in range(draw(st.integers(0, 60))):
        seq += 1
        base = {"e": E, "tk": TK, "sq": str(seq), "ft": "1750652516"}
        op = draw(st.sampled_from(["A", "A", "M", "X", "T"])) if live else "A"
        if op == "A":
            next_id += 1
            oid = f"n{next_id}"
            side = draw(st.sampled_from("BS"))
            price = f"{draw(st.integers(95, 106))}.{draw(st.sampled_from(['00', '05', '50']))}"
            qty = draw(st.integers(1, 1000))
            live[oid] = [side, price, qty]
            msgs.append(
                {**base, "t": "lo", "ac": "A", "oid": oid, "sd": side, "pr": price, "q": str(qty)}
            )
        else:
            oid = draw(st.sampled_from(sorted(live)))
            side, price, qty = live[oid]
            if op == "M":
                qty = draw(st.integers(1, 1000))
                live[oid] = [side, price, qty]
                msgs.append(
                    {
                        **base,
                        "t": "lo",
                        "ac": "M",
                        "oid": oid,
                        "sd": side,
                        "pr": price,
                        "q": str(qty),
                    }
                )
            elif op == "X":
                del live[oid]
                msgs.append(
                    {
                        **base,
                        "t": "lo",
                        "ac": "X",
                        "oid": oid,
                        "sd": side,
                        "pr": price,
                        "q": str(qty),
                    }
                )
            else:
                fill = draw(st.integers(1, qty))
                if fill == qty:
                    del live[oid]
                else:
                    live[oid][2] = qty - fill
                msgs.append(
                    {
                        **base,
                        "t": "lt",
                        "oid": oid,
                        "sd": side,
                        "pr": price,
                        "q": str(fill),
                        "ag": "S" if side == "B" else "B",
                    }
                )
    return msgs, live


@settings(max_examples=200, deadline=None)
@given(l2_sequence())
def test_the_book_by_order_id_matches_a_plain_fold(case):
    msgs, live = case
    market = Market()
    for msg in msgs:
        market.apply(msg)
    book = market.books[f"{E}|{TK}"]
    assert {oid: list(o) for oid, o in book.orders.items()} == live
    assert market.errors.total == 0 and not book.gap
    # aggregation by price equals the obvious sum, best first
    bids, asks = book.levels(pp=2, depth=100)
    want_b: dict[int, list[int]] = {}
    want_s: dict[int, list[int]] = {}
    for side, price, qty in live.values():
        units = round(float(price) * 100)  # test oracle only: two-decimal prices are exact here
        acc = (want_b if side == "B" else want_s).setdefault(units, [0, 0])
        acc[0] += qty
        acc[1] += 1
    assert [(lv.price, lv.qty, lv.orders) for lv in bids] == sorted(
        ((p, q, n) for p, (q, n) in want_b.items()), reverse=True
    )
    assert [(lv.price, lv.qty, lv.orders) for lv in asks] == sorted(
        (p, q, n) for p, (q, n) in want_s.items()
    )
    # the tape has every event, in order
    assert market.tape.total == len(msgs) - 1
    assert [ev.oid for ev in market.tape.events] == [m["oid"] for m in msgs[1:]]


def test_events_for_unknown_orders_are_counted_not_raised():
    market = Market()
    market.apply({"t": "lk", "e": E, "tk": TK, "sq": "0", "b": [], "s": []})
    market.apply(
        {
            "t": "lo",
            "e": E,
            "tk": TK,
            "sq": "1",
            "ac": "X",
            "oid": "ghost",
            "sd": "B",
            "pr": "1",
            "q": "1",
        }
    )
    market.apply(
        {"t": "lt", "e": E, "tk": TK, "sq": "2", "oid": "ghost", "sd": "B", "pr": "1", "q": "1"}
    )
    market.apply(
        {
            "t": "lo",
            "e": E,
            "tk": TK,
            "sq": "3",
            "ac": "Z",
            "oid": "o1",
            "sd": "B",
            "pr": "1",
            "q": "1",
        }
    )
    assert market.errors.by_kind == {BAD_MESSAGE: 2, BAD_VALUE: 1}  # an unknown action
    assert market.errors.by_field == {"ac": 1}
    assert market.books[f"{E}|{TK}"].orders == {}


def test_a_sequence_gap_asks_for_a_resync_until_the_next_snapshot():
    market = Market()
    key = f"{E}|{TK}"
    market.apply({"t": "lk", "e": E, "tk": TK, "sq": "0", "b": [["o1", "10.00", "5"]], "s": []})
    market.apply(
        {
            "t": "lo",
            "e": E,
            "tk": TK,
            "sq": "2",
            "ac": "A",
            "oid": "o2",
            "sd": "B",
            "pr": "10.00",
            "q": "1",
        }
    )
    assert key in market.resync and market.books[key].gap
    market.resync.clear()
    market.apply({"t": "lk", "e": E, "tk": TK, "sq": "7", "b": [], "s": []})
    assert not market.books[key].gap


def test_the_tape_is_bounded_but_counts_what_fell_off():
    market = Market(tape_len=10)
    market.apply({"t": "lk", "e": E, "tk": TK, "sq": "0"})
    for i in range(1, 26):
        market.apply(
            {
                "t": "lo",
                "e": E,
                "tk": TK,
                "sq": str(i),
                "ac": "A",
                "oid": f"o{i}",
                "sd": "B",
                "pr": "1.00",
                "q": "1",
            }
        )
    assert len(market.tape.events) == 10 and market.tape.total == 25
    assert [ev.oid for ev in market.tape.since(20)] == [f"o{i}" for i in range(21, 26)]
    assert len(market.tape.since(0)) == 10, "fell off the end: all that is held"
    assert market.tape.since(25) == []
