"""``marketdesk serve``: the desk in a browser, one desk process per tab (textual-serve),
every tab reading one relay.

``add_arguments(parser)`` adds the options (``tui/cli.py`` wires the subcommand);
``run(args, cfg)`` serves until Ctrl-C.  The desk's own options before ``serve``
(``--config``, ``--theme``, ``--refresh-hz``, ``--watch``; ``--url``/``--token-env`` of
the feed; ``--seed``, ``--rate``, ``--scenario`` of the built-in simulator) apply to it.
The password and every token come from environment variables or files, never the
command line; none is ever printed.  docs/SERVE.md is the user's guide.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import shlex
import signal
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final

from tui import listen
from tui.argtypes import checked
from tui.config_file import check_url
from tui.secrets import TokenError, resolve_token, token_from_env, token_from_file
from tui.serve.tab import TAB_TOKEN_ENV, TabOptions, command

if TYPE_CHECKING:
    from tui.config_file import DeskConfig
    from tui.feed.config import FeedConfig
    from tui.serve.upstream import SimOptions, Upstream

DEFAULT_LISTEN: Final = "127.0.0.1:8000"
EXIT_USAGE: Final = 2


listen_arg = listen.listen_arg(DEFAULT_LISTEN)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--listen",
        type=listen_arg,
        default=listen_arg(DEFAULT_LISTEN),
        metavar="HOST:PORT",
        help=f"where browsers connect (default {DEFAULT_LISTEN}; anything but "
        "loopback needs --password-env or --password-file)",
    )
    g = p.add_argument_group(
        "an existing relay (default: one started here, in front of the "
        "configured feed or the built-in simulator)"
    )
    g.add_argument(
        "--url",
        dest="relay_url",
        type=checked(check_url),
        metavar="RELAY_URL",
        help="a `marketdesk relay` endpoint, e.g. ws://127.0.0.1:8770/2.0/market/feed/l2",
    )
    g.add_argument(
        "--token-env",
        dest="relay_token_env",
        metavar="VAR",
        help="read the relay's client token from VAR",
    )
    g.add_argument(
        "--token-file",
        dest="relay_token_file",
        metavar="PATH",
        help="read the relay's client token from a file only you can read",
    )
    a = p.add_argument_group("who may open the desk")
    a.add_argument(
        "--password-env",
        metavar="VAR",
        help="the password browsers must give (HTTP Basic, any user name), from VAR",
    )
    a.add_argument(
        "--password-file",
        metavar="PATH",
        help="the password, from a file only you can read (chmod 600)",
    )
    p.add_argument(
        "--max-tabs",
        type=int,
        default=8,
        metavar="N",
        help="desks open at once, each a process of its own (default 8)",
    )


@dataclass
class ServeOptions:
    host: str
    port: int
    password: str | None = field(repr=False)
    max_tabs: int
    #: the desk's own options, handed on to every tab
    desk: TabOptions
    relay_url: str | None = None
    relay_token: str = field(default="", repr=False)
    feed: FeedConfig | None = field(default=None, repr=False)
    sim: SimOptions | None = None
    #: environment variables the tabs must not inherit (the password's, the feed token's)
    hidden: tuple[str, ...] = ()


def _watch(values: Sequence[str]) -> tuple[str, ...]:
    """``--watch`` keys, checked here so that no tab starts only to fail on them."""
    from tui.watchlist_store import check_key
    from tui.wire.protocol import split_keys

    keys: dict[str, None] = {}
    for value in values:
        for key in split_keys(value):
            try:
                keys[check_key(key)] = None
            except ValueError:
                raise ValueError("--watch takes scrip keys EXCH|TOKEN, e.g. PSX|OGDC") from None
    return tuple(keys)


def options_from(args: argparse.Namespace, cfg: DeskConfig) -> ServeOptions:
    """The settings of ``serve``; ValueError or TokenError (never naming a secret)."""
    from tui.serve.auth import check_password, needs_password
    from tui.serve.upstream import SimOptions

    host, port = args.listen
    if args.password_env and args.password_file:
        raise ValueError("give --password-env or --password-file, not both")
    password = None
    if args.password_file:
        password = check_password(token_from_file(args.password_file))
    elif args.password_env:
        password = check_password(token_from_env(args.password_env))
    if password is None and needs_password(host):
        raise ValueError(
            f"listening on {host} lets other machines in: give a password "
            "(--password-env VAR or --password-file PATH), or listen on 127.0.0.1"
        )
    if args.max_tabs < 1:
        raise ValueError("--max-tabs must be at least 1")
    if args.relay_token_env or args.relay_token_file:
        if not args.relay_url:
            raise ValueError(
                "--token-env/--token-file after serve go with --url RELAY_URL "
                "(the feed's own go before serve)"
            )
    elif args.relay_url:
        raise ValueError(
            "--url after serve (a relay) needs the relay's client token: "
            "--token-env VAR or --token-file PATH"
        )
    # the tabs inherit none of the secrets' variables: they get the relay's token alone
    hidden = tuple(
        name for name in (args.password_env, args.relay_token_env, cfg.feed.token_env) if name
    )
    desk = TabOptions(
        config=getattr(args, "config", None),
        theme=getattr(args, "theme", None),
        refresh_hz=getattr(args, "refresh_hz", None),
        watch=_watch(getattr(args, "watch", None) or ()),
    )
    opts = ServeOptions(host, port, password, args.max_tabs, desk, hidden=hidden)
    if args.relay_url:
        opts.relay_url = args.relay_url
        opts.relay_token = resolve_token(args.relay_token_env, args.relay_token_file)
    elif cfg.feed.url is not None:
        from tui.cli import tls_context
        from tui.feed.config import FeedConfig

        token = resolve_token(cfg.feed.token_env, cfg.feed.token_file)
        if not token:
            raise ValueError(
                "the feed needs a token: --token-env VAR or --token-file PATH "
                "before serve (or token_env / token_file in [feed] of the config)"
            )
        opts.feed = FeedConfig(
            url=cfg.feed.url,
            token=token,
            auth=cfg.feed.auth,
            uid=cfg.feed.uid,
            ssl=tls_context(cfg),
            dialect=cfg.feed.dialect,
        )  # the tabs read its relay: psx
    else:
        import msgspec

        opts.sim = SimOptions(
            seed=args.seed,
            rate=args.rate,
            scenarios=args.scenario or (),
            faults=msgspec.structs.asdict(cfg.simulator),
        )
    return opts


def banner(opts: ServeOptions, url: str, upstream: Upstream) -> str:
    """What ``serve`` prints at start: where, who may come in, what the tabs read."""
    from tui.serve.auth import is_loopback

    if opts.password is None:
        who = "open to this machine only (loopback, no password)"
    else:
        who = "password required (HTTP Basic, any user name)"
        if not is_loopback(opts.host):
            who += "; plain HTTP: put TLS in front of it beyond a trusted network"
    return "\n".join(
        [
            f"marketdesk serve: {url}",
            f"  access: {who}",
            f"  tabs read: {upstream.summary}",
            f"  at most {opts.max_tabs} tabs at once; {url}health for the figures; Ctrl-C stops",
        ]
    )


async def serve(opts: ServeOptions, stop: asyncio.Event | None = None) -> None:
    """Serve until ``stop`` is set (or Ctrl-C / SIGTERM)."""
    from aiohttp import web

    from tui.serve.auth import Guard
    from tui.serve.upstream import open_upstream
    from tui.serve.web import DeskServer

    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    async with open_upstream(
        relay_url=opts.relay_url,
        relay_token=opts.relay_token,
        feed=opts.feed,
        sim=opts.sim,
        tabs=opts.max_tabs,
    ) as upstream:
        argv = command(upstream.url, simulated=upstream.simulated, options=opts.desk)
        environment: dict[str, str | None] = {name: None for name in opts.hidden}
        environment[TAB_TOKEN_ENV] = upstream.token
        # exec: the shell textual-serve starts becomes the desk, so stopping it stops the desk
        server = DeskServer(
            "exec " + shlex.join(argv),
            guard=Guard(opts.password),
            environment=environment,
            health=upstream.health,
            max_tabs=opts.max_tabs,
        )
        runner = web.AppRunner(await server.make_app(), access_log=None, shutdown_timeout=5)
        await runner.setup()
        try:
            site = web.TCPSite(runner, opts.host, opts.port)
            await site.start()
            port = runner.addresses[0][1]
            host = f"[{opts.host}]" if ":" in opts.host else opts.host
            print(banner(opts, f"http://{host}:{port}/", upstream), flush=True)
            await stop.wait()
        finally:
            await runner.cleanup()


def run(args: argparse.Namespace, cfg: DeskConfig) -> int:
    try:
        opts = options_from(args, cfg)
    except (TokenError, ValueError) as exc:
        print(f"marketdesk serve: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        asyncio.run(serve(opts))
    except OSError as exc:  # the port is taken, the address is not ours
        print(
            f"marketdesk serve: cannot listen on {opts.host}:{opts.port}: {exc.strerror}",
            file=sys.stderr,
        )
        return 1
    except KeyboardInterrupt:
        pass
    return 0
