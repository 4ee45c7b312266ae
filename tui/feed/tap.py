"""The feed client's tap: what a recorder (``tui.record.Recorder``) is told.

The client holds ``tap = None`` unless something records; with none, its hot path is the
same code as without a tap (the read loop picks its frame handler once per connection).
Everything handed to a tap is already free of secrets except received frames, which the
tap scrubs itself if it was given the secrets.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol


class FrameTap(Protocol):
    def received(self, frame: bytes) -> None: ...  # every frame as received, in order
    def sent(self, payload: bytes | str) -> None: ...  # every request sent, secrets removed
    def opened(self, endpoint: str, level: str = "") -> None: ...  # redacted endpoint
    def acknowledged(self) -> None: ...  # the session went live
    def closed(self, code: int | None, reason: str) -> None: ...  # redacted reason


Feed = Callable[[bytes], dict[str, Any] | None]


def tapped(feed: Feed, received: Callable[[bytes], None]) -> Feed:
    """``feed`` that first hands each frame to ``received`` (the read loop's handler while
    recording)."""

    def feed_and_record(frame: bytes) -> dict[str, Any] | None:
        received(frame)
        return feed(frame)

    return feed_and_record
