"""The bus's parts without a server: subject escaping, the publisher's full states, the
consumer's splice and the relay's interest table."""

from __future__ import annotations

import string

import pytest
from hypothesis import given
from hypothesis import strategies as st
from support.bus_consumer import state_of, stream

from tui.bus import subjects as sj
from tui.bus.interest import Interest
from tui.bus.splice import Splice
from tui.bus.state import L1State, L2State
from tui.market.store import Market
from tui.sim.market import SimMarket
from tui.wire.frames import DecodeErrors

SUBJECT_SAFE = set(string.ascii_letters + string.digits + "-_")


@given(st.text(min_size=1, max_size=20))
def test_escape_is_reversible_and_subject_safe(text: str) -> None:
    token = sj.escape(text)
    assert set(token) <= SUBJECT_SAFE
    assert sj.unescape(token) == text


def test_key_subjects() -> None:
    assert sj.key_subject("md", "NSE|22") == "md.NSE.22"
    assert sj.key_subject("md", "NSE|M&M.EQ") == "md.NSE.M_26M_2EEQ"
    assert sj.key_subject("md2", "MCX|a b*>") == "md2.MCX.a_20b_2A_3E"
    assert sj.key_subject("md", "X|a_b") == "md.X.a_5Fb"
    for key in ("NSE|22", "NSE|M&M.EQ", "BSE|ÄÖ 1", "X|_5F"):
        assert sj.subject_key(sj.key_subject("md", key)) == key
    for bad in ("NSE22", "|22", "NSE|"):
        with pytest.raises(ValueError):
            sj.key_subject("md", bad)
    for bad in ("md.NSE", "md.NS.E.1", "md.A_ZZ.1", "md.A.b*"):
        with pytest.raises(ValueError):
            sj.subject_key(bad)


def test_full_states_rebuild_the_market_exactly() -> None:
    """A market fed only the publisher's full states equals one fed every message."""
    sim = SimMarket(seed=3)
    keys = sim.keys
    direct = Market(DecodeErrors())
    l1 = {k: L1State() for k in keys}
    l2 = {k: L2State() for k in keys}
    msgs = sim.snapshot_messages(keys, orders=True) + list(stream(sim, 3000))
    for msg in msgs:
        direct.apply(msg)
        key = msg["e"] + "|" + msg["tk"]
        if msg["t"] in ("lk", "lo", "lt"):
            assert l2[key].apply(msg)
        else:
            l1[key].apply(msg)
    rebuilt = Market(DecodeErrors())
    for key in keys:
        rebuilt.apply(l1[key].full())
        full = l2[key].full()
        if full is not None:
            rebuilt.apply(full)
    assert direct.errors.total == 0 and rebuilt.errors.total == 0
    for key in keys:
        assert state_of(direct, key) == state_of(rebuilt, key), key
    # the lk lists the best price first
    book = next(l2[k].full() for k in keys if l2[k].full() and l2[k].full()["b"])  # type: ignore[index]
    assert book is not None
    prices = [float(r[1]) for r in book["b"]]
    assert prices == sorted(prices, reverse=True)


def test_a_book_that_cannot_follow_withholds_its_state_until_the_next_lk() -> None:
    book = L2State()
    assert book.full() is None  # nothing yet
    assert not book.apply({"t": "lo", "e": "X", "tk": "1", "sq": "1", "oid": "9", "ac": "X"})
    lk = {"t": "lk", "e": "X", "tk": "1", "ft": "1", "sq": "5", "b": [["1", "10.00", "5"]], "s": []}
    assert book.apply(lk)
    assert not book.apply({"t": "lt", "e": "X", "tk": "1", "sq": "6", "oid": "1", "q": "x"})
    assert book.full() is None
    assert book.apply(lk) and book.full() is not None


def _batch(i: int, epoch: str = "e1") -> tuple[str, int, list[dict[str, str]]]:
    return epoch, i, [{"t": "df", "e": "X", "tk": "1", "v": str(i)}]


def _state(i: int, epoch: str = "e1") -> dict[str, str]:
    return {"t": "dk", "e": "X", "tk": "1", "v": str(i), "pp": "2"}


def test_splice_applies_in_order_and_detects_a_gap() -> None:
    applied: list[str] = []
    sp = Splice("X|1", lambda m: applied.append(m["v"]))
    assert not sp.batch(*_batch(1))  # no state yet: buffered, no sync to lose
    assert not sp.synced and applied == []
    assert sp.state("e1", 1, _state(1))  # state at 1: the buffered 1 is not replayed
    assert applied == ["1"]
    assert not sp.batch(*_batch(2)) and not sp.batch(*_batch(2))  # a duplicate is ignored
    assert applied == ["1", "2"]
    assert sp.batch(*_batch(4))  # 3 is lost: out of sync, a state is wanted
    assert not sp.synced and sp.gaps == 1
    assert not sp.batch(*_batch(5))  # buffered
    assert applied == ["1", "2"]
    assert sp.state("e1", 3, _state(3))  # a state at 3: then 4 and 5 from the buffer
    assert applied == ["1", "2", "3", "4", "5"] and sp.synced and sp.seq == 5


def test_splice_waits_for_a_state_that_covers_the_buffer() -> None:
    applied: list[str] = []
    sp = Splice("X|1", lambda m: applied.append(m["v"]))
    sp.batch(*_batch(7))
    sp.batch(*_batch(8))
    assert not sp.state("e1", 5, _state(5))  # too old: 6 is missing
    assert not sp.synced
    assert sp.state("e1", 8, _state(8))
    assert sp.synced and sp.seq == 8 and applied[-1] == "8"
    assert sp.state("e1", 6, _state(6)) and applied[-1] == "8"  # an older state is ignored


def test_splice_new_epoch_and_fresh_start() -> None:
    applied: list[str] = []
    sp = Splice("X|1", lambda m: applied.append(m["t"] + m["v"]))
    sp.state("e1", 10, _state(10))
    # the publisher restarted: its sequence begins again with a full message
    assert not sp.batch("e2", 1, [_state(1), {"t": "df", "e": "X", "tk": "1", "v": "2"}])
    assert sp.synced and sp.epoch == "e2" and sp.seq == 1 and applied[-2:] == ["dk1", "df2"]
    # a delta of yet another run without its start: out of sync
    assert sp.batch("e3", 5, [{"t": "df", "e": "X", "tk": "1", "v": "9"}])


def test_interest_is_reference_counted_with_a_grace_period() -> None:
    now = [0.0]
    subs: list[tuple[list[str], bool]] = []
    unsubs: list[list[str]] = []
    interest = Interest(
        lambda k, o: subs.append((k, o)), unsubs.append, grace=5.0, clock=lambda: now[0]
    )
    interest.want("a", ["N|1", "N|2"], ["N|2"])
    assert sorted(subs) == [(["N|1"], False), (["N|2"], True)]
    interest.want("b", ["N|1"])
    assert len(subs) == 2  # already upstream
    interest.want("a", ["N|2"], ["N|2"])  # a lets N|1 go; b still holds it
    interest.tick()
    assert unsubs == [] and interest.refcount("N|1") == 1
    interest.bye("b")  # nobody wants N|1 now: dropped after the grace period
    now[0] = 4.9
    interest.tick()
    assert unsubs == []
    interest.want("c", ["N|1"])  # wanted again within the grace: never left upstream
    interest.bye("c")
    now[0] = 9.8
    interest.tick()
    assert unsubs == []
    now[0] = 10.0
    interest.tick()
    assert unsubs == [["N|1"]]
    # a consumer that stops renewing loses its interest when its lease runs out
    interest.want("d", ["N|3"], lease=2.0)
    now[0] = 12.5
    interest.tick()
    assert "d" not in interest.consumers
    now[0] = 17.6
    interest.tick()
    assert unsubs[-1] == ["N|3"]
    # a relay serves what it accepts; the pinned interest never expires
    interest.accept = lambda key: key.startswith("N|")
    interest.pin(["N|9", "B|1"])
    assert interest.refused >= 1 and "B|1" not in interest.active
    now[0] = 1e6
    interest.tick()
    assert "N|9" in interest.active


def test_splice_ignores_a_finished_run() -> None:
    """A late message or a late store read of a publisher run that is over never wins
    over the run followed now; one of a later run does."""
    order = {"e1": 0, "e2": 1}
    applied: list[str] = []
    sp = Splice(
        "X|1",
        lambda m: applied.append(m["t"] + m["v"]),
        newer=lambda a, b: order.get(a, -1) > order.get(b, -1),
    )
    assert not sp.batch("e2", 1, [_state(1)])  # following e2 from its start
    assert not sp.batch("e1", 99, [{"t": "df", "e": "X", "tk": "1", "v": "old"}])
    assert sp.state("e1", 50, _state(50))  # a stale read of the store: ignored
    assert sp.synced and sp.epoch == "e2" and applied == ["dk1"]
    # out of sync on e2: a state of e1 cannot lead to the waiting e2 deltas
    assert sp.batch("e2", 3, [{"t": "df", "e": "X", "tk": "1", "v": "3"}])
    assert not sp.state("e1", 60, _state(60))
    assert sp.state("e2", 2, _state(2)) and applied[-2:] == ["dk2", "df3"]
    # a later run (e3, heard after e2) takes over with its state
    order["e3"] = 2
    assert sp.state("e3", 7, _state(7)) and sp.epoch == "e3" and applied[-1] == "dk7"


def test_a_stale_state_at_join_is_not_a_loss() -> None:
    """A late joiner's store state may be older than the live stream it subscribed to
    (states are throttled): caught up with a fresh state, counted apart from losses."""
    sp = Splice("X|1", lambda m: None)
    assert sp.state("e1", 29, _state(29))  # the store's state
    assert sp.batch(*_batch(43))  # the first live batch: 30..42 were before the subscription
    assert sp.stale == 1 and sp.gaps == 0
    assert sp.state("e1", 43, _state(43)) and sp.synced
    assert not sp.batch(*_batch(44))
    assert sp.batch(*_batch(46))  # following the live stream now: this one is a loss
    assert sp.gaps == 1 and sp.stale == 1
