"""Feed settings, and the helpers that keep the token out of everything shown.

The token is a secret: it never appears in ``repr(config)``, in logs, in
:class:`~tui.feed.health.Health` or in an error message marketdesk produces.  Everything
that is shown goes through :func:`redact` (text) / :func:`redact_url` (a URL) with the
config's :meth:`FeedConfig.secrets` (the ``token`` field and what the URL carries).

A URL can carry a secret under any name (``jKey=``, ``apikey=``, ``susertoken=``,
``user:password@``), so a URL is never shown with its query values or its user info:
:func:`redact_url` replaces them all, and :func:`redact` does the same to every URL or
``?name=value`` query it finds in a text.  One function for every place a URL is shown:
the health pane, logs, ``marketdesk config``, error messages, JSON.
"""

from __future__ import annotations

import re
import ssl
from dataclasses import dataclass
from typing import Final
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

from tui.wire import dialects
from tui.wire.dialects import Credentials

AUTH_MODES: Final = ("header", "query", "connect")
JITTERS: Final = ("full", "equal", "decorrelated", "none")
#: query parameters that carry a token (docs/PROTOCOL.md, "Authentication"; ``jKey``:
#: firstock-v2)
TOKEN_PARAMS: Final = ("token", "access_token", "jKey")
REDACTED: Final = "<redacted>"
#: a URL query value or user info this long is also redacted wherever it appears alone
_SECRET_MIN: Final = 6
#: ``scheme://user:pass@`` in a text: the user info
_USERINFO: Final = re.compile(r"(\b[A-Za-z][A-Za-z0-9+.-]*://)[^/\s@?#]+@")
#: ``?name=value`` / ``&name=value`` in a text: the value
#: the one query parameter shown as it is: the relay's stream mode (``?conflate=20``, ours,
#: docs/PROTOCOL.md), and only while its value is a plain rate; never a secret's place
_SHOWN_VALUE: Final = r"\d{1,4}(?:\.\d{1,3})?"
_SHOWN_QUERY: Final = re.compile(rf"conflate={_SHOWN_VALUE}(?=[&;#\s'\"<>]|$)")
_QUERY_VALUE: Final = re.compile(rf"([?&;](?!{_SHOWN_QUERY.pattern})[^=&#\s?/]+=)[^&;#\s'\"<>]+")

#: endpoint path (without trailing slash) -> access level
_LEVELS: Final = (("/feed/l2", "L2"), ("/feed/full", "L1"), ("/feed", "L0"))


@dataclass(repr=False)
class FeedConfig:
    """Where and how to connect.  Times are seconds.

    ``backoff_min``/``backoff_max`` bound the network-fault backoff (``jitter`` picks the
    jitter: ``full`` (default), ``equal``, ``decorrelated`` or ``none``).  A session-limit
    kick waits ``session_limit_retry`` first, then backs off up to ``session_limit_max``.
    ``stable_after`` seconds after ``ck OK`` a session counts as stable and resets both.
    ``ssl`` overrides the default (verifying) TLS context for ``wss://`` only.
    """

    url: str
    token: str = ""
    auth: str = "header"
    uid: str = "marketdesk"
    heartbeat: float = 5.0
    ping_timeout: float = 10.0
    stall_timeout: float = 15.0
    backoff_min: float = 0.5
    backoff_max: float = 30.0
    stable_after: float = 30.0
    session_limit_retry: float = 60.0
    # -- beyond docs/ARCHITECTURE.md ----------------------------------------------------
    session_limit_max: float = 600.0
    jitter: str = "full"
    open_timeout: float = 10.0  # TCP + TLS + upgrade
    ack_timeout: float = 10.0  # upgrade done but no ``ck`` this long: a network fault
    close_timeout: float = 2.0
    tick: float = 1.0  # health sampling / watchdog period (shortened for short timeouts)
    max_size: int = 2**20  # largest frame accepted (an ``lk`` of a deep book is ~tens of KB)
    ssl: ssl.SSLContext | None = None
    dialect: str = "psx"  # tui.wire.dialects: psx noren noren-token firstock-v2

    def __post_init__(self) -> None:
        dialects.get(self.dialect)  # ValueError naming the known ones
        parts = urlsplit(self.url)
        if parts.scheme not in ("ws", "wss") or not parts.hostname:
            raise ValueError(f"feed URL must be ws:// or wss:// with a host: {self.endpoint}")
        if self.auth not in AUTH_MODES:
            raise ValueError(f"auth must be one of {AUTH_MODES}, not {self.auth!r}")
        if self.jitter not in JITTERS:
            raise ValueError(f"jitter must be one of {JITTERS}, not {self.jitter!r}")
        if self.ssl is not None and parts.scheme != "wss":
            raise ValueError("an ssl context needs a wss:// URL")
        for name in ("heartbeat", "ping_timeout", "stall_timeout", "backoff_min",
                     "backoff_max", "session_limit_retry", "open_timeout", "ack_timeout",
                     "close_timeout", "tick"):  # fmt: skip
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be > 0")
        if self.backoff_max < self.backoff_min:
            raise ValueError("backoff_max must be >= backoff_min")

    def __repr__(self) -> str:
        return (
            f"FeedConfig(url={self.endpoint!r}, token={REDACTED if self.token else ''!r}, "
            f"auth={self.auth!r}, uid={self.uid!r}, dialect={self.dialect!r})"
        )

    __str__ = __repr__

    # -- derived ----------------------------------------------------------------------
    @property
    def effective_token(self) -> str:
        """The token in use: the ``token`` field, else one already in the URL's query."""
        return self.token or url_token(self.url)

    def secrets(self) -> tuple[str, ...]:
        """Every string that must never be shown: the token, the URL's token, and any of
        the URL's query values and user info long enough to be a key."""
        found = (self.token, url_token(self.url), *url_secrets(self.url))
        return tuple(dict.fromkeys(s for s in found if s))

    @property
    def credentials(self) -> Credentials:
        """What the dialect puts on the wire (holds the secret; its repr does not)."""
        return Credentials(token=self.effective_token, uid=self.uid, auth=self.auth)

    @property
    def connect_url(self) -> str:
        """The URL actually dialled, shaped by the dialect: ``token=`` added in psx
        ``query`` mode, ``userId``/``jKey`` in firstock-v2 (secret!)."""
        return dialects.get(self.dialect).url(self.url, self.credentials)

    @property
    def headers(self) -> dict[str, str] | None:
        """Headers of the upgrade (psx ``header`` mode: the bearer token; secret!)."""
        return dialects.get(self.dialect).headers(self.credentials)

    @property
    def endpoint(self) -> str:
        """The dialled URL with every token redacted: safe to show and log."""
        return redact_url(self.connect_url, self.secrets())

    @property
    def level(self) -> str:
        return level_of(self.url)

    @property
    def loopback(self) -> bool:
        return urlsplit(self.url).hostname in ("127.0.0.1", "localhost", "::1")


def level_of(url: str) -> str:
    """``"L0"``/``"L1"``/``"L2"`` from the endpoint path, ``""`` for an unknown path."""
    path = urlsplit(url).path.rstrip("/")
    for suffix, level in _LEVELS:
        if path.endswith(suffix):
            return level
    return ""


def url_token(url: str) -> str:
    """A token carried in the URL's query (``token=`` or ``access_token=``), else ``""``."""
    for name, value in parse_qsl(urlsplit(url).query, keep_blank_values=True):
        if name in TOKEN_PARAMS and value:
            return value
    return ""


def url_secrets(url: str) -> tuple[str, ...]:
    """The URL's query values and user info (user, password) that could be keys."""
    parts = urlsplit(url)
    values = [value for _, value in parse_qsl(parts.query, keep_blank_values=True)]
    values += [parts.username or "", parts.password or ""]
    return tuple(v for v in values if len(v) >= _SECRET_MIN)


def redact(text: str, secrets: tuple[str, ...] = ()) -> str:
    """``text`` with every secret (as is, and percent-encoded) replaced by ``<redacted>``,
    and every URL's user info and query value (``?jKey=...``) too."""
    for secret in secrets:
        text = text.replace(secret, REDACTED)
        encoded = quote(secret, safe="")
        if encoded != secret:
            text = text.replace(encoded, REDACTED)
    if "@" in text:
        text = _USERINFO.sub(rf"\1{REDACTED}@", text)
    if "=" in text:
        text = _QUERY_VALUE.sub(rf"\1{REDACTED}", text)
    return text


def redact_url(url: str, secrets: tuple[str, ...] = ()) -> str:
    """The URL as it may be shown: every query value and any user info replaced by
    ``<redacted>`` (the names stay: ``?jKey=<redacted>&uid=<redacted>``), known secrets
    too (a fragment or path holding one).  The one exception is the relay's own
    ``conflate`` rate while it is a plain number (``?conflate=20``)."""
    parts = urlsplit(url)
    if parts.query:
        query = [
            (name, value if _SHOWN_QUERY.fullmatch(f"{name}={value}") or not value else REDACTED)
            for name, value in parse_qsl(parts.query, keep_blank_values=True)
        ]
        parts = parts._replace(query=urlencode(query, safe="<>"))
    if "@" in parts.netloc:
        host = parts.netloc.rpartition("@")[2]
        parts = parts._replace(netloc=f"{REDACTED}@{host}")
    return redact(urlunsplit(parts), secrets)
