"""Where the bus is and how to reach it: the NATS URL, auth and TLS.

Credentials never come from the command line (``ps`` and shell history show it): a NATS
credentials file (``.creds``, a JWT and an nkey seed), or a token or user/password read
from environment variables.  A URL that carries a user or password is refused.  The
market-data feed's token has nothing to do with any of this and never reaches NATS.
"""

from __future__ import annotations

import os
import ssl
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

SCHEMES = ("nats", "tls")


class BusConfigError(ValueError):
    """A bus setting is wrong; the message never holds a secret."""


def check_bus_url(url: str) -> None:
    """``nats://HOST[:PORT]`` or ``tls://HOST[:PORT]`` (comma-separate several servers of
    one cluster), without a user or password in it."""
    for one in url.split(","):
        parts = urlsplit(one.strip())
        if parts.scheme not in SCHEMES or not parts.hostname:
            raise BusConfigError("a bus URL is nats://HOST:PORT or tls://HOST:PORT")
        if parts.username or parts.password:
            raise BusConfigError(
                "a bus URL carries no credentials: use --nats-creds FILE, or "
                "--nats-token-env VAR / --nats-user-env VAR with --nats-password-env VAR"
            )
        try:
            parts.port  # noqa: B018 - raises on a bad port
        except ValueError:
            raise BusConfigError(
                "a bus URL's port is a number, e.g. nats://127.0.0.1:4222"
            ) from None


def verdict(exc: BaseException) -> str:
    """What a connection error means for retrying: ``"auth"`` (the server refused the
    credentials), ``"tls"`` (its certificate did not verify), ``""`` (a fault to retry)."""
    if "authorization violation" in str(exc).lower() or type(exc).__name__ == "AuthorizationError":
        return "auth"
    if isinstance(exc, ssl.SSLCertVerificationError):
        return "tls"
    return ""


def _env(var: str) -> str:
    value = os.environ.get(var, "")
    if not value:
        raise BusConfigError(f"environment variable {var} is not set or empty")
    return value


@dataclass(frozen=True)
class BusConfig:
    url: str = "nats://127.0.0.1:4222"
    creds_file: str | None = None  # a NATS .creds file (JWT + nkey seed)
    token: str = field(default="", repr=False)  # secret, from the environment
    user: str = ""
    password: str = field(default="", repr=False)  # secret, from the environment
    ca_file: str | None = None  # a CA to verify the server (implies TLS)
    cert_file: str | None = None  # a client certificate (mutual TLS) ...
    key_file: str | None = None  # ... and its key
    name: str = "marketdesk"  # the connection name the server's monitoring shows

    def __post_init__(self) -> None:
        check_bus_url(self.url)
        if self.creds_file is not None and not Path(self.creds_file).expanduser().is_file():
            raise BusConfigError(f"NATS credentials file {self.creds_file} is not a file")
        if bool(self.cert_file) != bool(self.key_file):
            raise BusConfigError("a client certificate needs its key, and a key its certificate")
        for path in (self.ca_file, self.cert_file, self.key_file):
            if path is not None and not Path(path).expanduser().is_file():
                raise BusConfigError(f"TLS file {path} is not a file")

    @classmethod
    def from_env(
        cls,
        url: str,
        *,
        creds_file: str | None = None,
        token_env: str | None = None,
        user_env: str | None = None,
        password_env: str | None = None,
        ca_file: str | None = None,
        cert_file: str | None = None,
        key_file: str | None = None,
        name: str = "marketdesk",
    ) -> BusConfig:
        """The config with its secrets read from the named environment variables."""
        if bool(user_env) != bool(password_env):
            raise BusConfigError("--nats-user-env and --nats-password-env go together")
        return cls(
            url=url,
            creds_file=creds_file,
            token=_env(token_env) if token_env else "",
            user=_env(user_env) if user_env else "",
            password=_env(password_env) if password_env else "",
            ca_file=ca_file,
            cert_file=cert_file,
            key_file=key_file,
            name=name,
        )

    @property
    def level(self) -> str:
        """The bus carries whatever its publishers have, order level included: a consumer
        may ask for anything (what no publisher has simply never arrives)."""
        return "L2"

    @property
    def servers(self) -> list[str]:
        return [one.strip() for one in self.url.split(",")]

    def secrets(self) -> tuple[str, ...]:
        """What must never be shown (as ``FeedConfig.secrets``)."""
        return tuple(s for s in (self.token, self.password) if s)

    def tls(self) -> ssl.SSLContext | None:
        if not (self.ca_file or self.cert_file or any(s.startswith("tls:") for s in self.servers)):
            return None
        ctx = ssl.create_default_context(cafile=self.ca_file)
        if self.cert_file and self.key_file:
            ctx.load_cert_chain(self.cert_file, self.key_file)
        return ctx

    def connect_options(self) -> dict[str, Any]:
        """Keyword arguments for ``nats.connect``: reconnect for ever, quietly."""
        opts: dict[str, Any] = {
            "servers": self.servers,
            "name": self.name,
            "allow_reconnect": True,
            "max_reconnect_attempts": -1,
            "reconnect_time_wait": 0.5,
            "connect_timeout": 2,
            "ping_interval": 5,
            "max_outstanding_pings": 3,
            # keep messages published while disconnected (bounded), like the server would
            "pending_size": 8 * 1024 * 1024,
        }
        if self.creds_file:
            opts["user_credentials"] = str(Path(self.creds_file).expanduser())
        if self.token:
            opts["token"] = self.token
        if self.user:
            opts["user"], opts["password"] = self.user, self.password
        ctx = self.tls()
        if ctx is not None:
            opts["tls"] = ctx
        return opts
