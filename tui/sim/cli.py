"""``marketdesk sim``: serve the simulator on a port until Ctrl-C.

``add_arguments(parser)`` adds the options to any parser (``tui/cli.py`` wires the
subcommand); ``run(args)`` serves; ``main(argv)`` is the stand-alone entry point
(``python -m tui.sim``).  It prints the endpoints and never a token.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
from collections.abc import Sequence
from typing import Final

from tui.sim.config import PATHS, Faults, SimConfig
from tui.sim.server import SimServer

DEFAULT_TOKEN: Final = "demo-token"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``sim`` options."""
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8765, help="port (default 8765; 0 = any free port)")
    parser.add_argument("--seed", type=int, default=1, help="market seed (default 1)")
    parser.add_argument("--rate", type=float, default=2000.0,
                        help="market events per second (default 2000)")
    parser.add_argument("--token", action="append", default=None, metavar="TOKEN",
                        help=f"accepted token, repeatable (default {DEFAULT_TOKEN!r})")
    parser.add_argument("--token-env", action="append", default=None, metavar="VAR",
                        help="read an accepted token from this environment variable")
    faults = parser.add_argument_group("fault injection")
    faults.add_argument("--drop-every", type=float, default=None, metavar="S",
                        help="abort every connection every S seconds")
    faults.add_argument("--stall-every", type=float, default=None, metavar="S",
                        help="stall every connection every S seconds")
    faults.add_argument("--stall-seconds", type=float, default=5.0, metavar="S",
                        help="how long a stall lasts (default 5)")
    faults.add_argument("--stall-pongs", action="store_true",
                        help="keep answering websocket pings during a stall")
    faults.add_argument("--garbage-ratio", type=float, default=0.0, metavar="R",
                        help="send a bad frame after this fraction of messages")
    faults.add_argument("--kick-every", type=float, default=None, metavar="S",
                        help="session-limit kick (close 4029) every S seconds")


def config_from(args: argparse.Namespace) -> SimConfig:
    """The server config of parsed arguments.  Raises ValueError for a missing token var."""
    tokens = list(getattr(args, "token", None) or [])
    env_vars = getattr(args, "token_env", None) or []
    if isinstance(env_vars, str):  # a parent parser's single --token-env
        env_vars = [env_vars]
    for var in env_vars:
        value = os.environ.get(var)
        if not value:
            raise ValueError(f"environment variable {var} is not set")
        tokens.append(value)
    if not tokens:
        tokens = [DEFAULT_TOKEN]
    for name in ("rate", "garbage_ratio", "stall_seconds"):
        if getattr(args, name) < 0:
            raise ValueError(f"--{name.replace('_', '-')} must not be negative")
    faults = Faults(
        drop_every=args.drop_every, stall_every=args.stall_every,
        stall_seconds=args.stall_seconds, garbage_ratio=args.garbage_ratio,
        kick_every=args.kick_every, stall_pongs=args.stall_pongs,
    )
    return SimConfig(seed=args.seed, rate=args.rate, tokens=tuple(tokens), host=args.host,
                     port=args.port, faults=faults)


def describe(sim: SimServer) -> str:
    """What the server is doing, for the terminal: endpoints, never the token."""
    cfg = sim.config
    n = len(cfg.tokens)
    plural = "s" if n != 1 else ""
    head = (f"marketdesk sim: seed {cfg.seed}, {cfg.rate:g} events/s, "
            f"{len(sim.instruments)} instruments, {n} token{plural} (not shown)")
    lines = [head]
    lines += [f"  {level}  {sim.endpoint(level)}" for level in PATHS]
    faults = [f"{name}={value}" for name, value in vars(cfg.faults).items()
              if value not in (None, 0.0, False) and name != "stall_seconds"]
    if faults:
        lines.append("  faults: " + ", ".join(faults))
    return "\n".join(lines)


async def run(args: argparse.Namespace) -> int:
    """Serve until cancelled (Ctrl-C).  Returns the exit status."""
    try:
        config = config_from(args)
    except ValueError as exc:
        print(f"marketdesk sim: {exc}", file=sys.stderr)
        return 2
    try:
        async with SimServer(config) as sim:
            print(describe(sim), flush=True)
            await sim.serve_forever()
    except OSError as exc:
        print(f"marketdesk sim: cannot listen on {config.host}:{config.port}: {exc.strerror}",
              file=sys.stderr)
        return 1
    return 0


def main(args: argparse.Namespace | Sequence[str] | None = None) -> int:
    """Serve until Ctrl-C: ``args`` already parsed (by ``marketdesk sim``) or an argv."""
    if not isinstance(args, argparse.Namespace):
        parser = argparse.ArgumentParser(prog="marketdesk sim", description=__doc__.splitlines()[0])
        add_arguments(parser)
        args = parser.parse_args(args)
    with contextlib.suppress(KeyboardInterrupt):
        return asyncio.run(run(args))
    return 0
