"""The dialects marketdesk speaks (docs/PROTOCOL.md, "Dialects"): ``psx`` (the seed, the
default), ``noren``, ``noren-token`` and ``firstock-v2``.

``get(name)`` gives the :class:`~tui.wire.dialects.base.Dialect`; its ``client(errors,
sink)`` is the feed client's half and ``server()`` the simulator's.  Whatever the dialect,
scrip keys are written ``EXCH|TOKEN`` by the user and inside marketdesk.
"""

from __future__ import annotations

from typing import Final

from tui.wire.dialects.base import (
    ClientCodec,
    Credentials,
    Dialect,
    OrderUpdates,
    ServerCodec,
)
from tui.wire.dialects.firstock import FirstockV2
from tui.wire.dialects.noren import Noren, NorenToken, Psx

__all__ = [
    "DEFAULT",
    "DIALECTS",
    "ClientCodec",
    "Credentials",
    "Dialect",
    "OrderUpdates",
    "ServerCodec",
    "get",
]

DEFAULT: Final = "psx"
_ALL: Final[dict[str, Dialect]] = {d.name: d for d in (Psx(), Noren(), NorenToken(), FirstockV2())}
#: every dialect name, the default first
DIALECTS: Final = tuple(_ALL)


def get(name: str) -> Dialect:
    """The dialect called ``name``; ValueError naming the known ones otherwise."""
    try:
        return _ALL[name]
    except KeyError:
        raise ValueError(f"unknown dialect {name!r}; one of: {', '.join(DIALECTS)}") from None
