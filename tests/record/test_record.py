"""The recording format, the recorder and the reader (tui/record): round trip, rotation,
the once-a-second block, and what is left after a kill, a torn file, damage or a write
error."""

from __future__ import annotations

import errno
import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import BinaryIO

import pytest

from tui.record import format as fmt
from tui.record.reader import Recording, RecordingFile
from tui.record.writer import HOUR_NS, NS, Recorder

T0 = 1_764_349_200 * NS  # 2025-11-28 17:00:00 UTC, on the hour


class FakeNs:
    def __init__(self, start: int = T0 + 5 * NS) -> None:
        self.now = start

    def __call__(self) -> int:
        return self.now


def header(**kw: object) -> fmt.Header:
    fields: dict[str, object] = {
        "program": "marketdesk test",
        "endpoint": "ws://127.0.0.1:1/2.0/market/feed/full",
        "started_ns": 0,
        "level": "L1",
        "auth": "header",
        "subscriptions": {"d": ["NSE|26000"]},
    }
    fields.update(kw)
    return fmt.Header(**fields)  # type: ignore[arg-type]


def frame(i: int) -> bytes:
    return b'{"t":"df","e":"NSE","tk":"26000","lp":"%d.05","ft":"1750651200"}' % i


def record_n(rec: Recorder, clock: FakeNs, n: int, step_ns: int = NS // 1000) -> None:
    for i in range(n):
        clock.now += step_ns
        rec.received(frame(i))


def test_every_kind_of_record_round_trips_with_its_receive_time(tmp_path: Path) -> None:
    clock = FakeNs()
    rec = Recorder(tmp_path, header(), clock_ns=clock)
    rec.start()
    rec.opened("ws://127.0.0.1:1/2.0/market/feed/full", "L1")
    clock.now += 1
    rec.received(b'{"t":"ck","s":"OK","uid":"SIM1"}')
    rec.acknowledged()
    rec.sent(b'{"t":"d","k":"NSE|26000#NSE|2885"}')
    record_n(rec, clock, 3)
    rec.closed(1000, "client stopped")
    rec.close()
    (path,) = rec.files
    f = RecordingFile(path)
    assert f.header.program == "marketdesk test" and f.header.level == "L1"
    assert f.header.format == fmt.VERSION and f.header.part == 1
    got = list(f.records())
    kinds = [fmt.KINDS[k] for k, _, _ in got]
    assert kinds == [
        "opened",
        "received",
        "acknowledged",
        "sent",
        "received",
        "received",
        "received",
        "closed",
    ]
    assert got[4][2] == frame(0) and got[6][2] == frame(2)
    assert [ns for _, ns, _ in got] == sorted(ns for _, ns, _ in got)
    assert got[-1][2] == b'{"code":1000,"reason":"client stopped"}'
    assert f.damage is None
    assert rec.subscriptions["d"] == {"NSE|26000", "NSE|2885"}


def test_a_block_is_written_once_a_second_while_the_file_stays_open(tmp_path: Path) -> None:
    clock = FakeNs()
    rec = Recorder(tmp_path, header(), clock_ns=clock)
    rec.start()
    record_n(rec, clock, 10)  # 10 ms of frames: buffered
    assert rec.records == 0
    clock.now += NS  # the next frame past the deadline writes the block (then joins the next)
    rec.received(frame(10))
    assert rec.records == 10
    assert len(list(RecordingFile(rec.files[0]).records())) == 10  # readable while open
    rec.close()


def test_files_rotate_by_size_and_each_starts_with_the_subscriptions_in_force(
    tmp_path: Path,
) -> None:
    clock = FakeNs()
    rec = Recorder(tmp_path, header(), clock_ns=clock, max_bytes=2000)
    rec.start()
    rec.sent(b'{"t":"d","k":"NSE|2885"}')
    for _ in range(5):
        record_n(rec, clock, 200)
        clock.now += NS
        rec.flush()
    rec.close()
    assert len(rec.files) >= 3
    files = [RecordingFile(p) for p in rec.files]
    assert [f.header.part for f in files] == list(range(1, len(files) + 1))
    assert files[-1].header.subscriptions == {"d": ["NSE|26000", "NSE|2885"]}
    assert sorted(p.name for p in rec.files) == [p.name for p in rec.files]
    frames = [p for k, _, p in Recording(reversed(rec.files)).records() if k == fmt.RECEIVED]
    assert frames == [frame(i) for _ in range(5) for i in range(200)]


def test_files_rotate_at_the_top_of_the_hour(tmp_path: Path) -> None:
    clock = FakeNs(T0 + HOUR_NS - 3 * NS)
    rec = Recorder(tmp_path, header(), clock_ns=clock)
    rec.start()
    record_n(rec, clock, 5)
    clock.now = T0 + HOUR_NS + NS // 2
    rec.received(frame(5))  # past the deadline: written, and the hour has turned
    record_n(rec, clock, 3)
    rec.close()
    assert len(rec.files) == 2
    first, second = RecordingFile(rec.files[0]), RecordingFile(rec.files[1])
    assert second.header.started_ns >= T0 + HOUR_NS
    assert [p for _, _, p in first.records()] == [frame(i) for i in range(5)]
    assert [p for _, _, p in second.records()] == [frame(i) for i in (5, 0, 1, 2)]


def test_unsubscribing_is_tracked_for_the_next_header(tmp_path: Path) -> None:
    rec = Recorder(tmp_path, header(), clock_ns=FakeNs())
    rec.sent('{"t":"l","k":"NSE|2885#NSE|1594"}')
    rec.sent('{"t":"ud","k":"NSE|26000"}')
    rec.sent('{"t":"ul","k":"NSE|1594"}')
    rec.sent("not json")
    assert rec.subscriptions == {"d": set(), "l": {"NSE|2885"}}


def test_the_subscriptions_of_a_recording_include_those_sent_after_its_header(
    tmp_path: Path,
) -> None:
    rec = Recorder(tmp_path, header(subscriptions={}), clock_ns=FakeNs())
    rec.start()
    rec.sent(b'{"t":"d","k":"NSE|1#NSE|2"}')
    rec.sent(b'{"t":"l","k":"NSE|2"}')
    rec.close()
    assert Recording(rec.files).subscriptions() == {"d": ["NSE|1", "NSE|2"], "l": ["NSE|2"]}


def write_session(directory: Path, blocks: int = 4, per_block: int = 50) -> Path:
    clock = FakeNs()
    rec = Recorder(directory, header(), clock_ns=clock)
    rec.start()
    for _ in range(blocks):
        record_n(rec, clock, per_block)
        rec.flush()
    rec.close()
    return rec.files[0]


def test_a_truncated_file_replays_up_to_the_tear_and_says_where(tmp_path: Path) -> None:
    path = write_session(tmp_path)
    whole = path.read_bytes()
    path.write_bytes(whole[:-7])  # the last block torn
    f = RecordingFile(path)
    got = list(f.records())
    assert len(got) == 150
    assert f.damage is not None
    assert "truncated (an incomplete block) at byte" in f.damage and "block 4" in f.damage
    assert "150 records read before it" in f.damage and str(path) in f.damage
    offset = int(f.damage.split("at byte ")[1].split()[0])
    assert 0 < offset < len(whole)


def test_a_damaged_block_stops_the_replay_there(tmp_path: Path) -> None:
    path = write_session(tmp_path)
    f0 = RecordingFile(path)
    offsets = [off for off, _, _, _ in f0.blocks()]
    data = bytearray(path.read_bytes())
    data[offsets[2] + fmt.BLOCK.size + 10] ^= 0xFF  # one flipped byte in block 3
    path.write_bytes(bytes(data))
    f = RecordingFile(path)
    assert len(list(f.records())) == 100
    assert f.damage is not None and "checksum mismatch" in f.damage
    assert f"at byte {offsets[2]} (block 3, after" in f.damage


def test_a_file_cut_inside_its_header_or_of_another_kind_is_refused_in_one_line(
    tmp_path: Path,
) -> None:
    path = write_session(tmp_path)
    cut = tmp_path / "cut.mdrec"
    cut.write_bytes(path.read_bytes()[:20])
    with pytest.raises(fmt.FormatError, match="truncated before its header ended"):
        RecordingFile(cut)
    other = tmp_path / "notes.txt"
    other.write_text("hello\n")
    with pytest.raises(fmt.FormatError, match="not a marketdesk recording") as err:
        RecordingFile(other)
    assert "\n" not in str(err.value)


def test_a_newer_format_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    path = tmp_path / "future.mdrec"
    path.write_bytes(header(format=fmt.VERSION + 1).encode())
    with pytest.raises(fmt.FormatError) as err:
        RecordingFile(path)
    text = str(err.value)
    assert f"recording format {fmt.VERSION + 1} is newer" in text and "upgrade marketdesk" in text


def test_a_path_that_is_not_a_file_gets_one_line(tmp_path: Path) -> None:
    with pytest.raises(fmt.FormatError, match="is a directory") as err:
        RecordingFile(tmp_path)
    assert "\n" not in str(err.value)
    with pytest.raises(fmt.FormatError, match="no such file"):
        RecordingFile(tmp_path / "missing.mdrec")


class FullDisk(io.BytesIO):
    """A file that takes ``room`` bytes, then fails as a full disk does (ENOSPC)."""

    def __init__(self, path: Path, room: int) -> None:
        super().__init__()
        self.path, self.room = path, room

    def write(self, data: bytes) -> int:  # type: ignore[override]
        if self.tell() + len(data) > self.room:
            super().write(data[: max(self.room - self.tell(), 0)])  # a partial write
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return super().write(data)

    def close(self) -> None:
        self.path.write_bytes(self.getvalue())
        super().close()


def test_a_write_error_keeps_every_earlier_block_and_retries_later(tmp_path: Path) -> None:
    clock = FakeNs()
    told: list[str] = []
    opened: list[Path] = []

    def opener(path: Path) -> BinaryIO:
        opened.append(path)
        room = 1500 if len(opened) == 1 else 1 << 20
        return FullDisk(path, room)  # type: ignore[return-value]

    rec = Recorder(
        tmp_path, header(), clock_ns=clock, opener=opener, on_error=told.append, retry_after=10.0
    )
    rec.start()
    for _ in range(6):  # about 400 compressed bytes a block: the fourth or so fails
        record_n(rec, clock, 40)
        rec.flush()
    assert rec.errors == 1 and rec.dropped > 0
    assert told == ["recording failed: OSError: No space left on device"]
    first = RecordingFile(opened[0])
    kept = list(first.records())
    assert first.damage is None  # cut back to its last whole block
    assert len(kept) == rec.records and len(kept) % 40 == 0 and kept
    clock.now += 11 * NS  # after retry_after: a new file, which works
    record_n(rec, clock, 40)
    rec.close()
    assert len(opened) == 2 and RecordingFile(opened[1]).header.part == 2
    assert len(list(RecordingFile(opened[1]).records())) == 40


WRITER = """
import sys, time
from tui.record import format as fmt
from tui.record.writer import Recorder
rec = Recorder(sys.argv[1], fmt.Header(program="t", endpoint="ws://x/", started_ns=0))
rec.start()
i = 0
while True:
    rec.received(b'{"t":"df","e":"NSE","tk":"1","lp":"%d"}' % i)
    i += 1
    if i == 3000:
        print("going", flush=True)
    time.sleep(0.0002)
"""


@pytest.mark.slow
def test_a_writer_killed_mid_stream_leaves_everything_but_the_last_second(tmp_path: Path) -> None:
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(tmp_path)], stdout=subprocess.PIPE)
    try:
        assert proc.stdout is not None and proc.stdout.readline() == b"going\n"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:  # at least two blocks on disk
            files = list(tmp_path.glob("*.mdrec"))
            if files and len(list(RecordingFile(files[0]).blocks())) >= 2:
                break
            time.sleep(0.05)
        killed_ns = time.time_ns()
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(10)
    (path,) = tmp_path.glob("*.mdrec")
    f = RecordingFile(path)
    got = list(f.records())
    assert f.damage is None or "truncated" in f.damage
    assert [p for _, _, p in got] == [
        b'{"t":"df","e":"NSE","tk":"1","lp":"%d"}' % i for i in range(len(got))
    ]  # an exact prefix
    # at most the last second (plus the scheduler's slack on a busy machine) is lost
    assert killed_ns - got[-1][1] < 3 * NS
