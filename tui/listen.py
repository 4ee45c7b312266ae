"""Where a server of ours listens: ``--listen HOST:PORT`` and whether that is loopback.

The relay and ``marketdesk serve`` both listen on loopback unless told otherwise, and both
treat any other address as exposed (TLS or a password expected), so they share these."""

from __future__ import annotations

import argparse
import ipaddress
from collections.abc import Callable


def listen_arg(example: str) -> Callable[[str], tuple[str, int]]:
    """An argparse type reading ``HOST:PORT`` (``[::1]:PORT`` for IPv6) as (host, port);
    a bad value is refused naming ``example`` (never echoing the value)."""

    def parse(text: str) -> tuple[str, int]:
        host, sep, port = text.strip().rpartition(":")
        host = host.strip("[]")
        if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
            raise argparse.ArgumentTypeError(f"expected HOST:PORT, e.g. {example}")
        return host, int(port)

    parse.__name__ = "listen_arg"
    return parse


def is_loopback(host: str) -> bool:
    """``localhost`` or a loopback address (127.0.0.0/8, ::1)."""
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
