"""``--record DIR``: a :class:`~tui.record.Recorder` tapped into a feed client.

The recorder is told the client's redacted endpoint, level, auth mode and subscriptions
(its files' headers) and every secret the client holds (scrubbed from anything recorded).
Each file after the first starts with the state of the client's market then
(:func:`market_frames`: a ``dk``/``tk`` per scrip, an ``lk`` per order book, from the wire
text it holds), so a rotated file replays on its own.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import quote

import msgspec

from tui.feed.client import FeedClient
from tui.feed.source import FeedSource
from tui.market.store import Market
from tui.record.writer import Recorder, feed_recorder
from tui.wire.prices import sort_book_rows
from tui.wire.protocol import encode, split_keys


def attach_recorder(
    client: FeedSource,
    directory: Path | str,
    *,
    on_error: Callable[[str], None] | None = None,
    **options: Any,
) -> Recorder:
    """A started recorder on ``client``'s tap (its first file is open: an unwritable
    directory raises ``OSError`` here).  Close it when the client has stopped.  Only a
    WebSocket client has raw frames to record: another source raises ``OSError``."""
    if not isinstance(client, FeedClient):
        raise OSError(f"a {type(client).__name__} feed has no raw frames to record")
    config = client.config
    subscriptions: dict[str, list[str]] = {}
    for request in client.subscriptions.replay():
        msg = json.loads(encode(request))
        subscriptions.setdefault(msg["t"], []).extend(split_keys(msg.get("k", "")))
    secrets = config.secrets()
    recorder = feed_recorder(
        directory,
        endpoint=config.endpoint,
        level=config.level,
        auth=config.auth,
        secrets=secrets + tuple(quote(s, safe="") for s in secrets),
        subscriptions=subscriptions,
        on_error=on_error,
        dialect=config.dialect,
        snapshot=partial(market_frames, client.market)
        if isinstance(client.market, Market)
        else None,
        **options,
    )
    recorder.start()
    client.tap = recorder
    return recorder


def market_frames(market: Market) -> list[bytes]:
    """The market's state as the snapshots a server would send: the exact wire text of
    every field (a ``dk``, or a ``tk`` for a touchline-only scrip) and every order book by
    order id, best price first and time priority kept, with its last sequence number."""
    encode = msgspec.json.encode
    out: list[bytes] = []
    for scrip in market.scrips.values():
        fields = {**scrip.raw, **scrip.delta}
        fields["t"] = "tk" if fields.get("t") in ("tk", "tf") else "dk"
        out.append(encode(fields))
    for key, book in market.books.items():
        e, _, tk = key.partition("|")
        sides: dict[str, list[list[Any]]] = {"B": [], "S": []}
        for oid, (side, price, qty) in book.orders.items():
            sides.setdefault(side, []).append([oid, price, str(qty)])
        sort_book_rows(sides["B"], sides["S"])
        lk: dict[str, Any] = {"t": "lk", "e": e, "tk": tk, "b": sides["B"], "s": sides["S"]}
        if book.seq >= 0:
            lk["sq"] = str(book.seq)
        out.append(encode(lk))
    return out
