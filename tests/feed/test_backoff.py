"""Backoff: bounds, growth, cap, jitter kinds, determinism by seed, reset."""

import random

import pytest

from tui.feed.backoff import Backoff


def delays(backoff: Backoff, n: int) -> list[float]:
    return [backoff.next() for _ in range(n)]


def test_full_jitter_stays_under_a_doubling_capped_ceiling():
    b = Backoff(0.5, 8.0, jitter="full", rng=random.Random(1))
    for attempt, delay in enumerate(delays(b, 40)):
        assert 0.0 <= delay <= min(8.0, 0.5 * 2**attempt)
    assert b.attempts == 40
    assert b.ceiling() == 8.0


def test_full_jitter_respects_the_floor():
    b = Backoff(0.5, 8.0, jitter="full", rng=random.Random(2), floor=0.1)
    assert min(delays(b, 200)) >= 0.1


def test_same_seed_same_delays_other_seed_other_delays():
    a = delays(Backoff(0.5, 30.0, rng=random.Random(7)), 10)
    b = delays(Backoff(0.5, 30.0, rng=random.Random(7)), 10)
    c = delays(Backoff(0.5, 30.0, rng=random.Random(8)), 10)
    assert a == b != c


def test_no_jitter_doubles_then_caps():
    b = Backoff(0.5, 3.0, jitter="none")
    assert delays(b, 6) == [0.5, 1.0, 2.0, 3.0, 3.0, 3.0]


def test_equal_jitter_with_floor_is_the_session_limit_schedule():
    """First retry exactly at the floor (60 s), then jittered doubling up to 10 min."""
    b = Backoff(60.0, 600.0, jitter="equal", rng=random.Random(3), floor=60.0)
    got = delays(b, 8)
    assert got[0] == 60.0
    assert 60.0 <= got[1] <= 120.0
    assert 120.0 <= got[2] <= 240.0
    assert all(300.0 <= d <= 600.0 for d in got[4:])


def test_decorrelated_jitter_bounds():
    b = Backoff(0.5, 10.0, jitter="decorrelated", rng=random.Random(4))
    previous = 0.5
    for delay in delays(b, 100):
        assert 0.5 <= delay <= min(10.0, previous * 3)
        previous = delay


def test_reset_starts_over():
    b = Backoff(1.0, 100.0, jitter="none")
    delays(b, 5)
    assert b.ceiling() == 32.0
    b.reset()
    assert b.attempts == 0 and b.next() == 1.0


def test_many_attempts_do_not_overflow():
    b = Backoff(0.5, 30.0, jitter="none")
    b.attempts = 5000
    assert b.next() == 30.0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"jitter": "bogus"}, "jitter"), ({"base": 0.0}, "base"), ({"base": 5.0, "cap": 1.0}, "base")],
)
def test_bad_arguments(kwargs, message):
    args = {"base": 0.5, "cap": 1.0} | kwargs
    with pytest.raises(ValueError, match=message):
        Backoff(args.pop("base"), args.pop("cap"), **args)
