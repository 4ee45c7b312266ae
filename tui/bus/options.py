"""The command-line options that reach NATS, and the :class:`BusConfig` they make.

Secrets come from the environment or a file, never from a flag's value (``ps`` shows it).
"""

from __future__ import annotations

import argparse

from tui.argtypes import checked
from tui.bus.config import BusConfig, check_bus_url

#: an argparse type: a nats:// or tls:// URL without credentials
bus_url = checked(check_bus_url)


def add_bus_options(p: argparse.ArgumentParser, default: object = None) -> None:
    g = p.add_argument_group("NATS (the bus): auth and TLS, never the feed's token")
    g.add_argument(
        "--nats-creds",
        metavar="PATH",
        default=default,
        help="a NATS credentials file (.creds: JWT and nkey seed)",
    )
    g.add_argument(
        "--nats-token-env",
        metavar="VAR",
        default=default,
        help="read the NATS token from environment variable VAR",
    )
    g.add_argument(
        "--nats-user-env",
        metavar="VAR",
        default=default,
        help="read the NATS user from VAR (with --nats-password-env)",
    )
    g.add_argument(
        "--nats-password-env",
        metavar="VAR",
        default=default,
        help="read the NATS password from VAR",
    )
    g.add_argument(
        "--nats-ca",
        metavar="PEM",
        default=default,
        help="verify the NATS server with this CA (turns TLS on)",
    )
    g.add_argument(
        "--nats-cert",
        metavar="PEM",
        default=default,
        help="client certificate for mutual TLS (with --nats-key)",
    )
    g.add_argument("--nats-key", metavar="PEM", default=default, help="its private key")


def bus_config(args: argparse.Namespace, url: str, name: str) -> BusConfig:
    """Raises BusConfigError (a ValueError) with a message that holds no secret."""

    def get(name: str) -> str | None:
        value = getattr(args, name, None)
        return value if isinstance(value, str) else None

    return BusConfig.from_env(
        url,
        creds_file=get("nats_creds"),
        token_env=get("nats_token_env"),
        user_env=get("nats_user_env"),
        password_env=get("nats_password_env"),
        ca_file=get("nats_ca"),
        cert_file=get("nats_cert"),
        key_file=get("nats_key"),
        name=name,
    )
