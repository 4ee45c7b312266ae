"""What every rule is made of: :class:`Rule`, the :class:`Condition` it finds, and the
helpers rules share (a rolling median, the wording of figures in a sentence).

A rule is one class in a module of its own (``circuit.py``, ``spread.py``, ...): its id
(``name``), the severities it can raise, its thresholds (a ``Limits`` struct: the keys it
adds to ``[surveillance]``), what it remembers per scrip (``new_state``) and the hooks
it overrides. The engine (``engine.py``) calls only the hooks a rule overrides:

- :meth:`Rule.check`: a scrip that received messages, once a frame;
- :meth:`Rule.observe` then :meth:`Rule.check_tape`: each L2 tape event, then each scrip
  that had some this frame;
- :meth:`Rule.sweep`: every ``sweep_every`` seconds, over the scrips the rule keeps track of;
- :meth:`Rule.forget`: a scrip unsubscribed.
"""

from __future__ import annotations

import statistics
from collections import deque
from collections.abc import Iterable
from typing import TYPE_CHECKING, ClassVar, Final, Generic, NamedTuple, TypeVar

import msgspec

from tui.market.alerts import Figure
from tui.wire.prices import format_qty

if TYPE_CHECKING:
    from tui.market.rules.thresholds import General
    from tui.market.scrip import Scrip
    from tui.market.store import Market
    from tui.market.tape import TapeEvent


class Condition(NamedTuple):
    """A rule's finding for one scrip now: what is seen, before repeats are settled."""

    severity: str
    #: what makes two findings the same condition (the limit, the direction, the order id)
    sig: str
    text: str
    figures: dict[str, Figure]


#: What a rule returns when it cannot tell this frame: whatever holds, holds on.
KEEP: Final = Condition("info", "", "", {})
#: What a rule returns when its condition is over at once (no ``clear_after`` wait).
GONE: Final = Condition("info", "", "", {})


class Active:
    """A condition that fired and has not cleared (``absent``: since when it has not held)."""

    __slots__ = ("absent", "fired", "severity", "sig")

    def __init__(self, sig: str, severity: str, fired: float) -> None:
        self.sig, self.severity, self.fired = sig, severity, fired
        self.absent: float | None = None


class Context:
    """What the engine knows that rules may read: the market and its own clock."""

    __slots__ = ("last_any", "market", "prev_now", "wall")

    def __init__(self, market: Market) -> None:
        self.market = market
        #: the wall clock (epoch seconds) of this :meth:`RuleEngine.evaluate` call
        self.wall = 0.0
        #: the clock of the previous :meth:`RuleEngine.evaluate` call
        self.prev_now: float | None = None
        #: the clock of the last call with any key (the feed as a whole was live)
        self.last_any: float | None = None


class RollingMedian:
    """The median of the last ``size`` observations, recomputed every ``refresh`` adds
    (a sort of at most ``size`` items; between refreshes the median moves little)."""

    __slots__ = ("_median", "_since", "refresh", "values")

    def __init__(self, size: int, refresh: int = 8) -> None:
        self.values: deque[float] = deque(maxlen=size)
        self.refresh = refresh
        self._median: float | None = None
        self._since = 0

    def __len__(self) -> int:
        return len(self.values)

    def add(self, value: float) -> None:
        self.values.append(value)
        self._since += 1

    def median(self) -> float | None:
        if self._median is None or self._since >= self.refresh:
            if not self.values:
                return None
            self._median = statistics.median(self.values)
            self._since = 0
        return self._median


class NoLimits(msgspec.Struct, frozen=True, kw_only=True):
    """The thresholds of a rule that has none of its own."""


L = TypeVar("L", bound=msgspec.Struct)
S = TypeVar("S")


class Rule(Generic[L, S]):
    """One surveillance rule. Subclasses set the class attributes and override hooks."""

    #: the rule's id: ``[surveillance] enabled``, the alert's ``rule``
    name: ClassVar[str]
    #: the severities it can raise, mildest first (docs/SURVEILLANCE.md)
    severities: ClassVar[tuple[str, ...]]
    #: about single events (a trade, an order): each is news, so it clears at once
    event: ClassVar[bool] = False
    #: its thresholds: each field is a key of ``[surveillance]``, with its default
    Limits: ClassVar[type[msgspec.Struct]] = NoLimits
    #: seconds between two :meth:`sweep` calls
    sweep_every: ClassVar[float] = 1.0

    def __init__(self, thresholds: General, context: Context) -> None:
        #: the thresholds every rule shares (``min_samples``...)
        self.t = thresholds
        self.context = context
        fields = self.Limits.__struct_fields__
        #: this rule's own thresholds, typed
        self.limits: L = self.Limits(**{f: getattr(thresholds, f) for f in fields})  # type: ignore[assignment]

    def new_state(self) -> S:
        """What the rule remembers of one scrip, fresh (``None``: nothing)."""
        return None  # type: ignore[return-value]

    # -- hooks (the engine calls those a rule overrides) -----------------------------------
    def check(
        self, scrip: Scrip, nums: dict[str, int], state: S, active: Active | None, now: float
    ) -> Condition | None:
        """The condition of a scrip that received messages (None: not present; KEEP: no
        judgement this frame; GONE: over at once). ``active``: its episode, if one is on."""
        raise NotImplementedError

    def observe(self, event: TapeEvent, state: S, now: float) -> None:
        """Book-keeping of one L2 tape event of the scrip."""
        raise NotImplementedError

    def check_tape(self, scrip: Scrip, state: S, now: float) -> Condition | None:
        """The condition of a scrip after this frame's L2 tape events."""
        raise NotImplementedError

    def sweep(self, now: float) -> Iterable[tuple[str, Condition | None]]:
        """Conditions found by looking over the scrips the rule keeps track of;
        ``(key, None)``: that scrip has left the market, the engine forgets it."""
        raise NotImplementedError

    def forget(self, key: str) -> None:
        """Drop anything kept of ``key`` outside its state (unsubscribed)."""

    @classmethod
    def overrides(cls, hook: str) -> bool:
        """True if the rule has the hook ``hook`` (the engine runs it)."""
        return getattr(cls, hook) is not getattr(Rule, hook)


def num(value: float) -> str:
    """A ratio or duration for a sentence: ``4``, ``4.5``, ``24,600``."""
    return f"{value:,.1f}".removesuffix(".0")


def usually(value: float, usual: float) -> str:
    """``usually 1,200 (3.5×)``, or ``usually none`` when the usual rounds to nothing."""
    if round(usual) <= 0:
        return "usually none"
    return f"usually {format_qty(round(usual))} ({num(round(value / usual, 1))}×)"
