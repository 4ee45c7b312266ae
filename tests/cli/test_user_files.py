"""Files the user names: a FIFO, a directory, a device or a binary file is refused in one
line (never waited on, never a traceback), and an unusable log directory does not stop
the desk.  The CLI runs as a subprocess with a timeout: a FIFO that is opened for reading
would hang it, and the timeout would say so."""

from __future__ import annotations

import argparse
import logging
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_cli import run_cli

from tui import cli
from tui.secrets import TokenError, resolve_token
from tui.userfiles import BadFile, read_text
from tui.watchlist_store import Watchlists, WatchlistStore

ENDS_WITHIN = 60.0  # a bound for a hung command, never reached when green
FEED = ["--url", "ws://127.0.0.1:1/2.0/market/feed/full"]


def in_a_thread(call, *args):
    """``call(*args)`` with a bound: a hang fails the test instead of the whole suite."""
    result: list[object] = []
    thread = threading.Thread(target=lambda: result.append(_outcome(call, *args)), daemon=True)
    thread.start()
    thread.join(ENDS_WITHIN)
    assert result, f"{call.__name__} hung"
    return result[0]


def _outcome(call, *args):
    try:
        return call(*args)
    except Exception as exc:  # noqa: BLE001 - the test looks at it
        return exc


@pytest.fixture
def fifo(tmp_path: Path) -> Path:
    path = tmp_path / "named-pipe"
    os.mkfifo(path, 0o600)
    return path


def test_read_text_refuses_what_is_not_a_regular_file(fifo, tmp_path):
    for path, kind in ((fifo, "a FIFO (named pipe)"), (tmp_path, "a directory"),
                       (Path("/dev/null"), "a character device")):  # fmt: skip
        error = in_a_thread(read_text, path)
        assert isinstance(error, BadFile) and error.reason == f"is {kind}, not a file"
    with pytest.raises(FileNotFoundError):
        read_text(tmp_path / "absent")


def test_a_fifo_token_file_is_refused_in_one_line(fifo):
    out = run_cli(
        "snapshot",
        *FEED,
        "--token-file",
        str(fifo),
        "--scrip",
        "NSE|1",
        token=None,
        timeout=ENDS_WITHIN,
    )
    assert out.returncode == 2
    assert out.stderr == f"marketdesk: token file {fifo}: is a FIFO (named pipe), not a file\n"


def test_a_directory_as_token_file_is_one_line_without_chmod_advice(tmp_path):
    out = run_cli(
        "snapshot",
        *FEED,
        "--token-file",
        str(tmp_path),
        "--scrip",
        "NSE|1",
        token=None,
        timeout=ENDS_WITHIN,
    )
    assert out.returncode == 2
    assert out.stderr == f"marketdesk: token file {tmp_path}: is a directory, not a file\n"


def test_a_binary_token_file_gets_a_clear_message(tmp_path):
    token = tmp_path / "token"
    token.write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe")
    token.chmod(0o600)
    with pytest.raises(TokenError) as info:
        resolve_token(file=str(token))
    assert (
        str(info.value) == f"token file {token} is not text (UTF-8 expected): is it the right file?"
    )


def test_the_mode_is_checked_on_the_file_that_was_opened(tmp_path):
    token = tmp_path / "token"
    token.write_text("abc-Zq9\n")
    token.chmod(0o640)
    with pytest.raises(TokenError, match="chmod 600"):
        resolve_token(file=str(token))


def test_a_fifo_config_file_is_refused_in_one_line(fifo):
    out = run_cli("--config", str(fifo), "config", timeout=ENDS_WITHIN)
    assert out.returncode == 2
    assert out.stderr == f"marketdesk: {fifo}: is a FIFO (named pipe), not a file\n"


def test_a_fifo_as_the_default_config_file_is_refused_too(tmp_path, monkeypatch):
    os.mkfifo(tmp_path / "config.toml")
    monkeypatch.setenv("MARKETDESK_CONFIG_DIR", str(tmp_path))
    out = run_cli("config", timeout=ENDS_WITHIN)
    assert out.returncode == 2 and "config.toml: is a FIFO (named pipe), not a file" in out.stderr


def test_a_fifo_watchlists_file_gives_the_default_lists_and_refuses_saves(fifo):
    store = WatchlistStore(fifo)
    default = Watchlists([("Main", ["NSE|26000"])])
    loaded, message = in_a_thread(store.load, default)
    assert loaded == default
    assert message.startswith(f"{fifo} could not be read (is a FIFO (named pipe), not a file)")
    with pytest.raises(PermissionError):
        store.save(default)  # and the FIFO is left alone
    assert fifo.exists() and not fifo.is_file()


# ------------------------------------------------------------------------------ the log


@pytest.fixture
def root_logging() -> Iterator[None]:
    """``cli._logging`` reconfigures the root logger: put it back for the other tests."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    for handler in root.handlers:
        if handler not in handlers:
            handler.close()
    root.handlers[:], root.level = handlers, level


def desk_args() -> argparse.Namespace:
    return argparse.Namespace(command=None, verbose=False)


def test_an_unusable_log_directory_falls_back_and_says_where(tmp_path, monkeypatch, root_logging):
    not_a_dir = tmp_path / "state"
    not_a_dir.write_text("a file where the state directory should be")
    monkeypatch.setenv("XDG_STATE_HOME", str(not_a_dir))
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    notice = cli._logging(desk_args())
    fallback = tmp_path / f"marketdesk-{os.getuid()}.log"
    assert notice is not None and notice.endswith(f"logging to {fallback}")
    assert str(not_a_dir / "marketdesk" / "log" / "marketdesk.log") in notice
    logging.getLogger("marketdesk.test").warning("written to the fallback")
    for handler in logging.getLogger().handlers:
        handler.flush()
    assert "written to the fallback" in fallback.read_text()


def test_with_nowhere_to_log_the_desk_still_starts(tmp_path, monkeypatch, root_logging):
    (tmp_path / "state").write_text("")
    os.mkfifo(tmp_path / f"marketdesk-{os.getuid()}.log")  # the fallback is not a file either
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    notice = in_a_thread(cli._logging, desk_args())
    assert isinstance(notice, str) and notice.endswith("logging is off")


def test_the_desk_gets_the_notice(tmp_path, monkeypatch, root_logging):
    """``marketdesk`` with a broken log directory goes on to start the desk, notice in hand."""
    (tmp_path / "state").write_text("")
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    started: dict[str, object] = {}

    def run_desk(args, cfg, token, watch, **kw):
        started.update(kw)
        return 0

    monkeypatch.setattr("tui.launch.run_desk", run_desk)
    assert cli.main([]) == 0
    notices = started["notices"]
    assert isinstance(notices, list) and len(notices) == 1 and "logging to" in notices[0]
