"""AlertBook (what the screen shows) and AlertLog (the JSON-lines file)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tui.market.alerts import DEFAULT_BOUND, SEVERITIES, Alert, AlertBook, AlertLog

T0 = 1_750_652_000.0


def alert(seq: int, key: str = "NSE|2885", rule: str = "jump", severity: str = "warn") -> Alert:
    return Alert(
        seq,
        T0 + seq,
        key,
        key.split("|")[1],
        rule,
        severity,
        f"alert {seq}",
        {"ticks": seq, "price": "1000.05", "ratio": 1.5},
    )


# -- AlertBook -----------------------------------------------------------------------------
def test_the_book_is_newest_first_and_bounded_with_counts() -> None:
    book = AlertBook(bound=3)
    assert book.add(alert(i) for i in range(1, 6)) == [alert(i) for i in range(1, 6)]
    assert [a.seq for a in book.alerts()] == [5, 4, 3]
    assert (len(book), book.total, book.dropped) == (3, 5, 2)
    assert AlertBook().bound == DEFAULT_BOUND
    with pytest.raises(ValueError):
        AlertBook(bound=0)


def test_filters_by_rule_severity_and_acknowledgement() -> None:
    book = AlertBook()
    book.add(
        [
            alert(1, rule="spread", severity="info"),
            alert(2, rule="jump", severity="alert"),
            alert(3, rule="spread", severity="warn"),
            alert(4, rule="stale", severity="warn"),
        ]
    )
    assert [a.seq for a in book.alerts(rules={"spread"})] == [3, 1]
    assert [a.seq for a in book.alerts(min_severity="warn")] == [4, 3, 2]
    assert [a.seq for a in book.alerts(min_severity="alert")] == [2]
    book.ack(3)
    assert [a.seq for a in book.alerts(unacked_only=True)] == [4, 2, 1]
    assert [
        a.seq
        for a in book.alerts(rules={"spread", "stale"}, min_severity="warn", unacked_only=True)
    ] == [4]
    assert book.alerts(rules=set()) == []
    with pytest.raises(ValueError, match="unknown severity 'loud'"):
        book.alerts(min_severity="loud")
    assert SEVERITIES == ("info", "warn", "alert")


def test_ack_and_ack_all() -> None:
    book = AlertBook()
    book.add(alert(i) for i in range(1, 4))
    book.ack(2)
    book.ack(2)
    book.ack(99)  # not held: nothing happens
    assert [book.acked(i) for i in (1, 2, 3)] == [False, True, False]
    book.ack_all()
    assert all(book.acked(i) for i in (1, 2, 3))
    book.add([alert(4)])
    assert not book.acked(4)  # ack_all covers what was there, not what comes after
    assert [a.seq for a in book.alerts(unacked_only=True)] == [4]


def test_mute_a_rule_for_a_scrip() -> None:
    book = AlertBook()
    book.mute("jump", "NSE|2885")
    assert book.muted("jump", "NSE|2885") and not book.muted("jump", "NSE|1594")
    added = book.add([alert(1), alert(2, rule="spread"), alert(3, key="NSE|1594")])
    assert [a.seq for a in added] == [2, 3]
    assert book.total == 2 and book.mutes == frozenset({("jump", "NSE|2885")})
    book.unmute("jump", "NSE|2885")
    assert [a.seq for a in book.add([alert(4)])] == [4]


def test_latest_unacked_alert_by_scrip() -> None:
    a, b = "NSE|2885", "NSE|1594"
    book = AlertBook(bound=4)
    book.add([alert(1, a), alert(2, b), alert(3, a)])
    assert {k: v.seq for k, v in book.latest_by_key().items()} == {a: 3, b: 2}
    book.ack(3)
    assert {k: v.seq for k, v in book.latest_by_key().items()} == {a: 1, b: 2}
    book.ack(1)
    assert {k: v.seq for k, v in book.latest_by_key().items()} == {b: 2}
    book.add([alert(4, a)])
    assert {k: v.seq for k, v in book.latest_by_key().items()} == {a: 4, b: 2}
    book.add([alert(5, a), alert(6, a)])  # the bound drops 1, 2 and 3: b has none left
    assert {k: v.seq for k, v in book.latest_by_key().items()} == {a: 6}
    book.ack_all()
    assert book.latest_by_key() == {}
    latest = book.latest_by_key()
    latest["x"] = alert(9)  # a copy: the book is not changed through it
    assert book.latest_by_key() == {}


def test_latest_by_key_matches_a_full_scan_whatever_happens() -> None:
    book = AlertBook(bound=7)
    keys = ["A|1", "B|2", "C|3"]
    for seq in range(1, 60):
        book.add([alert(seq, keys[seq * 7 % 3])])
        if seq % 4 == 0:
            book.ack(seq - 2)
        if seq % 11 == 0:
            book.ack(seq)
        expected: dict[str, Alert] = {}
        for a in book.alerts():
            if not book.acked(a.seq):
                expected.setdefault(a.key, a)
        assert book.latest_by_key() == expected, seq


# -- Alert.as_json and AlertLog --------------------------------------------------------------
def test_an_alert_as_a_json_record() -> None:
    record = alert(7, severity="alert").as_json()
    assert record == {
        "seq": 7,
        "time": T0 + 7,
        "at": "2025-06-23T04:13:27.000Z",
        "key": "NSE|2885",
        "symbol": "2885",
        "rule": "jump",
        "severity": "alert",
        "text": "alert 7",
        "figures": {"ticks": 7, "price": "1000.05", "ratio": 1.5},
    }


def test_the_log_appends_one_json_line_per_alert_and_makes_its_directory(tmp_path: Path) -> None:
    path = tmp_path / "logs" / "today" / "alerts.jsonl"
    log = AlertLog(path)
    log.write([alert(1), alert(2)])
    log.write([])
    assert [json.loads(line) for line in path.read_text().splitlines()] == [
        alert(1).as_json(),
        alert(2).as_json(),
    ]  # flushed: readable before close
    log.close()
    again = AlertLog(path)
    again.write([alert(3)])
    again.close()
    lines = path.read_text().splitlines()
    assert [json.loads(line)["seq"] for line in lines] == [1, 2, 3]
    assert (log.written, log.errors, log.lost, again.written) == (2, 0, 0, 1)


def test_a_directory_in_the_way_is_counted_not_raised(tmp_path: Path) -> None:
    log = AlertLog(tmp_path)
    log.write([alert(1)])
    log.write([alert(2), alert(3)])
    assert (log.errors, log.lost, log.written) == (2, 3, 0)
    assert log.last_error.startswith(str(tmp_path)) and "directory" in log.last_error.lower()
    blocked = AlertLog(tmp_path / "a-file" / "alerts.jsonl")
    (tmp_path / "a-file").write_text("x")
    blocked.write([alert(1)])
    assert blocked.errors == 1 and blocked.lost == 1
    log.close()


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only directories")
def test_a_read_only_directory_is_counted_not_raised(tmp_path: Path) -> None:
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        log = AlertLog(ro / "alerts.jsonl")
        log.write([alert(1)])
        assert (log.errors, log.lost) == (1, 1) and "ermission" in log.last_error
    finally:
        ro.chmod(0o700)


def test_a_refused_open_is_counted_and_the_next_write_tries_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The read-only case for any user (root ignores directory permissions)."""
    log = AlertLog(tmp_path / "alerts.jsonl")
    real_open = Path.open

    def refuse(self: Path, *args: object, **kwargs: object) -> object:
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "open", refuse)
    log.write([alert(1)])
    assert (log.errors, log.lost, log.last_error) == (
        1,
        1,
        f"{tmp_path / 'alerts.jsonl'}: Permission denied",
    )
    monkeypatch.setattr(Path, "open", real_open)
    log.write([alert(2)])
    log.close()
    assert [json.loads(x)["seq"] for x in (tmp_path / "alerts.jsonl").read_text().splitlines()] == [
        2
    ]


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_a_full_disk_is_counted_not_raised() -> None:
    log = AlertLog(Path("/dev/full"))
    log.write([alert(1)])
    log.write([alert(2)])
    log.close()
    assert (log.errors, log.lost, log.written) == (2, 2, 0)
    assert "No space" in log.last_error
