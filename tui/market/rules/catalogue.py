"""Every rule, in the order the engine runs them, and the ``[surveillance]`` table they make.

A new rule is a module of its own beside these (see ``rule.py``) and one line below.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from tui.market.rules.churn import Churn
from tui.market.rules.circuit import Circuit
from tui.market.rules.imbalance import Imbalance
from tui.market.rules.jump import Jump
from tui.market.rules.large_order import LargeOrder
from tui.market.rules.locked import Locked
from tui.market.rules.prints import Print
from tui.market.rules.rule import Rule
from tui.market.rules.spread import Spread
from tui.market.rules.stale import Stale
from tui.market.rules.thresholds import General, assemble
from tui.market.rules.volume import Volume

#: Every rule, in the order the engine runs them (and docs/SURVEILLANCE.md lists them).
RULE_TYPES: Final[tuple[type[Rule[Any, Any]], ...]] = (
    Circuit,
    Locked,
    Spread,
    Volume,
    Print,
    Jump,
    Imbalance,
    Stale,
    LargeOrder,
    Churn,
)

#: Every rule id, in the order the engine runs them.
RULES: Final = tuple(rule.name for rule in RULE_TYPES)
#: The severities each rule can raise (docs/SURVEILLANCE.md).
SEVERITY_OF: Final = {rule.name: rule.severities for rule in RULE_TYPES}
#: Rules about single events (a trade, an order): each event is news, they clear at once.
EVENT_RULES: Final = frozenset(rule.name for rule in RULE_TYPES if rule.event)

if TYPE_CHECKING:

    class Thresholds(General, forbid_unknown_fields=True, frozen=True, kw_only=True):
        """Every threshold of every rule (assembled at run time: see ``thresholds.py``)."""

        def __init__(self, **values: Any) -> None: ...
        def __getattr__(self, name: str) -> Any: ...

else:
    Thresholds = assemble(RULE_TYPES)
