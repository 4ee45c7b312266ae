"""The desk's settings: what :class:`~tui.app.DeskApp` takes from the user's config.

:class:`Settings` is the desk's view of :class:`~tui.config_file.DeskConfig` (the file, parsed
and checked by :mod:`tui.config_file`), flattened to what the app reads, with its defaults, so a
desk can be built without a config file (tests, ``tail``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import tzinfo
from pathlib import Path
from typing import TYPE_CHECKING

from tui.config_file import time_zone
from tui.market.rules import Thresholds
from tui.theme import DEFAULT_THEME

if TYPE_CHECKING:
    from tui.config_file import DeskConfig


@dataclass
class Settings:
    """What the desk takes from the user's config (tui/config_file.py), with its defaults."""

    theme: str = DEFAULT_THEME
    refresh_hz: float = 20.0
    stale_after: float = 10.0
    flash: bool = True
    columns: Sequence[str] | None = None
    circuit_near: float = 2.0
    large_qty: int = 5000
    keep: int = 2000
    keys: dict[str, str] = field(default_factory=dict)
    thresholds: Thresholds = field(default_factory=Thresholds)
    alert_log: Path | None = None
    bell: bool = True
    #: the zone of every time on the desk (None: the machine's)
    tz: tzinfo | None = None

    @classmethod
    def of(cls, config: DeskConfig) -> Settings:
        desk, tape = config.desk, config.tape
        return cls(
            theme=desk.theme,
            refresh_hz=desk.refresh_hz,
            stale_after=desk.stale_after,
            flash=desk.flash,
            columns=desk.columns,
            circuit_near=desk.circuit_near,
            large_qty=tape.large_qty,
            keep=tape.keep,
            keys=dict(config.keys),
            thresholds=config.surveillance.thresholds(),
            alert_log=config.surveillance.alert_log_path(),
            bell=config.surveillance.bell,
            tz=time_zone(desk.timezone),
        )
