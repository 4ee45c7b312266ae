"""The rule engine: the small loop that runs the enabled rules and settles repeats.

:class:`RuleEngine` is called once a frame with the scrips that received messages since
the last call (``Market.flush`` results) and the monotonic clock. It reads each of those
scrips through ``Market.view`` (exact integers; floats only for ratios and percents) and
hands it to every rule with a ``check``; hands the L2 tape events since its last call
(``Market.tape.since``) to every rule with ``observe``/``check_tape``; and runs each
rule's ``sweep`` at most every ``sweep_every`` seconds. A rule that lacks a field it
needs simply says nothing for that scrip: the engine never raises on data.

Repeats: an alert for (rule, scrip) fires when its condition starts, then again only
after the condition cleared (it has not held for ``clear_after`` seconds: a flicker is not
a new episode), after ``repeat_after`` seconds, when it escalates (a higher severity) or
when it changes (the other limit, the other direction, another order). An event rule
(``print``, ``l2-large``) clears when the scrip is next seen without such an event.
Wording is neutral: what happened, in figures; never a motive.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any, cast

from tui.market.alerts import RANK, Alert
from tui.market.rules.catalogue import EVENT_RULES, RULE_TYPES, Thresholds
from tui.market.rules.rule import GONE, KEEP, Active, Condition, Context, Rule
from tui.market.scrip import Scrip
from tui.market.store import Market
from tui.market.tape import TapeEvent


class _Memory:
    """What the engine remembers of one scrip: its episodes, and each rule's state."""

    __slots__ = ("active", "states")

    def __init__(self, rules: Iterable[Rule[Any, Any]]) -> None:
        #: rule -> its condition that fired and has not cleared
        self.active: dict[str, Active] = {}
        #: each enabled rule's state, in the engine's order
        self.states: list[Any] = [rule.new_state() for rule in rules]


class RuleEngine:
    """Runs the enabled rules over a :class:`Market` (see the module docstring).

    ``wall`` stamps the alerts (epoch seconds) and judges feed time (``ft``); ``now`` given
    to :meth:`evaluate` is the monotonic clock every window and repeat is measured on.
    ``errors``/``last_error`` count anything unexpected a rule met (a bug, never data):
    the desk keeps running and the health pane can show it.
    """

    def __init__(
        self,
        market: Market,
        thresholds: Thresholds | None = None,
        *,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.market = market
        self.t = t = thresholds if thresholds is not None else Thresholds()
        self.wall = wall
        self.context = Context(market)
        enabled = set(t.enabled)
        self._rules = tuple(kind(t, self.context) for kind in RULE_TYPES if kind.name in enabled)
        #: the ids of the enabled rules, in the order they run
        self.rules: tuple[str, ...] = tuple(rule.name for rule in self._rules)
        on = list(enumerate(self._rules))
        self._checks = [(i, rule.name, rule.check) for i, rule in on if rule.overrides("check")]
        self._tape_rules = [(i, rule) for i, rule in on if rule.overrides("observe")]
        self._sweeps = [rule for _, rule in on if rule.overrides("sweep")]
        self._swept = {rule.name: float("-inf") for rule in self._sweeps}
        self.seq = 0
        self.errors = 0
        self.last_error = ""
        self._memory: dict[str, _Memory] = {}
        self._tape_seq = market.tape.total
        #: L2 events that fell off the tape before the engine read them
        self.tape_missed = 0

    # -- the one entry point ---------------------------------------------------------------
    def evaluate(self, keys: Iterable[str], now: float) -> list[Alert]:
        """Alerts raised by what arrived for ``keys`` and on the L2 tape since the last
        call, and by the rules' sweeps (scrips gone quiet); oldest first."""
        out: list[Alert] = []
        context = self.context
        context.wall = wall = self.wall()
        any_key = False
        for key in keys:
            any_key = True
            try:
                self._scrip(key, now, wall, out)
            except Exception as exc:  # noqa: BLE001 - a rule's bug must not stop the desk
                self._failed(key, exc)
        if any_key:
            context.last_any = now
        context.prev_now = now
        if self._tape_rules:
            self._tape(now, wall, out)
        for rule in self._sweeps:
            if now - self._swept[rule.name] >= rule.sweep_every:
                self._swept[rule.name] = now
                self._sweep(rule, now, wall, out)
        return out

    def forget(self, key: str) -> None:
        """Drop what the rules remember of ``key`` (unsubscribed)."""
        self._memory.pop(key, None)
        for rule in self._rules:
            rule.forget(key)

    def state(self, key: str, rule: str) -> Any:
        """What ``rule`` remembers of ``key`` (None: nothing yet), for tests and benches."""
        memory = self._memory.get(key)
        if memory is None or rule not in self.rules:
            return None
        return memory.states[self.rules.index(rule)]

    def _failed(self, key: str, exc: Exception) -> None:
        self.errors += 1
        self.last_error = f"{key}: {type(exc).__name__}: {exc}"

    def _remembered(self, key: str) -> _Memory:
        memory = self._memory.get(key)
        if memory is None:
            memory = self._memory[key] = _Memory(self._rules)
        return memory

    # -- the three ways rules look ---------------------------------------------------------
    def _scrip(self, key: str, now: float, wall: float, out: list[Alert]) -> None:
        """Every ``check`` over one scrip that received messages."""
        scrip = self.market.view(key)
        if scrip is None:
            return  # L2 traffic only: the tape rules see it
        # the numeric fields the rules read are ints in ``values`` (tui/wire/fields.py);
        # one dict look-up each, not a method call
        nums = cast("dict[str, int]", scrip.values)
        memory = self._remembered(key)
        active, states = memory.active, memory.states
        for i, rule, check in self._checks:
            was = active.get(rule)
            cond = check(scrip, nums, states[i], was, now)
            if cond is not None or was is not None:
                self._settle(memory, rule, scrip, cond, now, wall, out)

    def _tape(self, now: float, wall: float, out: list[Alert]) -> None:
        """The L2 events since the last call: each to every ``observe``, then each scrip
        that had some to every ``check_tape``."""
        tape = self.market.tape
        events = tape.since(self._tape_seq)
        missing = tape.total - self._tape_seq
        self._tape_seq = tape.total
        if not events:
            return
        self.tape_missed += missing - len(events)
        keys: dict[str, None] = {}
        for event in events:
            try:
                self._observe(event, now)
            except Exception as exc:  # noqa: BLE001
                self._failed(event.key, exc)
            keys[event.key] = None
        for key in keys:
            try:
                self._tape_scrip(key, now, wall, out)
            except Exception as exc:  # noqa: BLE001
                self._failed(key, exc)

    def _observe(self, event: TapeEvent, now: float) -> None:
        states = self._remembered(event.key).states
        for i, rule in self._tape_rules:
            rule.observe(event, states[i], now)

    def _tape_scrip(self, key: str, now: float, wall: float, out: list[Alert]) -> None:
        memory = self._remembered(key)
        scrip = self.market.scrips.get(key)
        if scrip is not None and scrip.delta:
            scrip = self.market.view(key)
        if scrip is None:
            scrip = Scrip(key)  # L2 only: a symbol from the key, the default precision
        for i, rule in self._tape_rules:
            cond = rule.check_tape(scrip, memory.states[i], now)
            self._settle(memory, rule.name, scrip, cond, now, wall, out)

    def _sweep(self, rule: Rule[Any, Any], now: float, wall: float, out: list[Alert]) -> None:
        gone = []
        scrips = self.market.scrips
        for key, cond in rule.sweep(now):
            if cond is None:
                gone.append(key)
                continue
            memory = self._memory.get(key)
            if memory is None:
                continue
            try:
                self._settle(memory, rule.name, scrips[key], cond, now, wall, out)
            except Exception as exc:  # noqa: BLE001
                self._failed(key, exc)
        for key in gone:
            self.forget(key)

    # -- repeats ---------------------------------------------------------------------------
    def _settle(
        self,
        memory: _Memory,
        rule: str,
        scrip: Scrip,
        cond: Condition | None,
        now: float,
        wall: float,
        out: list[Alert],
    ) -> None:
        """Fire, repeat or hold back ``cond`` for (``rule``, scrip): the repeat policy."""
        if cond is KEEP:
            return
        if cond is GONE:
            memory.active.pop(rule, None)
            return
        active = memory.active.get(rule)
        clear_after = 0.0 if rule in EVENT_RULES else self.t.clear_after
        if cond is None:
            if active is not None:
                if active.absent is None:
                    active.absent = now
                if now - active.absent >= clear_after:
                    del memory.active[rule]
            return
        if active is not None and active.absent is not None:
            if now - active.absent >= clear_after:
                active = None  # it had cleared: this is a new episode
            else:
                active.absent = None  # a flicker: the same episode goes on
        if active is not None:
            higher = RANK[cond.severity] > RANK[active.severity]
            if cond.sig == active.sig and not higher and now - active.fired < self.t.repeat_after:
                return
        memory.active[rule] = Active(cond.sig, cond.severity, now)
        self.seq += 1
        out.append(
            Alert(
                self.seq,
                wall,
                scrip.key,
                scrip.symbol,
                rule,
                cond.severity,
                cond.text,
                cond.figures,
            )
        )
