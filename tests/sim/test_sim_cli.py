"""``marketdesk sim`` options: tokens from flags or the environment, never printed."""

from __future__ import annotations

import argparse
import asyncio
import contextlib

import pytest
from support.sim_client import open_ws, recv_json
from support.waiting import PATIENCE

from tui.sim import cli


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    cli.add_arguments(parser)
    return parser.parse_args(list(argv))


def test_defaults_and_faults() -> None:
    cfg = cli.config_from(parse())
    assert (cfg.host, cfg.port, cfg.seed, cfg.rate) == ("127.0.0.1", 8765, 1, 2000.0)
    assert cfg.tokens == ("demo-token",)
    cfg = cli.config_from(
        parse(
            "--drop-every",
            "5",
            "--stall-every",
            "7",
            "--stall-seconds",
            "2",
            "--garbage-ratio",
            "0.01",
            "--kick-every",
            "60",
            "--seed",
            "9",
        )
    )
    f = cfg.faults
    assert (f.drop_every, f.stall_every, f.stall_seconds, f.garbage_ratio, f.kick_every) == (
        5.0,
        7.0,
        2.0,
        0.01,
        60.0,
    )
    assert cfg.seed == 9
    assert "demo-token" not in repr(cfg)


def test_tokens_from_flags_and_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIM_TOKEN_X", "from-env")
    cfg = cli.config_from(parse("--token", "a", "--token", "b", "--token-env", "SIM_TOKEN_X"))
    assert cfg.tokens == ("a", "b", "from-env")
    monkeypatch.delenv("SIM_TOKEN_X")
    with pytest.raises(ValueError, match="SIM_TOKEN_X"):
        cli.config_from(parse("--token-env", "SIM_TOKEN_X"))


async def test_run_serves_and_prints_the_endpoints_but_not_the_token(
    capsys: pytest.CaptureFixture[str],
) -> None:
    args = parse("--port", "0", "--token", "super-secret-1", "--garbage-ratio", "0.5")
    task = asyncio.create_task(cli.run(args))
    for _ in range(int(PATIENCE / 0.02)):  # a bound for a broken test, not a timing
        await asyncio.sleep(0.02)
        out = capsys.readouterr().out
        if out:
            break
    assert "super-secret-1" not in out
    lines = dict(line.split() for line in out.splitlines() if line.strip().startswith("L"))
    assert set(lines) == {"L0", "L1", "L2"} and lines["L1"].endswith("/2.0/market/feed/full")
    assert "garbage_ratio=0.5" in out
    ws = await open_ws(lines["L1"], token="super-secret-1")
    assert (await recv_json(ws))["s"] == "OK"
    await ws.close()
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def test_run_reports_a_missing_token_variable(capsys: pytest.CaptureFixture[str]) -> None:
    assert await cli.run(parse("--token-env", "NO_SUCH_VARIABLE_HOPEFULLY")) == 2
    assert "NO_SUCH_VARIABLE_HOPEFULLY" in capsys.readouterr().err


def test_a_parent_parsers_single_token_env_is_accepted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIM_TOKEN_Y", "y-token")
    args = parse()
    args.token_env = "SIM_TOKEN_Y"
    assert cli.config_from(args).tokens == ("y-token",)


def test_main_takes_parsed_arguments(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[argparse.Namespace] = []

    async def fake_run(args: argparse.Namespace) -> int:
        seen.append(args)
        return 7

    monkeypatch.setattr(cli, "run", fake_run)
    args = parse("--seed", "4")
    assert cli.main(args) == 7 and seen == [args]
    assert cli.main(["--seed", "5"]) == 7 and seen[-1].seed == 5
