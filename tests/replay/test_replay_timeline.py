"""Replay times and speeds as a person types them, and the replay clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from tui.replay.timeline import NS, ReplayClock, faster, parse_speed, parse_time, slower, speed_text

START = int(datetime(2026, 11, 28, 9, 15, 0, tzinfo=UTC).timestamp()) * NS


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("+90", 90),
        ("+90s", 90),
        ("+1m30s", 90),
        ("+2h", 7200),
        ("+1h2m3.5s", 3723.5),
        ("+0", 0),
    ],
)
def test_offsets_count_from_the_start(text: str, seconds: float) -> None:
    assert parse_time(text, START) == START + int(seconds * NS)


def test_a_time_of_day_is_on_the_recordings_date_in_the_given_zone() -> None:
    assert parse_time("10:42", START, UTC) == START + (87 * 60) * NS
    assert parse_time("10:42:30.25", START, UTC) == START + int((87 * 60 + 30.25) * NS)
    karachi = timezone(timedelta(hours=5))
    assert parse_time("14:15", START, karachi) == START  # 09:15 UTC
    assert parse_time("00:30", START + 20 * 3600 * NS, UTC) == START + (15 * 3600 + 15 * 60) * NS


def test_iso_times_keep_their_zone() -> None:
    assert parse_time("2026-11-28T10:00:00Z", START) == START + 45 * 60 * NS
    assert parse_time("2026-11-28T15:00:00+05:00", START) == START + 45 * 60 * NS


@pytest.mark.parametrize("text", ["half past nine", "25:00", "10:61", "+", "+-5", "", "tomorrow"])
def test_what_is_not_a_time_is_refused_with_the_forms_it_takes(text: str) -> None:
    with pytest.raises(ValueError, match="not a time"):
        parse_time(text, START, UTC)


def test_speeds() -> None:
    assert parse_speed("0") == 0 and parse_speed("10x") == 10 and parse_speed(" 0.5 ") == 0.5
    for bad in ("fast", "-1", "nan", "1e9"):
        with pytest.raises(ValueError):
            parse_speed(bad)
    assert [speed_text(s) for s in (0, 1, 0.25)] == ["max", "1x", "0.25x"]
    assert faster(1) == 2 and faster(100) == 0 and faster(0) == 0
    assert slower(0) == 100 and slower(0.1) == 0.1 and slower(2) == 1


def test_the_replay_clock_runs_at_its_speed_and_stands_still_when_paused() -> None:
    mono = [100.0]
    clock = ReplayClock(START, speed=2.0, monotonic=lambda: mono[0])
    mono[0] += 1.5
    assert clock.now_ns() == START + 3 * NS
    assert clock.due_in(START + 5 * NS) == pytest.approx(1.0)
    clock.pause()
    mono[0] += 10
    assert clock.now_ns() == START + 3 * NS and clock.due_in(START + 5 * NS) == float("inf")
    clock.pause(False)
    clock.set_speed(0.5)
    mono[0] += 2
    assert clock.now_ns() == START + 4 * NS
    clock.set(START)
    assert clock.now_ns() == START
