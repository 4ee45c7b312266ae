"""Replay time: parsing ``--from``/``--to``/jump times, the speeds, and the replay clock.

Times a person types: ``+90`` / ``+1m30s`` / ``+2h`` (from the recording's start),
``10:42`` / ``10:42:30.5`` (on the recording's date, in the local time zone unless one is
given), or an ISO date-time (``2026-11-28T10:42:00``, ``...Z``, ``...+05:00``).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Final

NS: Final = 1_000_000_000
#: the ladder ``<`` and ``>`` walk; 0 is "as fast as it can" (after the last)
SPEEDS: Final = (0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0)
_OFFSET: Final = re.compile(r"^\+(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m)?(?:(\d+(?:\.\d+)?)s?)?$")
_CLOCK: Final = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?$")


def parse_speed(text: str) -> float:
    """``0`` (as fast as possible), ``0.5``, ``1``, ``10``, ``10x``..."""
    try:
        speed = float(text.strip().rstrip("xX"))
    except ValueError:
        raise ValueError(
            f"not a speed: {text!r} (0 = as fast as possible, 1 = as recorded)"
        ) from None
    if not 0 <= speed <= 10_000:  # also refuses nan
        raise ValueError(f"speed must be between 0 and 10000, not {text!r}")
    return speed


def speed_text(speed: float) -> str:
    return "max" if speed == 0 else f"{speed:g}x"


def faster(speed: float) -> float:
    if speed == 0:
        return 0.0
    return next((s for s in SPEEDS if s > speed), 0.0)


def slower(speed: float) -> float:
    if speed == 0:
        return SPEEDS[-1]
    return next((s for s in reversed(SPEEDS) if s < speed), SPEEDS[0])


def parse_time(text: str, start_ns: int, tz: tzinfo | None = None) -> int:
    """Epoch nanoseconds of ``text`` (see the module docstring); ValueError if it is none
    of those forms.  ``start_ns``: the recording's first record."""
    text = text.strip()
    offset = _OFFSET.match(text)
    if offset and text != "+":
        h, m, s = (float(g) if g else 0.0 for g in offset.groups())
        return start_ns + int((h * 3600 + m * 60 + s) * NS)
    clock = _CLOCK.match(text)
    if clock:
        hh, mm, ss, frac = clock.groups()
        day = datetime.fromtimestamp(start_ns / NS, tz).astimezone(tz)
        try:
            at = day.replace(
                hour=int(hh),
                minute=int(mm),
                second=int(ss or 0),
                microsecond=int((frac or "0").ljust(6, "0")[:6]),
            )
        except ValueError:
            raise ValueError(f"not a time of day: {text!r}") from None
        if _ns(at) < start_ns - 12 * 3600 * NS:  # past midnight of a long session
            at += timedelta(days=1)
        return _ns(at)
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(
            f"not a time: {text!r} (use +SECONDS, +1m30s, HH:MM[:SS], or an ISO date-time)"
        ) from None
    if at.tzinfo is None:
        at = at.replace(tzinfo=tz) if tz is not None else at.astimezone()
    return _ns(at)


_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)


def _ns(at: datetime) -> int:
    """Epoch nanoseconds of an aware date-time, exactly (a float timestamp is not)."""
    delta = at - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * NS + delta.microseconds * 1000


def clock_text(ns: int, tz: tzinfo | None = None) -> str:
    """``10:42:31.2``: the replay clock as the header shows it."""
    return datetime.fromtimestamp(ns / NS, tz).strftime("%H:%M:%S.%f")[:-5]


class ReplayClock:
    """The recording's time now: it runs at ``speed`` times the monotonic clock from an
    anchor, stands still while paused, and is moved by the replay itself at speed 0 (as
    fast as possible: the clock is the last record's time)."""

    def __init__(
        self, start_ns: int, *, speed: float = 1.0, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self._mono = monotonic
        self.speed = speed
        self.paused = False
        self._anchor_ns = start_ns
        self._anchor_at = monotonic()

    def now_ns(self) -> int:
        if self.paused or self.speed == 0:
            return self._anchor_ns
        return self._anchor_ns + int((self._mono() - self._anchor_at) * self.speed * NS)

    def set(self, ns: int) -> None:
        """The clock reads ``ns`` now (a jump, a step, or the last record at speed 0)."""
        self._anchor_ns, self._anchor_at = ns, self._mono()

    def set_speed(self, speed: float) -> None:
        self.set(self.now_ns())
        self.speed = speed

    def pause(self, paused: bool = True) -> None:
        if paused != self.paused:
            self.set(self.now_ns())
            self.paused = paused

    def due_in(self, ns: int) -> float:
        """Seconds of real time until the clock reads ``ns`` (inf while paused)."""
        if self.paused:
            return float("inf")
        if self.speed == 0:
            return 0.0
        return max(0.0, (ns - self.now_ns()) / NS / self.speed)
