"""Alerts: what the rule engine raises, the book the screen shows, the JSON-lines log.

An :class:`Alert` is a pattern worth a look, worded neutrally (what happened, in figures),
never an accusation.  :class:`AlertBook` holds the newest alerts for the screen (bounded,
with acknowledgements and per-scrip mutes); :class:`AlertLog` appends every alert to a
file the user chose, one JSON object a line.  Neither raises on a full disk or a bad path:
the desk must keep running, so a failed write is counted and reported instead.

No Textual here; the surveillance screen reads these (docs/SURVEILLANCE.md).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Final

import msgspec

#: Severities, ascending.
SEVERITIES: Final = ("info", "warn", "alert")
#: The rank of each severity, for comparisons (``RANK["warn"] > RANK["info"]``).
RANK: Final = {name: i for i, name in enumerate(SEVERITIES)}
#: Alerts an :class:`AlertBook` holds unless told otherwise.
DEFAULT_BOUND: Final = 5000

Figure = str | int | float


@dataclass(frozen=True, slots=True)
class Alert:
    """One alert.  ``figures`` are the numbers behind ``text`` (prices as text at the
    scrip's precision, quantities as integers, ratios as floats), for the screen and log."""

    seq: int  # strictly increasing per engine
    time: float  # wall clock, epoch seconds
    key: str  # "EXCH|TOKEN"
    symbol: str
    rule: str
    severity: str  # one of SEVERITIES
    text: str
    figures: dict[str, Figure]

    def as_json(self) -> dict[str, object]:
        """One JSON-lines record: every field, plus ``at`` (the time in ISO 8601, UTC)."""
        at = datetime.fromtimestamp(self.time, UTC).isoformat(timespec="milliseconds")
        return {
            "seq": self.seq,
            "time": self.time,
            "at": at.replace("+00:00", "Z"),
            "key": self.key,
            "symbol": self.symbol,
            "rule": self.rule,
            "severity": self.severity,
            "text": self.text,
            "figures": dict(self.figures),
        }


class AlertBook:
    """The alerts the screen shows: the newest ``bound``, newest first.

    ``total`` counts every alert ever added (dropped ones too), ``dropped`` those that fell
    off the end; the log file (:class:`AlertLog`) keeps everything.  A muted (rule, scrip)
    pair is not added at all; alerts already held stay (they are history).  Acknowledging
    is by ``seq``; :meth:`ack_all` is O(1) (a watermark), so it stays cheap at any size.
    """

    def __init__(self, bound: int = DEFAULT_BOUND) -> None:
        if bound < 1:
            raise ValueError("an alert book holds at least one alert")
        self.bound = bound
        self.total = 0
        self.dropped = 0
        self._alerts: deque[Alert] = deque()  # oldest first
        self._by_seq: dict[int, Alert] = {}
        self._acked: set[int] = set()
        self._acked_upto = -1  # every seq at or below is acknowledged (ack_all)
        self._muted: set[tuple[str, str]] = set()
        #: newest unacknowledged alert per key; None: to be rebuilt on the next read
        self._latest: dict[str, Alert] | None = {}

    def __len__(self) -> int:
        return len(self._alerts)

    # -- adding ----------------------------------------------------------------------------
    def add(self, alerts: Iterable[Alert]) -> list[Alert]:
        """Add ``alerts`` (oldest first); returns those added, i.e. not muted."""
        added: list[Alert] = []
        muted = self._muted
        for alert in alerts:
            if muted and (alert.rule, alert.key) in muted:
                continue
            if len(self._alerts) >= self.bound:
                self._drop(self._alerts.popleft())
            self._alerts.append(alert)
            self._by_seq[alert.seq] = alert
            self.total += 1
            if self._latest is not None:
                self._latest[alert.key] = alert
            added.append(alert)
        return added

    def _drop(self, old: Alert) -> None:
        self.dropped += 1
        self._by_seq.pop(old.seq, None)
        self._acked.discard(old.seq)
        if self._latest is not None and self._latest.get(old.key) is old:
            del self._latest[old.key]  # the oldest held: no newer one for its key

    # -- reading ---------------------------------------------------------------------------
    def alerts(
        self,
        *,
        rules: set[str] | None = None,
        min_severity: str = "info",
        unacked_only: bool = False,
    ) -> list[Alert]:
        """The alerts held, newest first, filtered by rule, least severity and ack state."""
        floor = RANK.get(min_severity)
        if floor is None:
            raise ValueError(f"unknown severity {min_severity!r}; one of: {', '.join(SEVERITIES)}")
        out = []
        for alert in reversed(self._alerts):
            if rules is not None and alert.rule not in rules:
                continue
            if floor and RANK[alert.severity] < floor:
                continue
            if unacked_only and self.acked(alert.seq):
                continue
            out.append(alert)
        return out

    def latest_by_key(self) -> dict[str, Alert]:
        """The newest unacknowledged alert of each scrip (the tiles colour from it)."""
        if self._latest is None:
            latest: dict[str, Alert] = {}
            for alert in self._alerts:  # oldest first: newer ones overwrite
                if not self.acked(alert.seq):
                    latest[alert.key] = alert
            self._latest = latest
        return dict(self._latest)

    # -- acknowledging ---------------------------------------------------------------------
    def ack(self, seq: int) -> None:
        alert = self._by_seq.get(seq)
        if alert is None or self.acked(seq):
            return
        self._acked.add(seq)
        if self._latest is not None and self._latest.get(alert.key) is alert:
            self._latest = None  # an older unacked alert of that key may take its place

    def ack_all(self) -> None:
        if self._alerts:
            self._acked_upto = max(self._acked_upto, self._alerts[-1].seq)
        self._acked.clear()
        self._latest = {}

    def acked(self, seq: int) -> bool:
        return seq <= self._acked_upto or seq in self._acked

    # -- muting ----------------------------------------------------------------------------
    def mute(self, rule: str, key: str) -> None:
        """Add no more alerts of ``rule`` for scrip ``key``."""
        self._muted.add((rule, key))

    def unmute(self, rule: str, key: str) -> None:
        self._muted.discard((rule, key))

    def muted(self, rule: str, key: str) -> bool:
        return (rule, key) in self._muted

    @property
    def mutes(self) -> frozenset[tuple[str, str]]:
        """Every muted (rule, key) pair."""
        return frozenset(self._muted)


class AlertLog:
    """Alerts appended to ``path`` as JSON lines, flushed after each :meth:`write`.

    The file is opened (and its directory made) at the first write, in append mode, so a
    restart adds to it.  An ``OSError`` (a directory in the way, no permission, a full
    disk) is counted in ``errors`` with its text in ``last_error`` and the alerts of that
    call are counted as ``lost``; the next write tries again.  Nothing here ever raises
    for the file's sake.  Alerts carry no token, so neither does the log.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path).expanduser()
        self.errors = 0
        self.last_error = ""
        self.written = 0
        self.lost = 0
        self._file: IO[bytes] | None = None
        self._encode = msgspec.json.Encoder().encode

    def write(self, alerts: Iterable[Alert]) -> None:
        lines = [self._encode(alert.as_json()) + b"\n" for alert in alerts]
        if not lines:
            return
        try:
            if self._file is None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._file = self.path.open("ab")
            self._file.write(b"".join(lines))
            self._file.flush()
        except OSError as exc:
            self._failed(exc, len(lines))
            return
        self.written += len(lines)

    def close(self) -> None:
        file, self._file = self._file, None
        if file is not None:
            try:
                file.close()
            except OSError as exc:
                self._failed(exc, 0)

    def _failed(self, exc: OSError, lost: int) -> None:
        self.errors += 1
        self.lost += lost
        reason = exc.strerror or type(exc).__name__
        self.last_error = f"{self.path}: {reason}"
        file, self._file = self._file, None  # reopen next time: the fault may pass
        if file is not None:
            try:
                file.close()
            except OSError:
                pass
