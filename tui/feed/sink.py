"""Where the feed client writes: a small protocol that ``tui.market.store.Market``
satisfies structurally, so the feed never imports the market state (nor the other way).

A relay's cache or a recorder can be a sink too.  Market messages arrive on the hot path
through ``apply`` (called by ``FrameReader.feed`` for every ``tk tf dk df lk lo lt``, its
``t`` already checked); everything else is the client's periodic bookkeeping.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Protocol, runtime_checkable

from tui.wire.frames import DecodeErrors


@runtime_checkable
class MarketSink(Protocol):
    #: bad frames and bad values, counted by kind (the client adds its secrets' redaction)
    errors: DecodeErrors
    #: keys whose L2 sequence jumped: the client resubscribes them for a fresh ``lk`` and
    #: clears the set (all of it after a reconnect, whose replay brings fresh ones anyway)
    resync: set[str]
    #: merge one market message; never raises.  With ``takes_frame`` set on it,
    #: ``FrameReader`` passes the frame too: ``apply(msg, frame)``; with ``frames`` set on
    #: it (``Market.apply``), the client's read loop hands it a socket read's frames in one
    #: call, ``apply.frames(frames, decode, rest)``: decoded with the reader's decoder, the
    #: deltas merged in its own loop, every other frame handed back to ``rest``
    apply: Callable[..., None]

    def expect(self, keys: Iterable[str]) -> None:
        """Keep data for these keys (subscribed); the client calls it once with none when
        it starts, so that data for any key never subscribed is counted, not kept."""

    def forget(self, key: str) -> None:
        """Drop everything held for ``key`` (it is no longer subscribed)."""

    def newest_feed_time(self, newest: float | None) -> float | None:
        """``newest`` or a newer feed time (``ft``, epoch seconds) received since; the
        client's lag figure."""
