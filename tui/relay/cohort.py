"""Conflated clients of one rate, held once and released together: a cohort.

A conflated client's backlog does not depend on the client, only on its rate: every
upstream message is merged into one backlog per rate (``?conflate=HZ``), not one per
client, and each member is sent, at the cohort's release, what of it it subscribes
(price frames framed once for all members; L2 events netted once per scrip and
numbered per member, docs/PROTOCOL.md "The relay").  So an upstream message costs the
relay one merge per rate in use, whatever the number of clients: fan-out costs clients x
scrips x rate, not clients x upstream rate.

A member that joins a scrip, or whose connection had to resync, between two releases
gets that scrip's book as one fresh ``lk`` at the next (the cohort's netting starts from
the book at the previous release, which it may not have had); one whose socket is still
full at a release misses it and gets fresh snapshots of everything at the next it takes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tui.relay.stream import Stream

if TYPE_CHECKING:
    from tui.server.session import Session


class Cohort:
    __slots__ = ("backlog", "members", "next_at", "period", "stamp")

    def __init__(self, period: float) -> None:
        #: seconds between two releases
        self.period = period
        self.next_at = 0.0
        #: the merged backlog of every member (a conflated Stream: prices and L2 netting)
        self.backlog = Stream(1.0 / period)
        self.members: set[Session] = set()
        #: the upstream message last merged (a message reaches the fan-out once per
        #: member that subscribes it: merged for the first, skipped for the others)
        self.stamp: object = None
