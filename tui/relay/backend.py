"""The relay as the market behind the protocol server (``tui.server.backend.Backend``).

- ``refusal``: access levels up to the upstream's (a client at L2 behind an L1 upstream
  gets depth but not order level), malformed keys, and what the upstream refused before
  (an unknown scrip: the feed's own ``er`` is passed on to the clients who asked).
- ``snapshot``: from the cache (``tui.relay.cache``); None while the upstream has not
  sent the first one yet (it is forwarded to every subscriber when it comes).
- ``watch``/``unwatch``: reference counting of the upstream's subscriptions
  (``tui.relay.upstream.Interest``).
- ``turn``: new upstream subscriptions in one batch; backlogs released (``tui.relay.fanout``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from tui.relay.cache import RelayCache
from tui.relay.fanout import Fanout
from tui.relay.upstream import Interest
from tui.server.backend import KINDS
from tui.server.frames import json_frame

if TYPE_CHECKING:
    from tui.server.server import ProtocolServer

_RANK: Final = {"L0": 0, "L1": 1, "L2": 2}
#: refusals remembered (an unknown scrip asked again is refused at once), then forgotten
_REFUSALS_KEPT: Final = 10_000


class RelayBackend:
    def __init__(self, cache: RelayCache, interest: Interest, fanout: Fanout, level: str) -> None:
        self.cache = cache
        self.interest = interest
        self.fanout = fanout
        #: the upstream's access level: the most any client gets
        self.level = level or "L2"
        self.server: ProtocolServer | None = None
        #: (kind, key) -> the upstream's er text
        self.refused: dict[tuple[str, str], str] = {}

    # -- Backend --------------------------------------------------------------------------
    def refusal(self, level: str, kind: str, key: str) -> str:
        e, bar, tk = key.partition("|")
        if not (e and bar and tk) or key != key.strip() or len(key) > 64:
            return "malformed scrip key (EXCH|TOKEN)"
        level = min(level, self.level, key=_RANK.__getitem__)
        if kind == "d" and level == "L0":
            return "depth not available at L0" + self._capped(level)
        if kind == "l" and level != "L2":
            return "order-level data needs L2" + self._capped(level)
        return self.refused.get((kind, key), "")

    def _capped(self, level: str) -> str:
        return f" (the relay's upstream is {self.level})" if level == self.level != "L2" else ""

    def snapshot(self, kind: str, key: str) -> bytes | None:
        cache = self.cache
        if kind == "d":
            msg = cache.depth_snapshot(key)
        elif kind == "t":
            msg = cache.touch_snapshot(key)
        else:
            msg = cache.book_snapshot(key)
        return None if msg is None else json_frame(msg)

    def watch(self, kind: str, key: str) -> None:
        self.interest.want(kind, key)

    def unwatch(self, kind: str, key: str) -> None:
        self.interest.unwant(key)

    def turn(self, now: float, active: bool) -> bool:
        if self.interest.pending():
            self.interest.flush()
        return self.fanout.turn(now)

    # -- the upstream refused a subscription ----------------------------------------------
    def on_refused(self, key: str, emsg: str) -> None:
        """Pass the feed's ``er`` on to the clients of ``key`` in the streams the cache has
        no data for (an unknown scrip: all; order level of an index: ``l`` only), and end
        those subscriptions."""
        server = self.server
        if server is None:
            return
        if len(self.refused) >= _REFUSALS_KEPT:
            self.refused.clear()
        frame = json_frame({"t": "er", "emsg": emsg, "k": key[:64]})
        for kind in KINDS:
            if self.snapshot(kind, key) is not None:
                continue
            subscribers = server.subs[kind].get(key)
            self.refused[(kind, key)] = emsg
            for s in list(subscribers or ()):
                s.push_control(frame)
                server.drop_subscriber(s, kind, key)
        server.wake()

    def forgive(self) -> None:
        """A new upstream session: what it refused before may be served now."""
        self.refused.clear()
