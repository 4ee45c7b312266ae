"""``--record DIR``: a :class:`~tui.record.Recorder` tapped into a feed client.

The recorder is told the client's redacted endpoint, level, auth mode and subscriptions
(its files' headers) and every secret the client holds (scrubbed from anything recorded).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

from tui.feed.client import FeedClient
from tui.feed.source import FeedSource
from tui.record.writer import Recorder, feed_recorder
from tui.wire.protocol import encode, split_keys


def attach_recorder(
    client: FeedSource, directory: Path | str, *, on_error: Callable[[str], None] | None = None,
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
        directory, endpoint=config.endpoint, level=config.level, auth=config.auth,
        secrets=secrets + tuple(quote(s, safe="") for s in secrets),
        subscriptions=subscriptions, on_error=on_error, **options,
    )
    recorder.start()
    client.tap = recorder
    return recorder
