"""The commands that read a feed without the desk (the headless CLI): ``snapshot`` (one
JSON object), ``tail`` (JSON lines) and ``record`` (every frame into files).

They use the same client and market as the desk, so they check the engine from outside.
Exit codes (docs/CONFIG.md, "Exit codes"): 0 ok; 2 usage (a flag, the config file, the token
source); 3 the credentials or the server's identity: the token refused or unusable, the TLS
certificate not trusted; 4 the feed not reached or not a feed (refused TCP, timeouts, HTTP
404/400 on the upgrade); 5 the session limit reached; 6 (``snapshot``) the feed refused every
scrip asked: the JSON says why.

``snapshot`` asks what the endpoint can give: on L0 the touchline instead of depth (L0 has
none), the order book (``--orders``) only on L2; the JSON's ``notes`` say what it did.
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

from tui.bus.config import BusConfig
from tui.bus.source import NatsSource
from tui.feed import health as hs
from tui.feed.config import FeedConfig
from tui.feed.source import FeedSource, open_source
from tui.market.book import OrderBook
from tui.market.export import scrip_json
from tui.market.store import Market
from tui.wire.frames import DecodeErrors
from tui.wire.prices import format_units, to_units

EXIT_OK, EXIT_USAGE, EXIT_AUTH, EXIT_UNREACHABLE, EXIT_SESSION_LIMIT = 0, 2, 3, 4, 5
#: ``snapshot``: every scrip asked was refused (nothing arrived, the feed said no)
EXIT_REFUSED = 6


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
        "refused": h.refused,
        "last_refusal": h.last_refusal,
        "upstream": h.upstream,  # behind a relay: its upstream's state ("" when direct)
        "dialect": h.dialect,
        "notes": h.notes,  # values the dialect adjusted (firstock-v2: off-grid floats)
        "order_updates": h.order_updates,  # how many came on the socket (kept apart)
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


def _client(
    config: FeedConfig | BusConfig, keys: list[str], orders: bool, depth: bool = True
) -> tuple[FeedSource, Market]:
    market = Market(DecodeErrors(redact=config.secrets()))
    client: FeedSource
    if isinstance(config, BusConfig):  # --source nats://...: the feed from the bus
        client = NatsSource(config, market)
    else:
        client = open_source(config, market)
    client.subscribe(keys, depth=depth, orders=orders)
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
    client: FeedSource,
    seconds: float | None,
    tick: Callable[[], bool] | None = None,
    interval: float = 0.05,
    before_stop: Callable[[], None] | None = None,
) -> None:
    """Run the client until ``seconds`` pass, auth fails, or ``tick`` says stop; then
    ``before_stop()`` (the feed as it is, still running), then stop it."""
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
        if before_stop is not None:
            before_stop()
    finally:
        await client.stop()
        await asyncio.wait([task], timeout=5)


def book_json(book: OrderBook, pp: int) -> dict[str, Any]:
    """A scrip's L2 book: its price levels (``[price, quantity, orders]``, best first, all
    of them) and its orders (``id``, ``side`` B/S, ``price``, ``qty``): bids then asks,
    best price first, in time priority at a price.  ``gap``: a sequence gap since the last
    snapshot (the book may be incomplete)."""
    bids, asks = book.levels(pp, len(book.orders) or 1)
    orders = []
    for oid, (side, price, qty) in book.orders.items():
        units = to_units(price, pp)
        if units is not None:
            orders.append((side, units, oid, qty))
    orders.sort(key=lambda o: (o[0] != "B", -o[1] if o[0] == "B" else o[1]))  # stable: time
    return {
        "bids": [[format_units(lv.price, pp), lv.qty, lv.orders] for lv in bids],
        "asks": [[format_units(lv.price, pp), lv.qty, lv.orders] for lv in asks],
        "orders": [
            {"id": oid, "side": side, "price": format_units(units, pp), "qty": qty}
            for side, units, oid, qty in orders
        ],
        "gap": book.gap,
    }


def plan(level: str, orders: bool) -> tuple[bool, bool, list[str]]:
    """What to ask of an endpoint of ``level``: (depth, orders, notes saying what and why)."""
    depth, notes = level != "L0", []
    if not depth:
        notes.append(
            "L0 feed: no depth at L0; subscribed the touchline instead (the best bid and ask only)"
        )
    if orders and level != "L2":
        notes.append(f"--orders needs an L2 endpoint; this feed is {level or 'of unknown level'}: "
                     "no order book")  # fmt: skip
    return depth, orders and level == "L2", notes


async def snapshot(
    config: FeedConfig | BusConfig,
    keys: list[str],
    seconds: float,
    *,
    orders: bool = False,
    out: TextIO = sys.stdout,
    record: Path | None = None,
) -> int:
    """Listen ``seconds``, print one JSON object: the scrips, their L2 books (``orders``),
    the feed's health as it was then (still running), and notes on what was asked."""
    depth, with_orders, notes = plan(config.level, orders)
    client, market = _client(config, keys, with_orders, depth)
    doc: dict[str, Any] = {}

    def take() -> None:
        market.sweep()
        scrips: dict[str, Any] = {}
        for key in keys:
            scrip = market.view(key)
            if scrip is None:
                continue
            scrips[key] = scrip_json(scrip)
            book = market.books.get(key)
            if with_orders and book is not None:
                scrips[key]["book"] = book_json(book, scrip.pp)
        # order updates (Noren om/ok) that came on the feed socket: the account's, apart
        doc.update(
            scrips=scrips,
            health=health_json(client),
            order_updates=list(getattr(client, "order_updates", ())),
        )

    async with _recording(client, record):
        await _run_until(client, seconds, before_stop=take)
    if not doc:  # stopped before the window ended (auth refused): the feed as it ended
        take()
    missing = [key for key in keys if key not in doc["scrips"]]
    if missing:
        notes.append("no data for " + ", ".join(missing))
    if notes:
        doc["notes"] = notes
    out.write(json.dumps(doc, ensure_ascii=False) + "\n")
    out.flush()
    code = exit_code(client)
    if code == EXIT_OK and not doc["scrips"] and client.health.refused:
        return EXIT_REFUSED
    return code


async def tail(
    config: FeedConfig | BusConfig,
    keys: list[str],
    seconds: float | None,
    *,
    hz: float = 10.0,
    count: int | None = None,
    orders: bool = False,
    out: TextIO = sys.stdout,
    record: Path | None = None,
) -> int:
    """One line per changed scrip per frame: ``{"key", "time", ...scrip}``."""
    depth, with_orders, _ = plan(config.level, orders)  # L0: the touchline, as snapshot
    client, market = _client(config, keys, with_orders, depth)
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
    config: FeedConfig | BusConfig,
    keys: list[str],
    directory: Path,
    seconds: float | None,
    *,
    orders: bool = False,
    out: TextIO = sys.stderr,
    status_every: float = 60.0,
) -> int:
    """``marketdesk record``: the raw feed into ``directory`` until ``seconds`` pass, the
    token is refused, or SIGINT/SIGTERM; a status line every ``status_every`` seconds and a
    JSON summary at the end (on ``out``)."""
    depth, with_orders, _ = plan(config.level, orders)  # L0: the touchline, as tail
    client, _market = _client(config, keys, with_orders, depth)
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
            told(
                f"recording: {h.state}, {recorder.records + 0} records, "
                f"{recorder.bytes_written / 1e6:.1f} MB in {len(recorder.files)} file(s)"
            )
        return stop.is_set()

    try:
        await _run_until(client, seconds, tick, interval=0.2)
    finally:
        recorder.close()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(sig)
    summary = {
        "files": [str(p) for p in recorder.files],
        "records": recorder.records,
        "bytes": recorder.bytes_written,
        "errors": recorder.errors,
        "dropped": recorder.dropped,
        "last_error": recorder.last_error,
        "health": health_json(client),
    }
    out.write(json.dumps(summary, ensure_ascii=False) + "\n")
    out.flush()
    return exit_code(client)
