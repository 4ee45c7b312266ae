"""What travels on the bus: one JSON object per NATS message (docs/BUS.md).

``{"e": EPOCH, "q": SEQ, "m": [MSG, ...]}``: ``e`` names the publisher's run (a new run
starts its sequences again at 1), ``q`` is the per-scrip, per-family sequence number of
this NATS message, ``m`` the market messages in our wire shapes, in order.  A state (the
last-value store, a snapshot) has the same shape with one full message (``dk``/``tk`` or
``lk``) and the ``q`` of the last delta it includes.  Control messages are small JSON
objects too.  Numbers in a market message keep their exact text (as FrameReader reads).
"""

from __future__ import annotations

from typing import Any

import msgspec


class Batch(msgspec.Struct, frozen=True):
    e: str
    q: int
    m: list[dict[str, Any]]


class Want(msgspec.Struct, frozen=True):
    """A consumer's whole interest (it replaces the previous one); renewed within ``lease``."""

    id: str
    k: list[str] = []
    l: list[str] = []
    lease: float = 15.0


class Bye(msgspec.Struct, frozen=True):
    id: str


class Snap(msgspec.Struct, frozen=True):
    """Ask publishers for fresh states of these scrips (``k`` touchline/depth, ``l`` L2)."""

    k: list[str] = []
    l: list[str] = []


class Hello(msgspec.Struct, frozen=True):
    """A publisher (re)started or reconnected: consumers re-send their interest."""

    e: str


class Status(msgspec.Struct, frozen=True):
    """A publisher's heartbeat: its upstream's state (``live``, ``reconnecting``, ...)."""

    e: str
    up: str


encode = msgspec.json.Encoder().encode
batch_decoder = msgspec.json.Decoder(Batch, float_hook=str)
want_decoder = msgspec.json.Decoder(Want)
bye_decoder = msgspec.json.Decoder(Bye)
snap_decoder = msgspec.json.Decoder(Snap)
hello_decoder = msgspec.json.Decoder(Hello)
status_decoder = msgspec.json.Decoder(Status)

L1_TYPES = frozenset(("tk", "tf", "dk", "df"))
L2_TYPES = frozenset(("lk", "lo", "lt"))
FULL_TYPES = frozenset(("tk", "dk", "lk"))
