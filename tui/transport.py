"""The desk on a replay: transport keys, the replay clock in the header.

:class:`ReplayDesk` is the desk (:class:`~tui.app.DeskApp`) whose feed source is a
:class:`~tui.replay.source.ReplaySource` and whose clock and wall clock are the replay
clock (``marketdesk --replay FILE...``), so flushes, stale marks and the surveillance
rules run on recorded time.  It adds the transport: ``p`` pause/resume, ``<``/``>``
slower/faster, ``.`` one second on (paused), ``@`` jump to a time; the header shows the
replay clock and speed instead of the wall clock.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from textual.app import SystemCommand
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import Input

from tui.app import DeskApp
from tui.replay.source import ENDED, ReplaySource
from tui.replay.timeline import clock_text, faster, parse_time, slower, speed_text
from tui.screens import HelpSections, NameScreen

#: how often the header's replay clock is redrawn (seconds)
CLOCK_EVERY = 0.2


class JumpScreen(NameScreen):
    """Ask for a time to jump to (``10:42``, ``+90s``, an ISO date-time)."""

    def on_mount(self) -> None:
        entry = self.query_one(Input)
        entry.placeholder = "10:42:30, +90s, +1m30s or 2026-11-28T10:42"
        entry.value = ""


class ReplayDesk(DeskApp):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("p", "replay_pause", "Pause/play", id="replay.pause"),
        Binding("less_than_sign,comma", "replay_speed(-1)", "Slower", id="replay.slower"),
        Binding("greater_than_sign", "replay_speed(1)", "Faster", id="replay.faster"),
        Binding("full_stop", "replay_step", "Step 1 s", id="replay.step", show=False),
        Binding("at", "replay_jump", "Jump to time", id="replay.jump", show=False),
    ]

    @property
    def replay(self) -> ReplaySource:
        source = self.client
        assert isinstance(source, ReplaySource)
        return source

    async def on_mount(self) -> None:
        await super().on_mount()
        self.replay.on_rewind = self._rewound
        self.show_replay_clock()
        self.set_interval(CLOCK_EVERY, self.show_replay_clock, name="replay-clock")

    def show_replay_clock(self) -> None:
        source = self.replay
        mark = "■ ended" if source.health.state == ENDED else "⏸" if source.paused else "▶"
        now = int(source.clock() * 1e9)
        self.title = f"marketdesk replay {mark} {clock_text(now, self.tz)} · {source.speed_text}"

    def _rewound(self) -> None:
        """The market is rebuilt from the start: the rules forget what they knew."""
        for key in set(self.market.scrips) | set(self.market.books):
            self.engine.forget(key)

    # -- actions ---------------------------------------------------------------------------
    def action_replay_pause(self) -> None:
        self.replay.toggle_pause()
        self.show_replay_clock()

    def action_replay_speed(self, step: int) -> None:
        source = self.replay
        source.set_speed(faster(source.speed) if step > 0 else slower(source.speed))
        self.show_replay_clock()
        self.notify(f"Replay speed {speed_text(source.speed)}", timeout=2)

    def action_replay_step(self) -> None:
        self.replay.step()
        self.show_replay_clock()

    def action_replay_jump(self) -> None:
        source = self.replay
        start = source.recording.header.started_ns

        def check(text: str) -> str | None:
            try:
                parse_time(text, start, self.tz)
            except ValueError as exc:
                return str(exc)
            return None

        def chosen(text: str | None) -> None:
            if text:
                source.jump(parse_time(text, start, self.tz))

        self.push_screen(JumpScreen("Jump to time", "", check), chosen)

    # -- help and palette ------------------------------------------------------------------------
    def help_sections(self) -> HelpSections:
        rows = []
        for b in ReplayDesk.BINDINGS:
            if isinstance(b, Binding):
                keys = self.settings.keys.get(b.id or "", b.key)
                shown = ", ".join(
                    self.get_key_display(Binding(k.strip(), "")) for k in keys.split(",")
                )
                rows.append((shown, b.description))
        return [("Replay", rows), *super().help_sections()]

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        yield SystemCommand(
            "Replay: pause or play", "Stop or start the replay clock", self.action_replay_pause
        )
        yield SystemCommand(
            "Replay: jump to time", "Go to a moment of the recording", self.action_replay_jump
        )
        yield SystemCommand("Replay: faster", "Next speed up", lambda: self.action_replay_speed(1))
        yield SystemCommand(
            "Replay: slower", "Next speed down", lambda: self.action_replay_speed(-1)
        )
        yield from super().get_system_commands(screen)

    def binding_ids(self) -> set[str]:
        return super().binding_ids() | {
            b.id for b in ReplayDesk.BINDINGS if isinstance(b, Binding) and b.id
        }
