"""One relay client's stream: tick by tick, or held and merged per scrip.

A client gets every upstream message in order (*tick by tick*) unless it asked to be
conflated (``?conflate=HZ`` on its URL: at most HZ updates a second per scrip), or it
reads too slowly.  Held messages are merged per scrip as they arrive:

- the price stream (``df``/``tf``, or a fresh ``dk``/``tk``) keeps the latest text of
  each field, one dict per scrip (a snapshot replaces it);
- L2 events (``lo``/``lt``) are kept in order up to :data:`L2_BOUND` per scrip; past
  it (or when the upstream sends a new ``lk``) the scrip is marked for a fresh ``lk``,
  taken from the relay's cache when the backlog is released.

So a held client's memory is bounded by its scrips, never by time.  Releasing turns the
backlog into frames in the connection's queue (after whatever was queued before).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from tui.server.session import Session

#: L2 events held per scrip before they are replaced by one fresh ``lk``
L2_BOUND: Final = 256
#: A tick-by-tick client whose socket holds more than this many unsent bytes is behind:
#: its deltas are held and merged from then on ...
BEHIND_BYTES: Final = 1024 * 1024
#: ... until its socket is down to this many.
CAUGHT_UP_BYTES: Final = 128 * 1024


class Stream:
    """Per-client state of the relay (``Session.stream``)."""

    __slots__ = ("behind", "behinds", "conflated", "held", "held_since", "l2", "merged",
                 "next_at", "period", "prices", "resynced")  # fmt: skip

    def __init__(self, hz: float | None) -> None:
        #: seconds between two releases (None: tick by tick)
        self.period = None if not hz else 1.0 / hz
        self.next_at = 0.0
        #: True while deltas are held: always for a conflated client, and for a
        #: tick-by-tick one while it is behind
        self.held = self.period is not None
        self.behind = False
        #: key -> the merged price-stream message held for it
        self.prices: dict[str, dict[str, Any]] = {}
        #: key -> held L2 messages in order, or None: send a fresh lk instead
        self.l2: dict[str, list[dict[str, Any]] | None] = {}
        # counters (/health, /metrics)
        self.merged = 0  # messages folded into a held one (never sent on their own)
        self.conflated = 0  # held messages released
        self.resynced = 0  # L2 backlogs replaced by a fresh lk
        self.behinds = 0  # times a tick-by-tick client fell behind
        #: clock time since which the backlog has held something (its lag), None: empty
        self.held_since: float | None = None

    @property
    def mode(self) -> str:
        return "tick" if self.period is None else f"conflated {1.0 / self.period:g}/s"

    def hold_price(self, key: str, msg: dict[str, Any]) -> None:
        held = self.prices.get(key)
        if held is None:
            self.prices[key] = dict(msg)
        elif msg["t"][1] == "k":  # a snapshot replaces what was held
            self.prices[key] = dict(msg)
            self.merged += 1
        else:  # a delta keeps the held message's t (a dk stays a dk)
            t = held["t"]
            held.update(msg)
            held["t"] = t
            self.merged += 1

    def hold_l2(self, key: str, msg: dict[str, Any]) -> None:
        events = self.l2.get(key, [])
        if events is None:
            self.merged += 1
            return
        if msg["t"] == "lk" or len(events) >= L2_BOUND:
            self.l2[key] = None
            self.merged += len(events)
            return
        events.append(msg)
        self.l2[key] = events

    def clear(self) -> None:
        """Forget the backlog (a fresh snapshot of everything is on its way)."""
        self.prices.clear()
        self.l2.clear()
        self.held_since = None

    def pending(self) -> bool:
        return bool(self.prices or self.l2)

    def queued_bytes(self, s: Session) -> int:
        return s.transport.get_write_buffer_size() + sum(map(len, s.parts))
