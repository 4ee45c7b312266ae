"""The desk on a recording (``marketdesk --replay``): the replay clock in the header, the
transport keys, the rules on recorded time; the command line's one-line refusals."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from textual.pilot import Pilot

from tui.app import make_app
from tui.market.store import Market
from tui.record import format as fmt
from tui.record.reader import Recording
from tui.replay.source import ReplaySource
from tui.replay.synthetic import synthetic_recording
from tui.replay.timeline import NS
from tui.transport import ReplayDesk
from tui.wire.frames import DecodeErrors

ROOT = Path(__file__).resolve().parents[2]
START = int(datetime(2025, 6, 23, 9, 30, tzinfo=UTC).timestamp()) * NS
KEYS = ["PSX|OGDC", "PSX|HBL", "PSX|LUCK", "PSX|ENGRO"]


@pytest.fixture(scope="module")
def recording(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return synthetic_recording(
        tmp_path_factory.mktemp("rec"), seed=5, rate=400, seconds=30, keys=KEYS, start_ns=START
    )


def desk(files: list[Path], speed: float = 1.0) -> tuple[ReplayDesk, ReplaySource]:
    market = Market(DecodeErrors())
    source = ReplaySource(Recording(files), market, speed=speed)
    app = make_app(
        market,
        source,
        watch=KEYS,
        clock=source.clock,
        wall=source.clock,
        refresh_hz=20,
        tz=UTC,
        app_class=ReplayDesk,
    )
    assert isinstance(app, ReplayDesk)
    return app, source


async def until(pilot: Pilot[None], cond: Callable[[], bool], tries: int = 300) -> None:
    for _ in range(tries):
        if cond():
            return
        await pilot.pause(0.05)
    raise AssertionError("condition not met in time")


async def test_the_replay_desk_shows_recorded_prices_on_the_replay_clock(
    recording: list[Path],
) -> None:
    app, source = desk(recording, speed=2.0)
    async with app.run_test(size=(160, 48)) as pilot:
        await until(
            pilot, lambda: source.frames > 50 and app.watchlist.rows_built.get(KEYS[0], 0) > 1
        )
        app.show_replay_clock()
        assert app.title.startswith("marketdesk replay ▶ 09:30:") and app.title.endswith("· 2x")
        assert START / NS <= source.clock() < START / NS + 30
        app.flush()
        scrip = market_view(source, KEYS[0])
        assert scrip in app.watchlist.render_line(1).text
        assert source.health.state == "live" and "replay of" in source.health.endpoint
        await pilot.press("q")


def market_view(source: ReplaySource, key: str) -> str:
    scrip = source.market.view(key)
    assert scrip is not None
    return scrip.price_text("lp")


async def test_the_transport_keys_pause_change_speed_step_and_jump(recording: list[Path]) -> None:
    app, source = desk(recording)
    async with app.run_test(size=(160, 48)) as pilot:
        await until(pilot, lambda: source.frames > 20)
        await pilot.press("p")
        assert source.paused and "⏸" in app.title
        held = source.clock()
        await pilot.pause(0.3)
        assert source.clock() == held
        await pilot.press("greater_than_sign")
        assert source.speed == 2.0 and app.title.endswith("· 2x")
        await pilot.press("less_than_sign", "less_than_sign")
        assert source.speed == 0.5
        await pilot.press("full_stop")
        await until(pilot, lambda: source.clock() >= held + 1.0)
        assert source.paused
        await pilot.press("at")
        await pilot.press(*"+20s", "enter")
        await until(pilot, lambda: source.clock() == START / NS + 20)
        await pilot.press("at")
        await pilot.press(*"09:30:05", "enter")  # back: rebuilt from the start
        await until(pilot, lambda: source.clock() == START / NS + 5)
        assert source.position_ns <= START + 5 * NS
        app.show_replay_clock()
        assert "09:30:05.0" in app.title
        await pilot.press("question_mark")
        await pilot.pause(0.1)
        assert app.help_sections()[0][0] == "Replay"
        assert "Jump&#160;to&#160;time" in app.export_screenshot()  # drawn in the help
        await pilot.press("escape", "q")


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tui", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        env=dict(os.environ),
        check=False,
    )


def test_replay_refuses_what_it_cannot_read_in_one_line(
    tmp_path: Path, recording: list[Path]
) -> None:
    future = tmp_path / "future.mdrec"
    future.write_bytes(
        fmt.Header(program="x", endpoint="ws://x/", started_ns=1, format=99).encode()
    )
    cases = {
        str(tmp_path): "is a directory",
        str(tmp_path / "nope.mdrec"): "no such file",
        str(future): "recording format 99 is newer",
    }
    for path, expected in cases.items():
        done = run_cli("--replay", path)
        assert done.returncode == 2 and expected in done.stderr, done.stderr
        assert done.stderr.strip().count("\n") == 0
    for path, expected in cases.items():  # the replay server says the same
        done = run_cli("replay", path, "--port", "0")
        assert done.returncode == 2 and expected in done.stderr, done.stderr
        assert done.stderr.strip().count("\n") == 0
    done = run_cli("--replay", str(recording[0]), "--from", "half past nine")
    assert done.returncode == 2 and "not a time" in done.stderr
    done = run_cli("--replay", str(recording[0]), "--speed", "fast")
    assert done.returncode == 2 and "not a speed" in done.stderr


def test_the_replay_desk_paused_at_a_moment(snap_compare, recording: list[Path]) -> None:  # type: ignore[no-untyped-def]
    """The header's replay clock and speed, the recorded prices at 09:30:12, paused."""
    from dataclasses import replace

    from support.market_fixtures import FixedHealth

    market = Market(DecodeErrors())
    source = ReplaySource(Recording(recording), market, speed=1.0, start_ns=START + 12 * NS)
    source.pause()
    figures = replace(
        FixedHealth(),
        state="paused",
        endpoint="replay of " + recording[0].name,
        subscriptions=len(KEYS),
        connections_used=0,
    )
    app = make_app(
        market,
        source,
        watch=KEYS,
        clock=source.clock,
        wall=source.clock,
        refresh_hz=0,
        tz=UTC,
        health=lambda: figures,
        app_class=ReplayDesk,
    )

    async def settled(pilot: Pilot[None]) -> None:
        await until(pilot, lambda: source.health.state == "paused" and source.frames > 0)
        app.flush()
        assert isinstance(app, ReplayDesk)
        app.show_replay_clock()
        app.update_health()

    assert snap_compare(app, terminal_size=(160, 48), run_before=settled)


def test_the_replay_source_is_a_feed_source(recording: list[Path]) -> None:
    from tui.feed.source import FeedSource

    assert isinstance(ReplaySource(Recording(recording), Market(DecodeErrors())), FeedSource)
