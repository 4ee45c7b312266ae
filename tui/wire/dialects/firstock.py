"""``firstock-v2``: Firstock's V2 market-data socket, translated to and from the seed.

Sources (docs/PROTOCOL.md marks each claim): the ``firstock`` SDK 1.2.11
(``websockets/websockets.py``, ``websocket_functions.py``: the URL, the first frame, the
requests, how frames are routed) and Firstock's "Subscribe Feed V2" document (the fields,
paise, ``{}`` levels, no unsubscribe acknowledgement, server pings).

- URL ``…/V2/ws?userId=UID&jKey=SECRET&source=developer-api``; nothing is sent first.
- The server's first frame decides the session: ``{"status":"success","message":
  "Authentication successful"}``, or ``"status":"failed"`` (a "Maximum sessions limit"
  message is the session limit, anything else a refused key).
- Requests ``{"action":"subscribe"|"unsubscribe","tokens":"NSE:26000|BSE:1"}``: one
  feed for every mode.
- Data frames carry no ``t``: ``{"NSE:26000": {...}}`` (several scrips may share a frame;
  the older flat form with ``c_exch_seg``/``c_symbol`` is read too).  Prices are integers
  in paise; some limits come as binary floats (``125190.00000000001``); the first frame
  of a scrip is its full picture, later ones carry changes; ``{}`` is an empty level;
  ``9223372036854775808`` means "no value".

Client side: a scrip's first frame becomes ``dk`` (``tk`` for a touchline subscription),
later ones ``df`` (``tf``), with prices as exact decimal text at ``pp`` 2; a float price
is rounded half-even to the paisa and counted (``notes["off-grid"]``) when it was not on
it; a zero price is "no value" (levels: an empty level).  ``pc`` is worked out from
``lp`` and ``c`` (the V2 frame has no percentage).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any, ClassVar, Final
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

import msgspec
from msgspec import Struct

from tui.wire import frames as fr
from tui.wire import protocol as p
from tui.wire.dialects.base import ClientCodec, Credentials, Dialect, OrderUpdates, Sink

PP: Final = 2  # paise
PP_TEXT: Final = "2"
SOURCE: Final = "developer-api"
SUCCESS: Final = "Authentication successful"
LIMIT_TEXT: Final = "Maximum sessions limit"
#: the "no value" placeholder (2**63); anything this large is not a price
SENTINEL: Final = 2**63 - 1
#: a feed time above this is milliseconds (the document says ms, its examples are seconds)
_MS_ABOVE: Final = 10**11

#: V2 field -> seed field, for prices (paise)
PRICES: Final = {
    "i_last_traded_price": "lp", "i_open_price": "o", "i_high_price": "h", "i_low_price": "l",
    "i_closing_price": "c", "close_price": "c", "i_average_trade_price": "ap",
    "i_upper_circuit_limit": "uc", "i_lower_circuit_limit": "lc",
    "i_yearly_high_price": "52h", "i_yearly_low_price": "52l",
}  # fmt: skip
#: V2 field -> seed field, for whole numbers
COUNTS: Final = {
    "i_volume_traded_today": "v", "i_last_trade_quantity": "ltq",
    "i_total_buy_quantity": "tbq", "i_total_sell_quantity": "tsq",
    "i_open_interest": "oi", "i_total_open_interest": "toi",
}  # fmt: skip
#: V2 field -> seed field, for epoch times
TIMES: Final = {"i_feed_time": "ft", "i_last_trade_time": "ltt"}
SIDES: Final = (("best_buy", "bp", "bq", "bo"), ("best_sell", "sp", "sq", "so"))
#: V2 field -> (what it is, seed field): one look-up a field on the hot path
FIELDS: Final = (
    {name: ("price", seed) for name, seed in PRICES.items()}
    | {name: ("count", seed) for name, seed in COUNTS.items()}
    | {name: ("time", seed) for name, seed in TIMES.items()}
)
#: side -> its levels' seed field names, best first
LEVEL_NAMES: Final = {
    side: tuple((f"{bp}{i}", f"{bq}{i}", f"{bo}{i}") for i in range(1, 6))
    for side, bp, bq, bo in SIDES
}
#: failed-status texts that end the session (after it went live); others are refusals
_FATAL: Final = ("session", "auth", "jkey", "login", "expired")

_decode = msgspec.json.Decoder(float_hook=str).decode
_encode = msgspec.json.Encoder().encode


def units_text(units: int, pp: int = PP) -> str:
    """``2532065`` -> ``"25320.65"``: exact, integer arithmetic only."""
    if pp == PP and units >= 100:  # the hot path: paise, a rupee or more
        digits = str(units)
        return f"{digits[:-2]}.{digits[-2:]}"
    sign = "-" if units < 0 else ""
    whole, frac = divmod(abs(units), 10**pp)
    return f"{sign}{whole}.{frac:0{pp}d}" if pp else f"{sign}{whole}"


def text_units(text: str, pp: int = PP) -> int:
    """``"25320.65"`` -> ``2532065`` (the seed's price text at ``pp`` decimals)."""
    whole, _, frac = text.strip().partition(".")
    sign = -1 if whole.startswith("-") else 1
    digits = whole.lstrip("+-") or "0"
    frac = (frac + "0" * pp)[:pp]
    scale: int = 10**pp
    return sign * (int(digits) * scale + int(frac or "0"))


def percent_text(lp: int, c: int) -> str:
    """Percentage change from ``c`` to ``lp`` at two places, half away from zero."""
    num = (lp - c) * 10000
    mag = (abs(num) * 2 + c) // (2 * c)
    sign = "-" if num < 0 and mag else ""
    return f"{sign}{mag // 100}.{mag % 100:02d}"


def scrip_key(name: str) -> str:
    """``NSE:26000`` -> ``NSE|26000`` (what the user writes)."""
    e, _, tk = name.partition(":")
    return f"{e}|{tk}"


def wire_key(key: str) -> str:
    """``NSE|26000`` -> ``NSE:26000`` (what Firstock V2 writes)."""
    e, _, tk = key.partition("|")
    return f"{e}:{tk}"


class FirstockCodec:
    """The client side (one per feed client; :meth:`reset` for each connection)."""

    def __init__(self, errors: fr.DecodeErrors, sink: Sink) -> None:
        self.errors = errors
        self.sink = sink
        self.order_updates = OrderUpdates()
        self.notes: Counter[str] = Counter()
        #: scrip key -> "d" or "t": what was asked for (frames of other keys are dropped)
        self.kinds: dict[str, str] = {}
        self._seen: set[str] = set()  # keys whose full picture came on this connection
        self._last: dict[str, list[int | None]] = {}  # key -> [lp, c] for ``pc``
        self._live = False

    def reset(self) -> None:
        """A new connection: nothing subscribed on it yet (the client replays what it
        wants through :meth:`encode`), no scrip's picture seen, not live."""
        self.kinds.clear()
        self._seen.clear()
        self._last.clear()
        self._live = False

    # -- requests -----------------------------------------------------------------------
    def encode(self, requests: list[Struct]) -> list[bytes]:
        out: list[bytes] = []
        for r in requests:
            k = getattr(r, "k", "")
            keys = p.split_keys(k) if isinstance(k, str) else []
            if isinstance(r, p.DepthSubscribe | p.TouchlineSubscribe):
                kind = "d" if isinstance(r, p.DepthSubscribe) else "t"
                for key in keys:
                    self.kinds[key] = kind
                    self._seen.discard(key)  # a (re)subscription brings a full picture
                action = "subscribe"
            elif isinstance(r, p.DepthUnsubscribe | p.TouchlineUnsubscribe):
                for key in keys:
                    self.kinds.pop(key, None)
                    self._seen.discard(key)
                    self._last.pop(key, None)
                action = "unsubscribe"
            else:  # order level and heartbeats do not exist in V2
                continue
            if keys:
                tokens = "|".join(wire_key(key) for key in keys)
                out.append(_encode({"action": action, "tokens": tokens}))
        return out

    # -- frames -------------------------------------------------------------------------
    def feed(self, frame: bytes | str) -> dict[str, Any] | None:
        """Market data to the sink, the session's verdicts returned as ``ck``/``er``."""
        add = self.errors.add
        try:
            msg = _decode(frame)
        except (msgspec.DecodeError, UnicodeDecodeError, TypeError):
            text = frame.decode("utf-8", "replace") if isinstance(frame, bytes) else frame
            if LIMIT_TEXT in text:  # the session limit may come as plain text (the SDKs
                # only look for the words): a refusal, not a bad frame
                return {"t": "ck", "s": "NOT_OK", "emsg": text.strip()[:120]}
            add(fr.NOT_JSON, frame[:200])
            return None
        if type(msg) is not dict:
            add(fr.NOT_OBJECT, frame[:200])
            return None
        if "norenordno" in msg or "brkname" in msg:  # order and position updates (the SDK's test)
            self.order_updates.add("order" if "norenordno" in msg else "position", msg)
            return None
        if "status" in msg or (not msg.keys() - {"message"} and "message" in msg):
            return self._status(msg, frame)
        if "c_symbol" in msg or "c_exch_seg" in msg:  # the flat (older) form
            e, tk = msg.get("c_exch_seg"), msg.get("c_symbol")
            if type(e) is not str or type(tk) not in (str, int) or not e:
                add(fr.MISSING_KEY, frame[:200])
                return None
            self._tick(f"{e}|{tk}", msg, frame)
            return None
        ticks = 0
        for name, body in msg.items():
            if type(body) is dict and ":" in name:
                ticks += 1
                if "gamma" in body:
                    self.notes["option-greeks"] += 1
                    continue
                self._tick(scrip_key(name), body, frame)
        if not ticks:
            add(fr.UNKNOWN_TYPE, frame[:200])
        return None

    def control(self, msg: dict[str, Any]) -> dict[str, Any] | None:
        return msg  # :meth:`feed` returns seed-shaped control messages already

    def _status(self, msg: dict[str, Any], frame: bytes | str) -> dict[str, Any] | None:
        status, text = msg.get("status"), msg.get("message")
        text = text if isinstance(text, str) else ""
        if isinstance(status, str) and status.lower() == "success":
            self._live = True
            return {"t": "ck", "s": "OK"}
        if status is not None and (not isinstance(status, str) or status.lower() != "failed"):
            self.errors.add(fr.BAD_MESSAGE, frame[:200])
            return None
        lowered = text.lower()
        if not self._live or any(word in lowered for word in _FATAL):
            return {"t": "ck", "s": "NOT_OK", "emsg": text[:120] or "authentication failed"}
        return {"t": "er", "emsg": text[:120] or "request failed"}

    def _tick(self, key: str, body: dict[str, Any], frame: bytes | str) -> None:
        kind = self.kinds.get(key)
        if kind is None:
            return  # not subscribed (in flight after an unsubscribe: V2 sends no ack)
        first = key not in self._seen
        e, _, tk = key.partition("|")
        if first:
            out: dict[str, Any] = {
                "t": "dk" if kind == "d" else "tk",
                "e": e,
                "tk": tk,
                "pp": PP_TEXT,
            }
        else:
            out = {"t": "df" if kind == "d" else "tf", "e": e, "tk": tk}
        last = self._last.setdefault(key, [None, None])
        moved = False
        fields, number = FIELDS, self._number
        for name, value in body.items():
            what = fields.get(name)
            if what is None:
                continue  # levels below; the rest (depth sizes, trade value...) unused
            kind_, field = what
            # an int in range is the common case: no call
            n = (
                value
                if type(value) is int and 0 <= value < SENTINEL
                else number(key, name, value, price=kind_ == "price")
            )
            if n is None:
                continue
            if kind_ == "price":
                if n:  # 0: no value yet
                    out[field] = units_text(n)
                    if field == "lp" or field == "c":
                        last[field == "c"] = n
                        moved = True
            elif kind_ == "count":
                out[field] = str(n)
            elif n:
                out[field] = str(n // 1000 if n > _MS_ABOVE else n)
        depth = 5 if kind == "d" else 1
        for side in ("best_buy", "best_sell"):
            levels = body.get(side)
            if levels is not None:
                self._levels(key, levels, LEVEL_NAMES[side][:depth], out, frame)
        lp, c = last
        if moved and lp is not None and c:
            out["pc"] = percent_text(lp, c)
        self._seen.add(key)
        self.sink(out)

    def _levels(
        self,
        key: str,
        levels: object,
        names: tuple[tuple[str, str, str], ...],
        out: dict[str, Any],
        frame: bytes | str,
    ) -> None:
        if type(levels) is not list:
            self.errors.add(fr.BAD_MESSAGE, frame[:200])
            return
        number = self._number
        for (price, qty, orders), level in zip(names, levels, strict=False):
            if type(level) is not dict:
                self.errors.add(fr.BAD_MESSAGE, frame[:200])
                continue
            if not level:  # {}: an empty level
                out[price] = out[qty] = out[orders] = "0"
                continue
            value = level.get("price")  # not given: unchanged
            if value is not None:
                n = (
                    value
                    if type(value) is int and 0 <= value < SENTINEL
                    else number(key, "price", value)
                )
                if n is not None:
                    out[price] = units_text(n) if n else "0"
            for part, field in (("quantity", qty), ("orders", orders)):
                value = level.get(part)
                if value is not None:
                    n = (
                        value
                        if type(value) is int and 0 <= value < SENTINEL
                        else number(key, part, value, price=False)
                    )
                    if n is not None:
                        out[field] = str(n)

    def _number(self, key: str, name: str, value: object, *, price: bool = True) -> int | None:
        """An exact integer (paise for a price), None for "no value" or a bad number (counted)."""
        if type(value) is int:
            n = value
        elif type(value) is str:  # a JSON float kept as its text (float_hook=str), or a string
            try:
                exact = Decimal(value)
                n = int(exact.to_integral_value(ROUND_HALF_EVEN))
            except (InvalidOperation, ValueError, OverflowError):
                self.errors.add(fr.BAD_NUMBER, f"{key} {name}={value!r}"[:200])
                return None
            if n != exact:
                if not price:
                    self.errors.add(fr.BAD_NUMBER, f"{key} {name}={value!r}"[:200])
                    return None
                self.notes["off-grid"] += 1
        else:
            self.errors.add(fr.BAD_NUMBER, f"{key} {name}={value!r}"[:200])
            return None
        if n >= SENTINEL:
            return None
        if n < 0:
            self.errors.add(fr.BAD_NUMBER, f"{key} {name}={value!r}"[:200])
            return None
        return n


class FirstockServer:
    """The server side (one per simulator): the seed's messages written as V2 frames.

    Depth changes go out as whole sides (five levels, ``{}`` where empty): with ``{}``
    meaning "empty" a delta cannot leave a level out, so the codec keeps each scrip's
    current levels (from its ``dk`` and every ``df`` it writes).
    """

    refuse_in_band = True
    ping_interval: float | None = 15.0

    def __init__(self) -> None:
        self._levels: dict[str, dict[str, str]] = {}

    def route(
        self,
        path: str,
        query: dict[str, list[str]],
        authorization: str | None,
        levels: dict[str, str],
    ) -> tuple[str | None, str | None]:
        level = "L1" if path.rstrip("/") == "/V2/ws" else levels.get(path.rstrip("/") or "/")
        key = query.get("jKey")
        return level, key[0] if key else None

    def parse(self, msg: dict[str, Any]) -> tuple[str, Struct] | str:
        action, tokens = msg.get("action"), msg.get("tokens")
        if not isinstance(action, str) or not isinstance(tokens, str):
            return "malformed request: action and tokens expected"
        keys = [scrip_key(part.strip()) for part in tokens.split("|") if ":" in part]
        if not keys:
            return "malformed request: no EXCH:TOKEN in tokens"
        if action == "subscribe":
            return "d", p.DepthSubscribe(k=p.join_keys(keys))
        if action == "unsubscribe":
            return "ud", p.DepthUnsubscribe(k=p.join_keys(keys))
        return f"unknown action {action[:24]!r}"

    def market(self, msg: dict[str, Any]) -> bytes | None:
        t = msg.get("t")
        if t not in ("dk", "df", "tk", "tf"):
            return None  # no order level in V2
        e, tk = msg["e"], msg["tk"]
        key = f"{e}|{tk}"
        body: dict[str, Any] = {"c_exch_seg": e, "c_symbol": tk}
        full = t in ("dk", "tk")
        state = self._levels.setdefault(key, {})
        if full:
            state.clear()
        changed: set[str] = set()
        for name, value in msg.items():
            if name[:2] in ("bp", "bq", "bo", "sp", "sq", "so") and name[2:].isdigit():
                state[name] = value
                changed.add(name[0])
        _scalars(msg, body)
        for side, prefix in (("best_buy", "b"), ("best_sell", "s")):
            if prefix in changed:  # an index has no levels at all
                body[side] = [_level(state, prefix, i) for i in range(1, 6)]
        return _encode({wire_key(key): body})

    def control(self, message: Struct) -> bytes | None:
        if isinstance(message, p.ConnectAck):
            if message.s == "OK":
                return _encode({"status": "success", "message": SUCCESS})
            text = message.emsg if isinstance(message.emsg, str) else "Authentication failed"
            return _encode({"status": "failed", "message": text})
        return None  # no acks, errors or heartbeats in V2


_SEED_PRICES: Final = {seed: v2 for v2, seed in PRICES.items() if v2 != "close_price"}
_SEED_COUNTS: Final = {seed: v2 for v2, seed in COUNTS.items()}
_LIMITS: Final = ("lc", "uc")


def _scalars(msg: dict[str, Any], body: dict[str, Any]) -> None:
    for name, value in msg.items():
        v2 = _SEED_PRICES.get(name)
        if v2 is not None:
            units = text_units(value)
            # limits as the real feed sends them: binary floats a hair off the paisa
            body[v2] = _float_text(units) if name in _LIMITS else units
            continue
        v2 = _SEED_COUNTS.get(name)
        if v2 is not None:
            body[v2] = int(value)
    if "ft" in msg:
        body["i_feed_time"] = int(msg["ft"])
        if "ltt" in msg:  # the simulator's trade time is its feed time
            body["i_last_trade_time"] = int(msg["ft"])


def _float_text(units: int) -> msgspec.Raw:
    """``125190`` as ``125190.00000000001`` (even) or ``125189.99999999999`` (odd)."""
    text = f"{units}.00000000001" if units % 2 == 0 else f"{units - 1}.99999999999"
    return msgspec.Raw(text.encode())


def _level(state: dict[str, str], prefix: str, i: int) -> dict[str, int]:
    price = state.get(f"{prefix}p{i}", "0")
    units = text_units(price) if price else 0
    if not units:
        return {}
    return {
        "price": units,
        "quantity": int(state.get(f"{prefix}q{i}", "0") or 0),
        "orders": int(state.get(f"{prefix}o{i}", "0") or 0),
    }


class FirstockV2(Dialect):
    name = "firstock-v2"
    summary = "Firstock V2: userId and jKey in the URL, EXCH:TOKEN frames in paise"
    needs_uid = True
    auth_close_codes: ClassVar[frozenset[int]] = frozenset({4001, 1008})

    def url(self, url: str, creds: Credentials) -> str:
        """``?userId=…&jKey=…&source=developer-api`` added (replacing any given)."""
        parts = urlsplit(url)
        query = [
            (k, v)
            for k, v in parse_qsl(parts.query, keep_blank_values=True)
            if k not in ("userId", "jKey", "source")
        ]
        query += [("userId", creds.uid), ("jKey", creds.token), ("source", SOURCE)]
        return urlunsplit(parts._replace(query=urlencode(query, quote_via=quote)))

    def auth_label(self, creds: Credentials) -> str:
        return "query"

    def client(self, errors: fr.DecodeErrors, sink: Sink) -> ClientCodec:
        return FirstockCodec(errors, sink)

    def server(self) -> FirstockServer:
        return FirstockServer()


def tokens_of(keys: Iterable[str]) -> str:
    """``["NSE|26000", "BSE|1"]`` -> ``"NSE:26000|BSE:1"`` (a V2 ``tokens`` value)."""
    return "|".join(wire_key(k) for k in keys)
