"""``marketdesk sim``: serve the simulator on a port until Ctrl-C.

``add_arguments(parser)`` adds the options to any parser (``tui/cli.py`` wires the
subcommand); ``run(args)`` serves; ``main(argv)`` is the stand-alone entry point
(``python -m tui.sim``).  It prints the endpoints and never a token.

``--scenario NAME[:KEY]`` (repeatable; ``all`` for every one) makes the market show the
patterns the surveillance rules look for: :class:`ScenarioSchedule` injects them in turn,
one every few seconds, round after round, so each rule is seen firing
(docs/SURVEILLANCE.md).  The desk's built-in simulator takes the same option.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final

from tui.sim import scenarios as sc
from tui.sim.config import PATHS, Faults, SimConfig
from tui.sim.instruments import INSTRUMENTS
from tui.sim.server import SimServer
from tui.wire.dialects import DIALECTS

if TYPE_CHECKING:
    from tui.sim.market import SimMarket

DEFAULT_TOKEN: Final = "demo-token"
#: Each scenario's name and the rules it is there to show, in the order ``all`` runs them:
#: those whose rules need no baseline first, so a fresh desk sees something at once.
SCENARIOS: Final[dict[str, tuple[str, ...]]] = {
    "circuit": ("circuit", "locked"),
    "price-jump": ("jump",),
    "large-order": ("l2-large",),
    "add-cancel": ("l2-churn",),
    "imbalance": ("imbalance",),
    "spread": ("spread",),
    "volume": ("volume", "print"),
    "stale": ("stale",),
}
#: Seconds from the start to the first scenario, and between two.
SCENARIO_FIRST: Final = 10.0
SCENARIO_EVERY: Final = 8.0
#: Scenarios pick their scrip among this many stocks (the simulator's "Main" list has 12).
SCENARIO_POOL: Final = 12
#: A price move, in percent of the price, for ``price-jump`` (the rule's default is 1%).
JUMP_PCT: Final = 2.5

Entry = tuple[str, str | None]


def scenario_arg(text: str) -> Entry:
    """``NAME[:KEY]`` as ``(name, key or None)``: an argparse type (a usage error names the
    known scenarios, or says the scrip is unknown)."""
    name, _, key = text.strip().partition(":")
    name = name.strip().lower()
    if name != "all" and name not in SCENARIOS:
        known = ", ".join([*SCENARIOS, "all"])
        raise argparse.ArgumentTypeError(f"unknown scenario; one of: {known}")
    key = key.strip()
    if key:
        inst = next((i for i in INSTRUMENTS if i.key.lower() == key.lower()), None)
        if inst is None or inst.index:
            raise argparse.ArgumentTypeError(
                "not a stock of the simulator (EXCH|TOKEN, e.g. PSX|OGDC)"
            )
        key = inst.key
    return name, key or None


def expand(entries: Sequence[Entry]) -> list[Entry]:
    """``all`` as every scenario in :data:`SCENARIOS` order; duplicates dropped."""
    out: list[Entry] = []
    for name, key in entries:
        for one in SCENARIOS if name == "all" else (name,):
            if (one, key) not in out:
                out.append((one, key))
    return out


@dataclass
class ScenarioSchedule:
    """Injects ``entries`` into ``market`` in turn: the first ``first`` seconds after
    ``start``, then one every ``every`` seconds, round after round.

    An entry without a scrip takes one of the first :data:`SCENARIO_POOL` stocks, a
    different one each round.  A scrip still running the scenario it got last is left
    alone that slot (two scenarios retuning one scrip would restore each other's
    settings).  A price moved by ``price-jump`` or ``circuit`` is sent back where it was
    once that scenario is over, so the market stays near its own levels however long it
    runs.  No clock of its own: :meth:`due` is told the time (tests drive it;
    :func:`run_schedule` runs it).
    """

    market: SimMarket
    entries: list[Entry]
    start: float = 0.0
    first: float = SCENARIO_FIRST
    every: float = SCENARIO_EVERY
    #: what was injected, as ``(time, name, key)`` (the last few hundred)
    log: list[tuple[float, str, str]] = field(default_factory=list)
    _slot: int = 0
    _busy: dict[str, sc.Scenario] = field(default_factory=dict)
    _returns: list[tuple[str, float, sc.Scenario]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.entries = expand(self.entries)
        stocks = [s.key for s in self.market.instruments if not s.index]
        self.pool = stocks[:SCENARIO_POOL] or stocks

    def next_at(self) -> float:
        return self.start + self.first + self._slot * self.every

    def due(self, now: float) -> list[tuple[str, str]]:
        """Inject what is due at ``now``; the ``(name, key)`` of each injected."""
        done: list[tuple[str, str]] = []
        while self.entries and self.pool and now >= self.next_at():
            self._return_prices(now)
            n = len(self.entries)
            name, key = self.entries[self._slot % n]
            rnd = self._slot // n
            self._slot += 1
            if key is None:
                key = self.pool[(list(SCENARIOS).index(name) + rnd) % len(self.pool)]
            if _running(self._busy.get(key)):
                continue
            scenario = make_scenario(name, key, self.market, rnd)
            if name in ("price-jump", "circuit"):
                self._returns.append((key, self.market.scrips[key].fair, scenario))
            self._put(key, scenario, now, name)
            done.append((name, key))
        return done

    def _put(self, key: str, scenario: sc.Scenario, now: float, name: str) -> None:
        self.market.inject(scenario)
        self._busy[key] = scenario
        self.log.append((now, name, key))
        del self.log[:-500]

    def _return_prices(self, now: float) -> None:
        """Send prices moved by a finished scenario back where they were."""
        waiting = []
        for key, home, scenario in self._returns:
            if _running(scenario):
                waiting.append((key, home, scenario))
                continue
            scrip = self.market.scrips[key]
            ticks = round((home - scrip.fair) / scrip.tick)
            if ticks:
                self._put(key, sc.PriceJump(key, ticks=ticks), now, "return")
        self._returns = waiting


def _running(scenario: sc.Scenario | None) -> bool:
    """Whether a scenario is still to start or going (one-shot ones never hold a scrip)."""
    if scenario is None:
        return False
    left = getattr(scenario, "steps", None)
    if left is None:
        left = getattr(scenario, "count", 0)
    return isinstance(left, int) and left > 0


def make_scenario(name: str, key: str, market: SimMarket, rnd: int = 0) -> sc.Scenario:
    """The scenario ``name`` on ``key``, sized so that its rule fires at the default
    thresholds (docs/SURVEILLANCE.md); ``rnd`` alternates directions round by round."""
    scrip = market.scrips[key]
    makers: dict[str, Callable[[], sc.Scenario]] = {
        "price-jump": lambda: sc.PriceJump(
            key,
            ticks=(1 if rnd % 2 == 0 else -1)
            * max(1, round(scrip.fair * JUMP_PCT / 100 / scrip.tick)),
        ),
        "circuit": lambda: sc.CircuitApproach(
            key, upper=rnd % 2 == 0, ticks_away=0, lock=True, steps=1500
        ),
        "spread": lambda: sc.SpreadBlowout(key, levels=6, steps=600),
        "volume": lambda: sc.VolumeSpike(key, factor=10.0, steps=3000, block=100.0),
        "imbalance": lambda: sc.Imbalance(
            key, side="B" if rnd % 2 == 0 else "S", pile=1.0, steps=1500
        ),
        "stale": lambda: sc.Stale(key, seconds=30.0),
        "large-order": lambda: sc.LargeOrder(
            key, side="B" if rnd % 2 == 0 else "S", multiple=150.0
        ),
        "add-cancel": lambda: sc.RapidAddCancel(key, count=40),
    }
    return makers[name]()


async def run_schedule(schedule: ScenarioSchedule, tick: float = 0.25) -> None:
    """Drive ``schedule`` on the running loop's clock until cancelled."""
    loop = asyncio.get_running_loop()
    schedule.start = loop.time()
    while True:
        schedule.due(loop.time())
        await asyncio.sleep(max(tick, min(schedule.next_at() - loop.time(), 1.0)))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``sim`` options."""
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)"
    )
    parser.add_argument(
        "--port", type=int, default=8765, help="port (default 8765; 0 = any free port)"
    )
    parser.add_argument("--seed", type=int, default=1, help="market seed (default 1)")
    parser.add_argument(
        "--rate", type=float, default=2000.0, help="market events per second (default 2000)"
    )
    add_token_arguments(parser)
    parser.add_argument(
        "--dialect",
        choices=DIALECTS,
        default=argparse.SUPPRESS,
        help="the dialect spoken: psx (default), noren, noren-token, "
        "firstock-v2 (docs/PROTOCOL.md)",
    )
    add_scenario_option(parser)
    parser.add_argument(
        "--scenario-every",
        type=float,
        default=SCENARIO_EVERY,
        metavar="S",
        help=f"seconds between two scenarios (default {SCENARIO_EVERY:g})",
    )
    faults = parser.add_argument_group("fault injection")
    faults.add_argument(
        "--drop-every",
        type=float,
        default=None,
        metavar="S",
        help="abort every connection every S seconds",
    )
    faults.add_argument(
        "--stall-every",
        type=float,
        default=None,
        metavar="S",
        help="stall every connection every S seconds",
    )
    faults.add_argument(
        "--stall-seconds",
        type=float,
        default=5.0,
        metavar="S",
        help="how long a stall lasts (default 5)",
    )
    faults.add_argument(
        "--stall-pongs", action="store_true", help="keep answering websocket pings during a stall"
    )
    faults.add_argument(
        "--garbage-ratio",
        type=float,
        default=0.0,
        metavar="R",
        help="send a bad frame after this fraction of messages",
    )
    faults.add_argument(
        "--kick-every",
        type=float,
        default=None,
        metavar="S",
        help="session-limit kick (close 4029) every S seconds",
    )


#: the fault options, as ``--sim-fault NAME=VALUE`` names them for the desk's simulator
FAULTS: Final = ("drop-every", "stall-every", "stall-seconds", "stall-pongs", "garbage-ratio",
                 "kick-every")  # fmt: skip
_TRUE, _FALSE = ("", "true", "yes", "on", "1"), ("false", "no", "off", "0")


def fault_arg(text: str) -> tuple[str, float | bool]:
    """``drop-every=20`` as ``("drop_every", 20.0)``; ``stall-pongs`` alone means true.
    The value's range is checked with the config's ``[simulator]`` table."""
    name, _, value = text.strip().partition("=")
    name = name.strip().lower().replace("_", "-")
    if name not in FAULTS:
        raise argparse.ArgumentTypeError(f"unknown fault; one of: {', '.join(FAULTS)}")
    key, value = name.replace("-", "_"), value.strip().lower()
    if name == "stall-pongs":
        if value not in _TRUE + _FALSE:
            raise argparse.ArgumentTypeError(f"{name}: true or false")
        return key, value in _TRUE
    try:
        return key, float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{name}: a number of seconds (a fraction for garbage-ratio)"
        ) from None


def add_fault_option(parser: argparse.ArgumentParser) -> None:
    """``--sim-fault NAME=VALUE`` for the desk's built-in simulator: every fault of ``sim``."""
    parser.add_argument(
        "--sim-fault",
        action="append",
        type=fault_arg,
        default=None,
        metavar="NAME=VALUE",
        help="a fault for the built-in simulator, as `marketdesk sim` has them: "
        + ", ".join(FAULTS)
        + " (e.g. drop-every=20: abort the connection every 20 s; "
        "repeatable; overrides [simulator] of the config file)",
    )


def add_scenario_option(parser: argparse.ArgumentParser) -> None:
    """``--scenario NAME[:KEY]``, shared with the desk's own command line."""
    parser.add_argument(
        "--scenario",
        action="append",
        type=scenario_arg,
        default=None,
        metavar="NAME[:KEY]",
        help="show a surveillance pattern, repeatedly: "
        + ", ".join(SCENARIOS)
        + f", or all (each in turn, one every {SCENARIO_EVERY:g} s); KEY picks the scrip, "
        "e.g. 'spread:PSX|OGDC' (quoted for the shell; repeatable)",
    )


def add_token_arguments(parser: argparse.ArgumentParser) -> None:
    """``--token`` and ``--token-env``: the tokens a server of ours accepts (read by
    :func:`tokens_of`); the simulator's and the replay server's."""
    parser.add_argument(
        "--token",
        action="append",
        default=None,
        metavar="TOKEN",
        help=f"accepted token, repeatable (default {DEFAULT_TOKEN!r})",
    )
    parser.add_argument(
        "--token-env",
        action="append",
        default=None,
        metavar="VAR",
        help="read an accepted token from this environment variable",
    )


def tokens_of(args: argparse.Namespace) -> list[str]:
    """The tokens a server of ours accepts (``--token``, ``--token-env``), ``demo-token``
    when none is given; ValueError for a variable that is not set.  The simulator's and
    the replay server's."""
    tokens = list(getattr(args, "token", None) or [])
    env_vars = getattr(args, "token_env", None) or []
    if isinstance(env_vars, str):  # a parent parser's single --token-env
        env_vars = [env_vars]
    for var in env_vars:
        value = os.environ.get(var)
        if not value:
            raise ValueError(f"environment variable {var} is not set")
        tokens.append(value)
    return tokens or [DEFAULT_TOKEN]


def config_from(args: argparse.Namespace) -> SimConfig:
    """The server config of parsed arguments.  Raises ValueError for a missing token var."""
    tokens = tokens_of(args)
    for name in ("rate", "garbage_ratio", "stall_seconds"):
        if getattr(args, name) < 0:
            raise ValueError(f"--{name.replace('_', '-')} must not be negative")
    if not getattr(args, "scenario_every", SCENARIO_EVERY) > 0:
        raise ValueError("--scenario-every must be more than 0 seconds")
    faults = Faults(
        drop_every=args.drop_every,
        stall_every=args.stall_every,
        stall_seconds=args.stall_seconds,
        garbage_ratio=args.garbage_ratio,
        kick_every=args.kick_every,
        stall_pongs=args.stall_pongs,
    )
    return SimConfig(
        seed=args.seed,
        rate=args.rate,
        tokens=tuple(tokens),
        host=args.host,
        port=args.port,
        faults=faults,
        dialect=getattr(args, "dialect", None) or "psx",
    )


def describe(sim: SimServer) -> str:
    """What the server is doing, for the terminal: endpoints, never the token."""
    cfg = sim.config
    n = len(cfg.tokens)
    plural = "s" if n != 1 else ""
    head = (
        f"marketdesk sim: seed {cfg.seed}, {cfg.rate:g} events/s, "
        f"{len(sim.instruments)} instruments, {n} token{plural} (not shown), "
        f"dialect {cfg.dialect}"
    )
    lines = [head]
    if cfg.dialect == "firstock-v2":
        lines.append(f"  V2  {sim.url}/V2/ws  (userId and jKey are added by the client)")
    else:
        lines += [f"  {level}  {sim.endpoint(level)}" for level in PATHS]
    faults = [
        f"{name}={value}"
        for name, value in vars(cfg.faults).items()
        if value not in (None, 0.0, False) and name != "stall_seconds"
    ]
    if faults:
        lines.append("  faults: " + ", ".join(faults))
    return "\n".join(lines)


def describe_schedule(schedule: ScenarioSchedule) -> str:
    """One line: which scenarios, where, how often."""
    names = [f"{name}:{key}" if key else name for name, key in schedule.entries]
    return (
        f"  scenarios: {', '.join(names)}; the first after {schedule.first:g} s, then one "
        f"every {schedule.every:g} s, repeating"
    )


async def run(args: argparse.Namespace) -> int:
    """Serve until cancelled (Ctrl-C).  Returns the exit status."""
    try:
        config = config_from(args)
    except ValueError as exc:
        print(f"marketdesk sim: {exc}", file=sys.stderr)
        return 2
    entries = getattr(args, "scenario", None) or []
    every = getattr(args, "scenario_every", SCENARIO_EVERY)
    try:
        async with SimServer(config) as sim:
            print(describe(sim), flush=True)
            if not entries:
                await sim.serve_forever()
                return 0
            schedule = ScenarioSchedule(sim.market, entries, every=every)
            print(describe_schedule(schedule), flush=True)
            task = asyncio.create_task(run_schedule(schedule), name="sim-scenarios")
            try:
                await sim.serve_forever()
            finally:
                task.cancel()
    except OSError as exc:
        print(
            f"marketdesk sim: cannot listen on {config.host}:{config.port}: {exc.strerror}",
            file=sys.stderr,
        )
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
