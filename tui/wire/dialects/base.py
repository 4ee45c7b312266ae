"""What every dialect provides, and the pieces they share.

A dialect is one broker family's way of speaking the Live Feed: its URL shape, its
handshake, how requests are written and how its frames become the messages the market
state already understands (``tk tf dk df`` and the control messages ``ck er h uk udk``).
Everything here is pure translation, no I/O: the feed client drives the handshake
(:mod:`tui.feed.client`) and the simulator serves it (:mod:`tui.sim`).

Two halves per dialect:

- the **client side** (:class:`ClientCodec`, one per feed client, :meth:`reset` for each
  new connection): ``feed(frame)`` is the hot path (market messages straight to the sink,
  control messages returned), ``control(msg)`` normalises a control message to the
  seed's shape (``ck`` with ``s`` ``OK``/``NOT_OK``), ``encode(requests)`` writes the
  seed's request Structs in the dialect;
- the **server side** (:class:`ServerCodec`, one per simulator): ``parse(msg)`` turns a
  client request into the seed's Struct, ``market(msg)``/``control(msg)`` write what the
  simulator sends in the dialect (None: this dialect does not send it).
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, Final, Protocol

from msgspec import Struct

from tui.wire.frames import DecodeErrors

#: order updates kept for the CLI's JSON (the newest last)
ORDER_UPDATES_KEPT: Final = 300
#: what a user writes a scrip as, whatever the dialect
KEY_SEPARATOR: Final = "|"

Sink = Callable[[dict[str, Any]], None]


class OrderUpdates:
    """Order-update messages (Noren ``om``/``ok``, Firstock order frames) received on the
    market-data socket: counted by tag, the last :data:`ORDER_UPDATES_KEPT` kept.  They are
    the account's, not the market's: nothing here reaches the market state."""

    def __init__(self, keep: int = ORDER_UPDATES_KEPT) -> None:
        self.by_tag: Counter[str] = Counter()
        self.recent: deque[dict[str, Any]] = deque(maxlen=keep)

    @property
    def total(self) -> int:
        return sum(self.by_tag.values())

    def add(self, tag: str, msg: dict[str, Any]) -> None:
        self.by_tag[tag] += 1
        self.recent.append(msg)

    def as_list(self) -> list[dict[str, Any]]:
        return list(self.recent)


@dataclass(frozen=True)
class Credentials:
    """What a dialect may put into the URL, a header or the first frame.  ``token`` is the
    secret (``susertoken``, ``accesstoken``, ``jKey`` or a bearer token): the caller
    redacts it from everything shown."""

    token: str
    uid: str
    auth: str = "header"  # psx only: "header" | "query" | "connect"

    def __repr__(self) -> str:
        return f"Credentials(uid={self.uid!r}, auth={self.auth!r}, token=<redacted>)"


class ClientCodec(Protocol):
    """The client side of a dialect for one feed client (see the module docstring)."""

    order_updates: OrderUpdates
    #: counts of values the dialect had to adjust (e.g. ``off-grid``: a float price
    #: rounded to the tick); information, not bad frames
    notes: Counter[str]

    def feed(self, frame: bytes | str) -> dict[str, Any] | None: ...

    def control(self, msg: dict[str, Any]) -> dict[str, Any] | None: ...

    def encode(self, requests: list[Struct]) -> list[bytes]: ...

    def reset(self) -> None: ...


class ServerCodec(Protocol):
    """The server side of a dialect for one simulator (see the module docstring).

    ``route(path, query, authorization)``: the access level of a request path (None:
    unknown path) and the token the upgrade carries (None: none, it comes in the first
    frame; ``""`` for a malformed one).  ``parse(msg)``: a decoded client frame as
    ``(seed tag, seed Struct)``, or the text of an error.  ``market``/``control``: the
    JSON payload to send for a seed message, None when this dialect sends nothing.
    ``refuse_in_band``: a bad token in the upgrade is accepted and refused by a frame
    (else HTTP 401).  ``ping_interval``: the server pings this often (None: never).
    """

    refuse_in_band: bool
    ping_interval: float | None

    def route(
        self,
        path: str,
        query: dict[str, list[str]],
        authorization: str | None,
        levels: dict[str, str],
    ) -> tuple[str | None, str | None]: ...

    def parse(self, msg: dict[str, Any]) -> tuple[str, Struct] | str: ...

    def market(self, msg: dict[str, Any]) -> bytes | None: ...

    def control(self, message: Struct) -> bytes | None: ...


class Dialect:
    """One dialect: its name, what it needs and its two codecs.  Subclasses fill in."""

    name: ClassVar[str]
    #: a one-line description for ``--help`` and the docs
    summary: ClassVar[str]
    #: the user id goes on the wire (``--uid`` needed against a real broker)
    needs_uid: ClassVar[bool] = False
    #: order-level (L2) requests exist in this dialect
    order_level: ClassVar[bool] = False
    #: close codes that mean "credentials rejected": no retry
    auth_close_codes: ClassVar[frozenset[int]] = frozenset({4001})
    #: the application heartbeat frame the client sends (None: websocket pings only)
    heartbeat: ClassVar[bytes | None] = None

    def url(self, url: str, creds: Credentials) -> str:
        """The URL dialled (may carry the secret: never show it unredacted)."""
        return url

    def headers(self, creds: Credentials) -> dict[str, str] | None:
        return None

    def hello(self, creds: Credentials) -> bytes | None:
        """The first frame after the upgrade (None: nothing is sent)."""
        return None

    def live_on_upgrade(self, creds: Credentials) -> bool:
        """The session is live once the upgrade succeeds (no acknowledgement awaited)."""
        return False

    def auth_label(self, creds: Credentials) -> str:
        """How the token is presented, for the health figures."""
        return creds.auth

    def client(self, errors: DecodeErrors, sink: Sink) -> ClientCodec:
        raise NotImplementedError

    def server(self) -> ServerCodec:
        raise NotImplementedError
