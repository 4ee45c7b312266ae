"""The surveillance rules: patterns worth a look, raised as :class:`~tui.market.alerts.Alert`.

One module per rule (its id, severities, thresholds, state and check: ``circuit.py``,
``spread.py``, ...), what they are made of in ``rule.py``, the list of them in
``catalogue.py``, and the loop that runs them in ``engine.py``. docs/SURVEILLANCE.md says
what every rule looks at, why its defaults are what they are, and how to add one.
"""

from tui.market.rules.catalogue import EVENT_RULES, RULE_TYPES, RULES, SEVERITY_OF, Thresholds
from tui.market.rules.engine import RuleEngine
from tui.market.rules.rule import KEEP, Condition, RollingMedian, Rule

__all__ = [
    "EVENT_RULES",
    "KEEP",
    "RULES",
    "RULE_TYPES",
    "SEVERITY_OF",
    "Condition",
    "RollingMedian",
    "Rule",
    "RuleEngine",
    "Thresholds",
]
