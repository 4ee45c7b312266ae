"""WebSocket text frames built by hand, and the garbage frames of fault injection.

Why by hand: ``websockets``' ``send()`` frames and writes one message per call and peaks
near 62k messages/s (docs/PERF_NOTES.md), which leaves nothing for the market.  A
server-to-client text frame is just a 2- or 4-byte header (no mask) before the UTF-8
payload, so the simulator frames each message once, shares the bytes between every
subscriber, and writes a whole batch to the transport in one call.  The frames are
complete, unfragmented and uncompressed (the server negotiates no extension), which is
why writing them next to ``websockets``' own frames keeps the stream valid.
"""

from __future__ import annotations

import random
from typing import Final

import msgspec

_SMALL: Final = [bytes((0x81, n)) for n in range(126)]
_encode = msgspec.json.Encoder().encode


def text_frame(payload: bytes) -> bytes:
    """One final, unmasked text frame carrying ``payload`` (UTF-8 JSON)."""
    n = len(payload)
    if n < 126:
        return _SMALL[n] + payload
    if n < 65536:
        return b"\x81\x7e" + n.to_bytes(2, "big") + payload
    return b"\x81\x7f" + n.to_bytes(8, "big") + payload


def json_frame(message: object) -> bytes:
    """A message (dict or Struct) encoded as JSON and framed."""
    return text_frame(_encode(message))


#: Values that are not acceptable numbers for a price or a quantity.
_BAD_NUMBERS: Final = ("abc", "-1", "1e5", "", "NaN", "12.34567891", "1,000", "0x1F", "--5")
_BAD_FIELDS: Final = ("lp", "v", "bp1", "sq1", "ltq", "tbq", "ap", "pc")


class Garbage:
    """Bad frames of every kind a client must survive; deterministic by its seed.

    Every frame is valid UTF-8 (a text frame with invalid UTF-8 would be a protocol
    error that closes the connection, which is a different fault).
    """

    def __init__(self, seed: str | int, ratio: float, *, dialect: str = "psx") -> None:
        self.rng = random.Random(seed)
        self.ratio = ratio
        self.sent = 0
        #: firstock-v2 frames have no ``t``: its missing keys, bad numbers and bad
        #: messages are written its way (the rest is garbage in any dialect)
        self.v2 = dialect == "firstock-v2"

    def maybe(self) -> bool:
        """Whether a garbage frame follows the current message."""
        return self.rng.random() < self.ratio

    def frame(self, key: str) -> bytes:
        """One garbage frame mentioning ``key`` (``EXCH|TOKEN``) where one fits."""
        self.sent += 1
        rng = self.rng
        e, _, tk = key.partition("|")
        kind = rng.randrange(6)
        if kind == 0:  # not JSON
            text = rng.choice(
                ('{"t":"df","e":"' + e, "not json", "{'t': 'df'}", "}{", "\ufffd\u00e9\u20ac")
            )
            return text_frame(text.encode())
        if kind == 1:  # not an object
            return text_frame(rng.choice((b"[1,2,3]", b'"df"', b"42", b"null", b"true")))
        if kind == 2:  # unknown or missing type
            t = rng.choice(("zz", "", "DF", None))
            msg: dict[str, object] = {"e": e, "tk": tk, "lp": "1.00"}
            if t is not None:
                msg = {"t": t, **msg}
            return json_frame(msg)
        if self.v2 and kind >= 3:
            return json_frame(self._v2(kind, e, tk))
        if kind == 3:  # market message without its key
            return json_frame({"t": rng.choice(("df", "tf")), "lp": "1.00"})
        if kind == 4:  # a bad number
            name = rng.choice(_BAD_FIELDS)
            return json_frame({"t": "df", "e": e, "tk": tk, name: rng.choice(_BAD_NUMBERS)})
        # an L2 event for an order nobody has seen
        return json_frame(
            {
                "t": "lo",
                "e": e,
                "tk": tk,
                "sq": "x",
                "oid": "no-such-order",
                "sd": "B",
                "ac": "X",
                "pr": "1.00",
                "q": "1",
            }
        )

    def _v2(self, kind: int, e: str, tk: str) -> dict[str, object]:
        """Firstock V2's: a flat frame without ``c_symbol``, a bad value, a bad level."""
        rng = self.rng
        if kind == 3:
            return {"c_exch_seg": e, "i_last_traded_price": 100}
        if kind == 4:
            name, value = rng.choice(
                (
                    ("i_last_traded_price", "abc"),
                    ("i_closing_price", -1),
                    ("i_volume_traded_today", 12.5),
                    ("i_open_price", True),
                )
            )
            return {f"{e}:{tk}": {name: value}}
        return {f"{e}:{tk}": {"best_buy": rng.choice(("x", [1, 2], 5))}}
