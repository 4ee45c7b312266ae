"""The Live Feed wire protocol: one msgspec Struct per message, tagged on ``t``.

The Structs are the schema (see docs/PROTOCOL.md): the client encodes its requests with
them, the simulator encodes everything it sends with them, and control messages are
validated against them.  Market data (``tk tf dk df lk lo lt``) is *not* converted to a
Struct on the hot path: ``tui.wire.frames.FrameReader`` decodes a frame to a plain dict once (msgspec,
about 3x ``json.loads``) and the market state merges that dict as it is.  Measured on these
machines a Struct decode plus a field-by-field merge runs at ~390k msgs/s against ~930k for
decode-to-dict plus ``dict.update`` (see docs/BENCHMARKS.md).

Reading frames (and counting bad ones) is :mod:`tui.wire.frames`.
"""

from __future__ import annotations

from typing import Final

import msgspec
from msgspec import UNSET, Struct, UnsetType, field

Opt = str | UnsetType


class _Msg(Struct, tag_field="t", omit_defaults=True, forbid_unknown_fields=False):
    """Base of every message: tagged on ``t``; absent fields stay UNSET and are not sent."""


# ------------------------------------------------------------------ client -> server


class Connect(_Msg, tag="c"):
    uid: str = ""
    actid: str = ""
    susertoken: str = ""
    source: Opt = UNSET

    def __repr__(self) -> str:  # never show the token
        return f"Connect(uid={self.uid!r}, actid={self.actid!r}, susertoken=<redacted>)"


class TouchlineSubscribe(_Msg, tag="t"):
    k: str


class TouchlineUnsubscribe(_Msg, tag="u"):
    k: str


class DepthSubscribe(_Msg, tag="d"):
    k: str


class DepthUnsubscribe(_Msg, tag="ud"):
    k: str


class OrdersSubscribe(_Msg, tag="l"):
    """Order-level (L2) subscription: the project's own message."""

    k: str


class OrdersUnsubscribe(_Msg, tag="ul"):
    k: str


class Heartbeat(_Msg, tag="h"):
    pass


class OrderUpdatesSubscribe(_Msg, tag="o"):
    """Sent by NorenRestApiPy's ``subscribe_orders``; not served by a market-data feed."""

    actid: Opt = UNSET


# ------------------------------------------------------------------ server -> client


class ConnectAck(_Msg, tag="ck"):
    s: str
    uid: Opt = UNSET
    emsg: Opt = UNSET


class TouchlineUnsubscribed(_Msg, tag="uk"):
    k: Opt = UNSET


class DepthUnsubscribed(_Msg, tag="udk"):
    k: Opt = UNSET


class OrdersUnsubscribed(_Msg, tag="ulk"):
    k: Opt = UNSET


class Error(_Msg, tag="er"):
    emsg: str
    k: Opt = UNSET


class Status(_Msg, tag="st"):
    """A relay's own status message [ours] (docs/PROTOCOL.md, "The relay"): ``s`` is
    ``upstream`` (``up``: the relay's upstream state, ``lv`` its level, ``emsg`` why it is
    down), ``behind`` (this client reads too slowly: its deltas are merged per scrip from
    now) or ``caught-up`` (``n``: messages merged so far)."""

    s: str
    up: Opt = UNSET
    lv: Opt = UNSET
    n: Opt = UNSET
    emsg: Opt = UNSET


class _Touchline(_Msg):
    """Fields shared by touchline and depth messages (all strings on the wire)."""

    e: str
    tk: str
    ts: Opt = UNSET
    pp: Opt = UNSET
    ti: Opt = UNSET
    ls: Opt = UNSET
    lp: Opt = UNSET
    pc: Opt = UNSET
    v: Opt = UNSET
    o: Opt = UNSET
    h: Opt = UNSET
    l: Opt = UNSET
    c: Opt = UNSET
    ap: Opt = UNSET
    ltt: Opt = UNSET
    ltq: Opt = UNSET
    tbq: Opt = UNSET
    tsq: Opt = UNSET
    bp1: Opt = UNSET
    bq1: Opt = UNSET
    bo1: Opt = UNSET
    sp1: Opt = UNSET
    sq1: Opt = UNSET
    so1: Opt = UNSET
    lc: Opt = UNSET
    uc: Opt = UNSET
    h52: Opt = field(default=UNSET, name="52h")
    l52: Opt = field(default=UNSET, name="52l")
    oi: Opt = UNSET
    poi: Opt = UNSET
    toi: Opt = UNSET
    ft: Opt = UNSET
    ue: Opt = UNSET
    le: Opt = UNSET


class TouchlineAck(_Touchline, tag="tk"):
    """Full touchline of one scrip: replaces its state."""


class TouchlineFeed(_Touchline, tag="tf"):
    """Changed touchline fields only."""


class _Depth(_Touchline):
    bp2: Opt = UNSET
    bp3: Opt = UNSET
    bp4: Opt = UNSET
    bp5: Opt = UNSET
    bq2: Opt = UNSET
    bq3: Opt = UNSET
    bq4: Opt = UNSET
    bq5: Opt = UNSET
    bo2: Opt = UNSET
    bo3: Opt = UNSET
    bo4: Opt = UNSET
    bo5: Opt = UNSET
    sp2: Opt = UNSET
    sp3: Opt = UNSET
    sp4: Opt = UNSET
    sp5: Opt = UNSET
    sq2: Opt = UNSET
    sq3: Opt = UNSET
    sq4: Opt = UNSET
    sq5: Opt = UNSET
    so2: Opt = UNSET
    so3: Opt = UNSET
    so4: Opt = UNSET
    so5: Opt = UNSET


class DepthAck(_Depth, tag="dk"):
    """Full depth picture of one scrip: replaces its state."""


class DepthFeed(_Depth, tag="df"):
    """Changed depth fields only; absent means unchanged."""


class OrderBookAck(_Msg, tag="lk"):
    """The whole L2 book of a scrip: lists of ``[oid, price, qty]``, best first."""

    e: str
    tk: str
    sq: str
    ft: Opt = UNSET
    b: list[list[str]] = []
    s: list[list[str]] = []


class OrderEvent(_Msg, tag="lo"):
    """An order added (``A``), modified (``M``) or cancelled (``X``)."""

    e: str
    tk: str
    sq: str
    oid: str
    sd: str
    ac: str
    pr: str
    q: str
    ft: Opt = UNSET


class Execution(_Msg, tag="lt"):
    """A trade against resting order ``oid``; ``ag`` is the aggressor's side."""

    e: str
    tk: str
    sq: str
    oid: str
    sd: str
    pr: str
    q: str
    ag: Opt = UNSET
    ft: Opt = UNSET


ClientMessage = (
    Connect
    | TouchlineSubscribe
    | TouchlineUnsubscribe
    | DepthSubscribe
    | DepthUnsubscribe
    | OrdersSubscribe
    | OrdersUnsubscribe
    | Heartbeat
    | OrderUpdatesSubscribe
)
ServerMessage = (
    ConnectAck
    | TouchlineUnsubscribed
    | DepthUnsubscribed
    | OrdersUnsubscribed
    | Error
    | Heartbeat
    | Status
    | TouchlineAck
    | TouchlineFeed
    | DepthAck
    | DepthFeed
    | OrderBookAck
    | OrderEvent
    | Execution
)

#: Market-data tags: merged by ``tui.market`` from the decoded dict.
MARKET_TAGS: Final = frozenset({"tk", "tf", "dk", "df", "lk", "lo", "lt"})
#: Control tags the client handles, with the Struct that validates each.
CONTROL_TYPES: Final[dict[str, type[Struct]]] = {
    "ck": ConnectAck,
    "uk": TouchlineUnsubscribed,
    "udk": DepthUnsubscribed,
    "ulk": OrdersUnsubscribed,
    "er": Error,
    "h": Heartbeat,
    "st": Status,
}
#: Requests a server accepts, with the Struct for each.
CLIENT_TYPES: Final[dict[str, type[Struct]]] = {
    "c": Connect,
    "t": TouchlineSubscribe,
    "u": TouchlineUnsubscribe,
    "d": DepthSubscribe,
    "ud": DepthUnsubscribe,
    "l": OrdersSubscribe,
    "ul": OrdersUnsubscribe,
    "h": Heartbeat,
    "o": OrderUpdatesSubscribe,
}

_encoder = msgspec.json.Encoder()


def encode(message: Struct) -> bytes:
    """The JSON frame for a message (absent fields left out)."""
    return _encoder.encode(message)


def encode_text(message: Struct) -> str:
    return _encoder.encode(message).decode()


def join_keys(keys: list[str] | tuple[str, ...] | set[str]) -> str:
    """``["NSE|22", "BSE|508123"]`` -> ``"NSE|22#BSE|508123"`` (the wire's ``k``)."""
    return "#".join(keys)


def split_keys(k: str) -> list[str]:
    """The wire's ``k`` back to keys; empty parts dropped."""
    return [part for part in k.split("#") if part]
