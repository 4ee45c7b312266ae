"""The desk's modal screens: help, add a scrip, name a watchlist, confirm.

Each returns its answer through ``dismiss`` (``push_screen(screen, callback)``); none of
them edits anything itself: the app applies the answer to the watchlists model, so every
edit goes through one place that validates, saves and resubscribes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import ClassVar

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from tui.wire.catalogue import Entry, search

#: ``(section, [(keys, description), ...])``
HelpSections = Sequence[tuple[str, Sequence[tuple[str, str]]]]


class HelpScreen(ModalScreen[None]):
    """Every binding of the desk, by pane, with the keys in force (after remaps)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark", "dismiss", "Close", id="help.close"),
    ]

    def __init__(self, sections: HelpSections) -> None:
        super().__init__(id="help")
        self.sections = sections

    def compose(self) -> ComposeResult:
        with Vertical(id="help-box") as box:
            box.border_title = "Keys"
            box.border_subtitle = "esc to close · ctrl+p for commands"
            with VerticalScroll():
                for title, rows in self.sections:
                    yield Static(_section(title, rows), classes="help-section")

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(result)


def _section(title: str, rows: Iterable[tuple[str, str]]) -> Group:
    table = Table.grid(padding=(0, 2))
    table.add_column(width=16, style="bold")
    table.add_column()
    for keys, description in rows:
        table.add_row(keys, description)
    return Group(Text(title, style="bold underline"), table)


class AddScripScreen(ModalScreen[str | None]):
    """Search the instrument list as you type (symbol, name or ``EXCH|TOKEN``)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="add.cancel"),
        Binding("down", "move(1)", "Next", id="add.down", show=False),
        Binding("up", "move(-1)", "Previous", id="add.up", show=False),
    ]
    LIMIT = 30

    def __init__(self, watchlist: str, catalogue: Sequence[Entry], present: Iterable[str]) -> None:
        super().__init__(id="add-scrip")
        self.watchlist = watchlist
        self.catalogue = catalogue
        self.present = set(present)

    def compose(self) -> ComposeResult:
        with Vertical(id="add-box", classes="dialog") as box:
            box.border_title = f"Add a scrip to {self.watchlist}"
            box.border_subtitle = "✓ already listed · enter adds · esc cancels"
            yield Input(placeholder="symbol, name or EXCH|TOKEN", id="add-query")
            yield OptionList(id="add-matches")
            yield Label("", id="add-hint")

    def on_mount(self) -> None:
        self._fill("")

    @on(Input.Changed, "#add-query")
    def _changed(self, event: Input.Changed) -> None:
        self._fill(event.value)

    def _fill(self, query: str) -> None:
        matches = self.matches(query)
        options = self.query_one("#add-matches", OptionList)
        options.clear_options()
        options.add_options(
            Option(_option_text(entry, entry.key in self.present), id=entry.key)
            for entry in matches
        )
        if matches:
            options.highlighted = 0
        hint = self.query_one("#add-hint", Label)
        if matches:
            hint.update(f"{len(matches)} match" + ("es" if len(matches) != 1 else ""))
        else:
            hint.update("No match: type a key as EXCH|TOKEN to add it as it is.")

    def matches(self, query: str) -> list[Entry]:
        """Catalogue matches; a typed ``EXCH|TOKEN`` not in the catalogue is offered too."""
        found = search(query, self.catalogue, self.LIMIT)
        key = _as_key(query)
        if key is not None and all(entry.key != key for entry in found):
            found.insert(0, Entry(key, key.partition("|")[2], "(as typed)"))
        return found

    def action_move(self, step: int) -> None:
        options = self.query_one("#add-matches", OptionList)
        if options.option_count:
            current = options.highlighted if options.highlighted is not None else -1
            options.highlighted = max(0, min(current + step, options.option_count - 1))

    @on(Input.Submitted, "#add-query")
    def _submitted(self) -> None:
        options = self.query_one("#add-matches", OptionList)
        if options.highlighted is not None and options.option_count:
            self.dismiss(options.get_option_at_index(options.highlighted).id)

    @on(OptionList.OptionSelected, "#add-matches")
    def _picked(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)


def _option_text(entry: Entry, present: bool) -> Text:
    """``✓ SYMBOL  EXCH|TOKEN  Name`` (the tick: already in this list)."""
    return Text.assemble(
        ("✓ " if present else "  ", "bold"),
        (f"{entry.symbol:<14}", "bold"),
        " ",
        (f"{entry.key:<12}", "dim"),
        " ",
        entry.name,
        no_wrap=True,
        overflow="ellipsis",
    )


def _as_key(query: str) -> str | None:
    exch, bar, token = query.strip().upper().partition("|")
    if bar and exch.isalnum() and token.isalnum():
        return f"{exch}|{token}"
    return None


class NameScreen(ModalScreen[str | None]):
    """Ask for a watchlist's name; ``check`` returns an error text or None."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="name.cancel"),
    ]

    def __init__(self, title: str, value: str, check: Callable[[str], str | None]) -> None:
        super().__init__(id="name-watchlist")
        self.title_text = title
        self.value = value
        self.check = check

    def compose(self) -> ComposeResult:
        with Vertical(id="name-box", classes="dialog") as box:
            box.border_title = self.title_text
            box.border_subtitle = "enter saves · esc cancels"
            yield Input(value=self.value, placeholder="watchlist name", id="name-input")
            yield Label("", id="name-error")

    @on(Input.Submitted, "#name-input")
    def _submitted(self, event: Input.Submitted) -> None:
        name = event.value.strip()
        problem = self.check(name)
        if problem:
            self.query_one("#name-error", Label).update(problem)
            return
        self.dismiss(name)

    def action_cancel(self) -> None:
        self.dismiss(None)


class ConfirmScreen(ModalScreen[bool]):
    """A yes/no question; ``y`` or ``enter`` answers yes, ``n`` or ``esc`` no."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y,enter", "answer(True)", "Yes", id="confirm.yes"),
        Binding("n,escape", "answer(False)", "No", id="confirm.no"),
    ]

    def __init__(self, question: str) -> None:
        super().__init__(id="confirm")
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-box", classes="dialog") as box:
            box.border_title = "Confirm"
            box.border_subtitle = "y yes · n no"
            yield Label(self.question, id="confirm-question")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)
