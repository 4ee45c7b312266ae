"""One relay client's stream: tick by tick, or held and merged per scrip.

A client gets every upstream message in order (*tick by tick*) unless it asked to be
conflated (``?conflate=HZ`` on its URL: at most HZ updates a second per scrip), or it
reads too slowly.  Held messages are merged per scrip as they arrive:

- the price stream (``df``/``tf``, or a fresh ``dk``/``tk``) keeps the latest text of
  each field, one dict per scrip (a snapshot replaces it);
- L2 events (``lo``/``lt``): a conflated client's only mark the orders they touch
  (``tui.relay.netting``: netted against the relay's book at the release); a
  tick-by-tick client that fell behind keeps them in order.  Past :data:`L2_BOUND`
  (events in order, or orders touched) or when the upstream sends a new ``lk``, the
  scrip is marked for a fresh ``lk``, taken from the relay's cache at the release.

So a held client's memory is bounded by its scrips, never by time.  Releasing turns the
backlog into frames in the connection's queue (after whatever was queued before).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from tui.relay.netting import Touched

if TYPE_CHECKING:
    from tui.server.session import Session

#: L2 events held (or orders touched) per scrip before they are replaced by one fresh ``lk``
L2_BOUND: Final = 256
#: A tick-by-tick client whose socket holds more than this many unsent bytes is behind:
#: its deltas are held and merged from then on ...
BEHIND_BYTES: Final = 1024 * 1024
#: ... until its socket is down to this many.
CAUGHT_UP_BYTES: Final = 128 * 1024


class Stream:
    """Per-client state of the relay (``Session.stream``)."""

    __slots__ = ("behind", "behinds", "cohort", "conflated", "fresh", "held", "held_since", "l2",
                 "l2_sq", "merged", "next_at", "period", "prices", "resynced", "stale")  # fmt: skip

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
        #: key -> held L2 messages in order (tick by tick, behind) or the orders they
        #: touched (conflated), or None: send a fresh lk instead
        self.l2: dict[str, list[dict[str, Any]] | Touched | None] = {}
        #: key -> the sq of the last L2 message this client got (conflated: netted
        #: events are numbered on from it); None: it has no book yet (an lk first)
        self.l2_sq: dict[str, int | None] = {}
        #: a conflated client: its cohort (``tui.relay.cohort``), which holds its backlog
        self.cohort: Any = None
        #: conflated: scrips whose book it got since the cohort's last release (an lk
        #: at the next: the netting starts before it) ...
        self.fresh: set[str] = set()
        #: ... and True when it missed a release (its socket was full): fresh snapshots
        self.stale = False
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

    def hold_l2(self, key: str, msg: dict[str, Any], moved: bool, before: Any) -> None:
        l2 = self.l2
        if key in l2:
            held = l2[key]
            if held is None:
                self.merged += 1
                return
        else:  # the first since the last release
            held = l2[key] = [] if self.period is None else Touched()
        if msg["t"] == "lk":
            l2[key] = None
            self.merged += len(held) if isinstance(held, list) else held.events
        elif isinstance(held, list):  # tick by tick, behind: every event, in order
            if len(held) >= L2_BOUND:
                l2[key] = None
                self.merged += len(held) + 1
            else:
                held.append(msg)
        elif len(held.orders) >= L2_BOUND:
            l2[key] = None
            self.merged += held.events + 1
        else:
            held.mark(msg, moved, before)

    def clear(self) -> None:
        """Forget the backlog (a fresh snapshot of everything is on its way)."""
        self.prices.clear()
        self.l2.clear()
        self.held_since = None

    def pending(self) -> bool:
        return bool(self.prices or self.l2)

    def queued_bytes(self, s: Session) -> int:
        return s.transport.get_write_buffer_size() + sum(map(len, s.parts))

    @staticmethod
    def queued_over(s: Session, limit: int) -> bool:
        """Whether ``s`` has more than ``limit`` bytes unsent (the socket's buffer, then its
        queue, counted only as far as needed: a slow client's queue can be long)."""
        size = s.transport.get_write_buffer_size()
        if size > limit:
            return True
        for part in s.parts:
            size += len(part)
            if size > limit:
                return True
        return False
