"""The desk's surveillance plumbing: the rules run on every scrip, whichever screen is shown.

A few times a second (:data:`RULES_EVERY`) the frame hands the scrips that changed to the
:class:`~tui.market.rules.RuleEngine`; new alerts go to the :class:`~tui.market.alerts.AlertBook`,
the alert log (if configured), the terminal bell (the highest severity, if on) and the
header's subtitle; ``v`` shows them on the surveillance screen
(:class:`~tui.surveillance.SurveillanceScreen`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tui.market.alerts import SEVERITIES, Alert, AlertBook, AlertLog
from tui.market.rules import RuleEngine
from tui.surveillance import SurveillanceScreen

if TYPE_CHECKING:
    from tui.deskparts import DeskParts as Part
else:
    Part = object

#: how often the rule engine looks at the scrips that changed (seconds)
RULES_EVERY = 0.25


class Alerting(Part):
    """Rules over what changed; alerts to the book, the log, the bell and the title."""

    #: scrips changed since the rules last ran
    _unchecked: set[str]
    _rules_at: float

    def _init_alerting(self) -> None:
        self.alerts = AlertBook()
        self.engine = RuleEngine(self.market, self.settings.thresholds, wall=self.wall)
        self.alert_log = AlertLog(self.settings.alert_log) if self.settings.alert_log else None
        self._unchecked = set()
        self._rules_at = -RULES_EVERY

    def _run_rules(self, changed: set[str], now: float) -> list[Alert]:
        """The rule engine over the scrips that changed since it last ran (a few times a
        second); new alerts go to the book, the log, the bell and the title."""
        self._unchecked |= changed
        if now - self._rules_at < RULES_EVERY:
            return []
        self._rules_at = now
        keys, self._unchecked = self._unchecked, set()
        added = self.alerts.add(self.engine.evaluate(keys, now))
        if not added:
            return added
        if self.alert_log is not None:
            errors = self.alert_log.errors
            self.alert_log.write(added)
            if self.alert_log.errors > errors:
                self.notify(f"alert log: {self.alert_log.last_error}", severity="error", timeout=20)
        if self.settings.bell and any(a.severity == SEVERITIES[-1] for a in added):
            self.bell()
        self._alert_title()
        return added

    def _alert_title(self) -> None:
        unacked = len(self.alerts.alerts(unacked_only=True))
        self.sub_title = (
            f"{unacked} alert{'s' if unacked != 1 else ''} · v to look" if unacked else ""
        )

    def action_surveillance(self) -> None:
        """Show the surveillance screen (or go back to the desk from it)."""
        if isinstance(self.screen, SurveillanceScreen):
            self.screen.dismiss(None)
            return
        keys = self.watchlist.keys if self.follow else self.lists.all_keys()

        def back(key: str | None) -> None:
            self._alert_title()
            if key:
                self.jump_to(key)

        self.push_screen(
            SurveillanceScreen(
                self.market,
                self.alerts,
                list(keys),
                clock=self.clock,
                tz=self.tz,
                stale_after=self.settings.stale_after,
                circuit_near=self.settings.circuit_near,
            ),
            back,
        )
