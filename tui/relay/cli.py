"""``marketdesk relay``: hold the one upstream connection, serve any number of clients.

``add_arguments(parser)`` adds the options (``tui/cli.py`` wires the subcommand);
``run(args)`` relays until Ctrl-C.  Tokens come from environment variables or a file,
never the command line; the relay prints its endpoints and the clients' names (the
variables' names), never a token.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import ssl
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Final

from tui import listen
from tui.bus.config import BusConfig
from tui.feed.config import FeedConfig
from tui.relay.server import Relay, RelayConfig
from tui.secrets import TokenError, ca_context, resolve_token, token_from_env
from tui.server.config import PATHS
from tui.userfiles import BadFile, open_regular
from tui.wire.dialects import DIALECTS

DEFAULT_LISTEN: Final = "127.0.0.1:8770"
EXIT_USAGE: Final = 2


listen_arg = listen.listen_arg(DEFAULT_LISTEN)


is_loopback = listen.is_loopback


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--url",
        required=True,
        metavar="UPSTREAM_URL",
        help="the upstream feed endpoint, e.g. wss://csapis.com/2.0/market/feed/l2",
    )
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--token-env", metavar="VAR", help="read the upstream token from VAR")
    source.add_argument(
        "--token-file", metavar="PATH", help="read the upstream token from a file only you can read"
    )
    p.add_argument(
        "--auth",
        choices=("header", "query", "connect"),
        default="header",
        help="how to present the upstream token (default: header)",
    )
    p.add_argument("--uid", default="marketdesk", help="uid/actid for --auth connect")
    p.add_argument(
        "--ca-file",
        metavar="PATH",
        help="also trust the CA certificates (PEM) in PATH for a wss:// upstream",
    )
    p.add_argument(
        "--dialect",
        choices=DIALECTS,
        default="psx",
        help="how the upstream speaks (default psx); clients are always served "
        "the seed's protocol (docs/PROTOCOL.md, Dialects)",
    )
    p.add_argument(
        "--listen",
        type=listen_arg,
        default=listen_arg(DEFAULT_LISTEN),
        metavar="HOST:PORT",
        help=f"where clients connect (default {DEFAULT_LISTEN})",
    )
    p.add_argument(
        "--client-token-env",
        action="append",
        required=True,
        metavar="VAR",
        help="a client token from VAR (repeat for more; the name shows in /health)",
    )
    p.add_argument(
        "--tls-cert", metavar="PEM", help="serve wss:// and https:// with this certificate"
    )
    p.add_argument("--tls-key", metavar="PEM", help="the certificate's private key")
    p.add_argument(
        "--grace",
        type=float,
        default=5.0,
        help="seconds a scrip stays subscribed upstream after its last client (default 5)",
    )
    p.add_argument(
        "--max-sessions",
        type=int,
        default=16,
        help="connections allowed at once per client token (default 16)",
    )
    p.add_argument(
        "--record",
        type=Path,
        metavar="DIR",
        default=None,
        help="record the upstream's frames into DIR (docs/RECORDING.md)",
    )
    from tui.bus import options as bus_options

    p.add_argument(
        "--publish",
        type=bus_options.bus_url,
        metavar="NATS_URL",
        help="also publish onto NATS for desks on other machines (docs/BUS.md)",
    )
    p.add_argument(
        "--exchange",
        action="append",
        metavar="EXCH",
        help="with --publish: serve only these exchanges to the bus (repeat)",
    )
    bus_options.add_bus_options(p)


def check_regular(path: str) -> None:
    """ValueError (one line) unless ``path`` is a regular file (never blocks)."""
    try:
        fd, _ = open_regular(path)
    except FileNotFoundError:
        raise ValueError(f"{path}: no such file") from None
    except BadFile as exc:
        raise ValueError(str(exc)) from None
    os.close(fd)


def config_from(args: argparse.Namespace) -> RelayConfig:
    """The relay's settings; ValueError or TokenError (never naming a token) if wrong."""
    token = resolve_token(args.token_env, args.token_file)
    clients = tuple((var, token_from_env(var)) for var in dict.fromkeys(args.client_token_env))
    host, port = args.listen
    if bool(args.tls_cert) != bool(args.tls_key):
        raise ValueError("--tls-cert and --tls-key go together")
    context = None
    if args.tls_cert:
        for path in (args.tls_cert, args.tls_key):  # a FIFO would hang the start
            check_regular(path)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        try:
            context.load_cert_chain(args.tls_cert, args.tls_key)
        except (OSError, ssl.SSLError) as exc:
            raise ValueError(f"cannot load the TLS certificate or key: {exc}") from None
    if args.grace < 0 or args.max_sessions < 1:
        raise ValueError("--grace must be >= 0 and --max-sessions >= 1")
    trust = None
    ca_file = getattr(args, "ca_file", None)
    if ca_file:
        if not args.url.startswith("wss://"):
            raise ValueError("--ca-file is for a wss:// upstream")
        trust = ca_context(ca_file)
    upstream = FeedConfig(
        url=args.url,
        token=token,
        auth=args.auth,
        uid=args.uid,
        ssl=trust,
        dialect=getattr(args, "dialect", "psx"),
    )
    return RelayConfig(
        upstream=upstream,
        clients=clients,
        host=host,
        port=port,
        ssl=context,
        grace=args.grace,
        max_sessions=args.max_sessions,
    )


def describe(relay: Relay, config: RelayConfig) -> str:
    up = config.upstream
    lines = [f"marketdesk relay: upstream {up.endpoint} ({up.level or '?'}, {up.dialect})"]
    lines += [f"  {level}  {relay.endpoint(level)}" for level in PATHS]
    http = relay.url.replace("ws", "http", 1)
    lines.append(f"  HTTP {http}/health  {http}/metrics  {http}/snapshot?k=EXCH|TOKEN")
    lines.append("  clients: " + ", ".join(name for name, _ in config.clients))
    if not is_loopback(config.host) and config.ssl is None:
        lines.append("  warning: listening beyond this machine without TLS (--tls-cert)")
    return "\n".join(lines)


class RecordDirError(Exception):
    """``--record DIR`` cannot be written (one line for the user)."""


async def serve(
    config: RelayConfig,
    bus: BusConfig | None = None,
    exchanges: Sequence[str] = (),
    record: Path | None = None,
) -> None:
    relay = Relay(config)
    recorder = None
    if record is not None:  # the upstream client's frames, before it runs
        from tui.recording import attach_recorder

        try:
            recorder = attach_recorder(relay.upstream, record)
        except OSError as exc:
            raise RecordDirError(f"--record {record}: {exc.strerror or exc}") from None
    try:
        await _serve(relay, config, bus, exchanges)
    finally:
        if recorder is not None:
            recorder.close()


async def _serve(
    relay: Relay, config: RelayConfig, bus: BusConfig | None, exchanges: Sequence[str]
) -> None:
    publishing = None
    if bus is not None:  # --publish: attached before the upstream starts, so it sees it all
        from tui.relay.bus import RelayBus

        allowed = {e.upper() for e in exchanges}
        accept = (lambda key: key.split("|", 1)[0].upper() in allowed) if allowed else None
        publishing = RelayBus(relay, bus, accept=accept)
    async with relay:
        if publishing is not None:
            await publishing.start()
        text = describe(relay, config)
        if bus is not None:
            text += f"\n  publishing to {bus.url} (docs/BUS.md)"
        print(text, flush=True)
        try:
            await relay.serve_forever()
        finally:
            if publishing is not None:
                await publishing.stop()


def run(args: argparse.Namespace) -> int:
    try:
        config = config_from(args)
        bus = None
        if args.publish:
            from tui.bus.options import bus_config

            bus = bus_config(args, args.publish, name="marketdesk-relay")
    except (TokenError, ValueError) as exc:
        print(f"marketdesk relay: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        asyncio.run(serve(config, bus, args.exchange or (), getattr(args, "record", None)))
    except RecordDirError as exc:
        print(f"marketdesk relay: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as exc:  # the port is taken, the address is not ours
        print(
            f"marketdesk relay: cannot listen on {config.host}:{config.port}: {exc.strerror}",
            file=sys.stderr,
        )
        return 1
    except KeyboardInterrupt:
        pass
    return 0
