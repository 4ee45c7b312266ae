"""A conflated client's L2 events netted per release (``tui.relay.netting``): the client's
book ends exactly as the relay's, with time priority, no sequence gap, and fewer events."""

from __future__ import annotations

import time
from typing import Any

from tui.market.book import OrderBook
from tui.relay.netting import Touched, lk_is_smaller, moved, net
from tui.sim.market import SimMarket
from tui.wire.frames import DecodeErrors


def apply(book: OrderBook, msg: dict[str, str], errors: DecodeErrors) -> Any:
    """``msg`` into ``book``; the order's price before it, for a modify (as the cache's)."""
    order = book.orders.get(msg.get("oid", ""))
    before = None if order is None or msg.get("ac") != "M" else order[1]
    if msg["t"] == "lk":
        book.snapshot(msg, errors)
    elif msg["t"] == "lo":
        book.event(msg, errors)
    else:
        book.execution(msg, errors)
    return before


def mark(touched: Touched, msg: dict[str, str], before: Any) -> None:
    touched.mark(msg, moved(msg, before), before)


def test_netted_windows_of_the_simulators_order_flow_keep_the_clients_books_exact() -> None:
    market = SimMarket(7, start=time.time())
    start = {
        f"{m['e']}|{m['tk']}": m for m in market.snapshot_messages(orders=True) if m["t"] == "lk"
    }
    relay_errors, client_errors = DecodeErrors(), DecodeErrors()
    relay = {key: OrderBook(key) for key in start}
    client = {key: OrderBook(key) for key in start}
    for key, lk in start.items():
        relay[key].snapshot(lk, relay_errors)
        client[key].snapshot(lk, client_errors)
    upstream = sent = 0
    for window in range(40):
        touched: dict[str, Touched] = {}
        for _ in range(300 * (1 + window % 7)):  # windows of 300..2100 market steps
            for msg in market.step(time.time()).l2:
                key = f"{msg['e']}|{msg['tk']}"
                before = apply(relay[key], msg, relay_errors)
                mark(touched.setdefault(key, Touched()), msg, before)
                upstream += 1
        for key, marks in touched.items():
            mine, theirs = client[key], relay[key]
            events = net(key, marks, theirs, mine.seq, "ft")
            assert [int(m["sq"]) for m in events] == list(
                range(mine.seq + 1, mine.seq + 1 + len(events))
            )
            for msg in events:
                apply(mine, msg, client_errors)
            sent += len(events)
            assert list(mine.orders.items()) == list(theirs.orders.items()), (
                key
            )  # time priority too
    assert relay_errors.total == 0 and client_errors.total == 0, list(client_errors.samples)
    assert not any(book.gap for book in client.values())
    assert upstream > 20_000 and sent < upstream * 0.7, (upstream, sent)


def test_an_order_added_and_gone_in_a_window_vanishes_and_a_modified_one_sends_its_final_state() -> (
    None
):
    errors = DecodeErrors()
    book = OrderBook("X|1")
    book.snapshot(
        {"t": "lk", "e": "X", "tk": "1", "sq": "10", "b": [["o1", "10.00", "5"]], "s": []}, errors
    )
    base = {"e": "X", "tk": "1", "ft": "1"}
    window = [
        {**base, "t": "lo", "sq": "11", "oid": "n1", "sd": "S", "ac": "A", "pr": "11.00", "q": "3"},
        {**base, "t": "lt", "sq": "12", "oid": "n1", "sd": "S", "pr": "11.00", "q": "3", "ag": "B"},
        {**base, "t": "lo", "sq": "13", "oid": "o1", "sd": "B", "ac": "M", "pr": "10.00", "q": "7"},
        {**base, "t": "lo", "sq": "14", "oid": "o1", "sd": "B", "ac": "M", "pr": "9.50", "q": "2"},
        {**base, "t": "lo", "sq": "15", "oid": "n2", "sd": "B", "ac": "A", "pr": "9.00", "q": "1"},
        {**base, "t": "lo", "sq": "16", "oid": "n2", "sd": "B", "ac": "M", "q": "4"},
    ]
    touched = Touched()
    for msg in window:
        mark(touched, msg, apply(book, msg, errors))
    events = net("X|1", touched, book, 10, "1")
    assert [(m["oid"], m["ac"], m["pr"], m["q"], m["sq"]) for m in events] == [
        ("o1", "M", "9.50", "2", "11"),
        ("n2", "A", "9.00", "4", "12"),
    ]
    gone = Touched()
    cancel = {
        **base,
        "t": "lo",
        "sq": "17",
        "oid": "o1",
        "sd": "B",
        "ac": "X",
        "pr": "9.50",
        "q": "2",
    }
    mark(gone, cancel, apply(book, cancel, errors))
    assert [(m["oid"], m["ac"]) for m in net("X|1", gone, book, 12, "1")] == [("o1", "X")]
    assert errors.total == 0
    assert lk_is_smaller(10, book) and not lk_is_smaller(1, book)
