"""Every simulator scenario makes its rules fire at the default thresholds; without it, a
run of the same length stays quiet.

The simulator is driven without a socket (``SimMarket``, seeded) into a ``Market`` and a
``RuleEngine``, at the desk's pace: 2,000 events a second of simulated time, a frame
every 50 ms, with one injected clock for the feed, the engine and the wall.  A world is
warmed up once (every baseline ready) and each test runs on a copy of it.
"""

from __future__ import annotations

import argparse
import copy
import re
from collections import Counter

import pytest

from tui.cli_parser import build_parser
from tui.market.alerts import Alert
from tui.market.rules import RULES, SEVERITY_OF, RuleEngine
from tui.market.store import Market
from tui.sim.cli import SCENARIOS, ScenarioSchedule, expand, make_scenario, scenario_arg
from tui.sim.embedded import EmbeddedSim
from tui.sim.market import SimMarket

T0 = 1_750_651_200.0
ACCUSING = re.compile(
    r"spoof|manipulat|suspicious|fraud|illegal|abuse|layering|wash|fake", re.IGNORECASE
)
RATE = 2000  # events a second: the desk's built-in simulator
FPS = 20  # the desk's frame rate
#: seconds before any scenario: the volume baseline needs three 10 s windows and a fourth
WARM = 45.0
#: how long each scenario is given (stale: the scrip is silent 30 s, the rule waits 20 s)
LENGTH = {name: 25.0 if name == "stale" else 10.0 for name in SCENARIOS}


class World:
    """A seeded simulated market feeding a desk's market and rule engine."""

    def __init__(self, seed: int = 1) -> None:
        self.now = T0
        self.sim = SimMarket(seed, start=T0)
        self.market = Market()
        for msg in self.sim.snapshot_messages(orders=True):
            self.market.apply(msg)
        self.engine = RuleEngine(self.market, wall=self.wall)
        self.alerts: list[Alert] = []

    def wall(self) -> float:
        return self.now

    def run(self, seconds: float, schedule: ScenarioSchedule | None = None) -> list[Alert]:
        """``seconds`` of market, frame by frame; the alerts raised."""
        step, apply, dt = self.sim.step, self.market.apply, 1.0 / RATE
        out: list[Alert] = []
        for _ in range(round(seconds * FPS)):
            if schedule is not None:
                schedule.due(self.now)
            for _ in range(RATE // FPS):
                st = step(self.now)
                for msg in st.l2:
                    apply(msg)
                if st.df is not None:
                    apply(st.df)
                self.now += dt
            out += self.engine.evaluate(self.market.flush(self.now), self.now)
        self.alerts += out
        return out


@pytest.fixture(scope="module")
def warm() -> World:
    world = World()
    world.run(WARM)
    return world


def fork(world: World) -> World:
    """A copy that runs on its own.  ``Market.apply`` is a closure over the market's own
    tables, and ``deepcopy`` keeps functions as they are: the copy gets a fresh one."""
    twin = copy.deepcopy(world)
    twin.market.apply = twin.market._hot_path()
    return twin


def scrip_for(world: World, name: str) -> str:
    """The scrip ``--scenario all`` gives ``name`` in its first round."""
    schedule = ScenarioSchedule(world.sim, [(name, None)])
    return schedule.pool[list(SCENARIOS).index(name) % len(schedule.pool)]


def test_the_warm_up_itself_is_quiet(warm: World) -> None:
    assert warm.alerts == []
    assert warm.engine.errors == 0


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_each_scenario_fires_its_rules(warm: World, name: str) -> None:
    world = fork(warm)
    key = scrip_for(world, name)
    world.sim.inject(make_scenario(name, key, world.sim))
    alerts = world.run(LENGTH[name])
    fired = {a.rule for a in alerts if a.key == key}
    assert set(SCENARIOS[name]) <= fired, (name, key, [(a.rule, a.text) for a in alerts])
    assert world.engine.errors == 0, world.engine.last_error


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_without_the_scenario_its_rules_stay_quiet(warm: World, name: str) -> None:
    world = fork(warm)
    alerts = world.run(LENGTH[name])
    assert [a for a in alerts if a.rule in SCENARIOS[name]] == []


def test_every_rule_has_a_scenario() -> None:
    assert {rule for rules in SCENARIOS.values() for rule in rules} == set(RULES)


@pytest.mark.slow
def test_the_all_schedule_shows_every_rule_in_one_round(warm: World) -> None:
    world = fork(warm)
    schedule = ScenarioSchedule(world.sim, [("all", None)], start=world.now, first=0.0, every=4.0)
    world.run(len(SCENARIOS) * 4.0 + 22.0, schedule)
    shown = [name for _, name, _ in schedule.log if name != "return"]
    assert shown[: len(SCENARIOS)] == list(SCENARIOS)
    assert "return" in [name for _, name, _ in schedule.log]  # moved prices went back
    assert set(RULES) <= {a.rule for a in world.alerts}, Counter(a.rule for a in world.alerts)
    assert world.engine.errors == 0
    for alert in world.alerts:  # patterns to look at, in figures: never a motive
        assert not ACCUSING.search(alert.text), alert.text
        assert alert.severity in SEVERITY_OF[alert.rule]


# -- --scenario on the command line --------------------------------------------------------
def test_scenario_names_and_keys_are_checked() -> None:
    assert scenario_arg("spread") == ("spread", None)
    assert scenario_arg("Large-Order:psx|ogdc") == ("large-order", "PSX|OGDC")
    assert scenario_arg("all:NSE|2885") == ("all", "NSE|2885")
    with pytest.raises(argparse.ArgumentTypeError) as err:
        scenario_arg("spoof")
    assert str(err.value) == (
        "unknown scenario; one of: circuit, price-jump, large-order, add-cancel, "
        "imbalance, spread, volume, stale, all"
    )
    with pytest.raises(argparse.ArgumentTypeError, match="not a stock of the simulator"):
        scenario_arg("spread:NSE|26000")  # an index has no book
    assert expand([("all", None), ("spread", None), ("stale", "PSX|HBL")]) == [
        *[(name, None) for name in SCENARIOS],
        ("stale", "PSX|HBL"),
    ]


def test_marketdesk_and_marketdesk_sim_take_scenarios(capsys: pytest.CaptureFixture[str]) -> None:
    args = build_parser().parse_args(["--scenario", "all", "--scenario", "spread:PSX|OGDC"])
    assert args.scenario == [("all", None), ("spread", "PSX|OGDC")]
    args = build_parser().parse_args(["sim", "--scenario", "volume", "--scenario-every", "5"])
    assert (args.scenario, args.scenario_every) == ([("volume", None)], 5.0)
    from tui.cli import main

    assert main(["--scenario", "nope"]) == 2  # a usage error, the value not echoed
    err = capsys.readouterr().err
    assert "one of: circuit, price-jump" in err and "nope" not in err


def test_the_schedule_waits_rotates_scrips_and_spares_a_busy_one() -> None:
    sim = SimMarket(1, start=T0)
    schedule = ScenarioSchedule(sim, [("imbalance", None)], start=0.0, first=10.0, every=8.0)
    assert schedule.due(9.9) == []
    first = schedule.due(10.0)
    assert first == [("imbalance", schedule.pool[list(SCENARIOS).index("imbalance")])]
    assert schedule.due(17.9) == []
    second = schedule.due(18.0)
    assert second and second[0][1] != first[0][1]  # the next round, the next scrip
    pinned = ScenarioSchedule(sim, [("spread", "PSX|OGDC")], start=0.0, first=0.0, every=1.0)
    assert pinned.due(0.0) == [("spread", "PSX|OGDC")]
    assert pinned.due(1.0) == []  # OGDC still runs its blow-out: left alone this slot


def test_the_desks_simulator_runs_the_schedule() -> None:
    sim = EmbeddedSim(scenarios=[("all", None)])
    sim.start()
    try:
        assert sim.schedule is not None and [n for n, _ in sim.schedule.entries] == list(SCENARIOS)
    finally:
        sim.stop()
    assert EmbeddedSim().scenarios == []
