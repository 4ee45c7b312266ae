"""The headless CLI: ``snapshot`` (one JSON object) and ``tail`` (JSON lines).

Both use the same client and market as the desk, so they check the engine from outside.
Exit codes (docs/CONFIG.md, "Exit codes"): 0 ok; 2 usage (a flag, the config file, the token
source); 3 the credentials or the server's identity: the token refused or unusable, the TLS
certificate not trusted; 4 the feed not reached or not a feed (refused TCP, timeouts, HTTP
404/400 on the upgrade); 5 the session limit reached.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import sys
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from tui.feed import health as hs
from tui.feed.config import FeedConfig
from tui.feed.source import FeedSource, open_source
from tui.market.export import scrip_json
from tui.market.store import Market
from tui.wire.frames import DecodeErrors

EXIT_OK, EXIT_USAGE, EXIT_AUTH, EXIT_UNREACHABLE, EXIT_SESSION_LIMIT = 0, 2, 3, 4, 5


def health_json(client: FeedSource) -> dict[str, Any]:
    h = client.health
    errors = client.market.errors
    return {
        "state": h.state,
        "endpoint": h.endpoint,
        "level": h.level,
        "reconnects": h.reconnects,
        "messages": h.messages,
        "decode_errors": errors.total,
        "decode_errors_by_kind": errors.as_dict(),
        "lag": None if h.lag is None else round(h.lag, 3),
        "last_error": h.last_error,
        "last_error_at": _iso(h.last_error_at),
        "last_error_current": h.error_current,  # false: the feed was live again since
        "failure": h.failure,
    }


def _iso(epoch: float | None) -> str | None:
    if epoch is None:
        return None
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="milliseconds")


def exit_code(client: FeedSource) -> int:
    state = client.health.state
    if state == hs.AUTH_FAILED:
        return EXIT_AUTH
    if state == hs.FAILED:
        return EXIT_UNREACHABLE if client.health.failure == hs.ENDPOINT else EXIT_AUTH
    if client.health.stopped_in == "session-limit":
        return EXIT_SESSION_LIMIT
    if client.health.sessions == 0:  # never acknowledged: never reached the feed
        return EXIT_UNREACHABLE
    return EXIT_OK


def _client(config: FeedConfig, keys: list[str], orders: bool) -> tuple[FeedSource, Market]:
    market = Market(DecodeErrors(redact=(config.token,)))
    client = open_source(config, market)
    client.subscribe(keys, depth=True, orders=orders)
    return client, market


@contextlib.asynccontextmanager
async def _recording(client: FeedSource, record: Path | None) -> AsyncIterator[None]:
    """``--record DIR``: tap the client for the block; close the files after it."""
    if record is None:
        yield
        return
    from tui.recording import attach_recorder

    def told(text: str) -> None:
        print(f"marketdesk: {text}", file=sys.stderr)

    recorder = attach_recorder(client, record, on_error=told)
    try:
        yield
    finally:
        recorder.close()


async def _run_until(
    client: FeedSource, seconds: float | None, tick: Callable[[], bool] | None = None,
    interval: float = 0.05,
) -> None:
    """Run the client until ``seconds`` pass, auth fails, or ``tick`` says stop."""
    task = asyncio.create_task(client.run())
    loop = asyncio.get_running_loop()
    deadline = None if seconds is None else loop.time() + seconds
    try:
        while deadline is None or loop.time() < deadline:
            if client.health.state in hs.VERDICTS or task.done():
                break
            if tick is not None and tick():
                break
            await asyncio.sleep(interval)
    finally:
        await client.stop()
        await asyncio.wait([task], timeout=5)


async def snapshot(
    config: FeedConfig, keys: list[str], seconds: float, *, orders: bool = False,
    out: TextIO = sys.stdout, record: Path | None = None,
) -> int:
    client, market = _client(config, keys, orders)
    async with _recording(client, record):
        await _run_until(client, seconds)
    market.sweep()
    scrips = {key: scrip_json(s) for key in keys if (s := market.view(key)) is not None}
    doc = {"scrips": scrips, "health": health_json(client)}
    out.write(json.dumps(doc, ensure_ascii=False) + "\n")
    out.flush()
    return exit_code(client)


async def tail(
    config: FeedConfig, keys: list[str], seconds: float | None, *, hz: float = 10.0,
    count: int | None = None, orders: bool = False, out: TextIO = sys.stdout,
    record: Path | None = None,
) -> int:
    """One line per changed scrip per frame: ``{"key", "time", ...scrip}``."""
    client, market = _client(config, keys, orders)
    printed = 0

    def frame() -> bool:
        nonlocal printed
        for key in sorted(market.flush(time.monotonic())):
            scrip = market.view(key)
            if scrip is None or not scrip.values:
                continue
            line = {"key": key, "time": round(time.time(), 3), **scrip_json(scrip)}
            out.write(json.dumps(line, ensure_ascii=False) + "\n")
            printed += 1
            if count is not None and printed >= count:
                out.flush()
                return True
        out.flush()
        return False

    try:
        async with _recording(client, record):
            await _run_until(client, seconds, frame, interval=1.0 / hz)
    except BrokenPipeError:  # `marketdesk tail | head` is fine
        return EXIT_OK
    return exit_code(client) if printed == 0 else EXIT_OK


async def record(
    config: FeedConfig, keys: list[str], directory: Path, seconds: float | None, *,
    orders: bool = False, out: TextIO = sys.stderr, status_every: float = 60.0,
) -> int:
    """``marketdesk record``: the raw feed into ``directory`` until ``seconds`` pass, the
    token is refused, or SIGINT/SIGTERM; a status line every ``status_every`` seconds and a
    JSON summary at the end (on ``out``)."""
    client, _market = _client(config, keys, orders)
    from tui.recording import attach_recorder

    def told(text: str) -> None:
        out.write(f"marketdesk: {text}\n")
        out.flush()

    recorder = attach_recorder(client, directory, on_error=told)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    last = time.monotonic()

    def tick() -> bool:
        nonlocal last
        if time.monotonic() - last >= status_every:
            last = time.monotonic()
            h = client.health
            told(f"recording: {h.state}, {recorder.records + 0} records, "
                 f"{recorder.bytes_written / 1e6:.1f} MB in {len(recorder.files)} file(s)")
        return stop.is_set()

    try:
        await _run_until(client, seconds, tick, interval=0.2)
    finally:
        recorder.close()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(sig)
    summary = {
        "files": [str(p) for p in recorder.files], "records": recorder.records,
        "bytes": recorder.bytes_written, "errors": recorder.errors, "dropped": recorder.dropped,
        "last_error": recorder.last_error, "health": health_json(client),
    }
    out.write(json.dumps(summary, ensure_ascii=False) + "\n")
    out.flush()
    return exit_code(client)
