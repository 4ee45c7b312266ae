"""DeskApp is put together from parts (tui/app.py's bases, docs/ARCHITECTURE.md): every key
reaches an action some part defines, every method one part calls on another is defined in
exactly one part, and no part outgrows a file."""

from __future__ import annotations

import inspect
from pathlib import Path

from textual.binding import Binding

import tui.app
from tui import keymap
from tui.app import DeskApp
from tui.deskparts import DeskParts

PARTS = [base for base in DeskApp.__mro__[1:] if base.__module__.startswith("tui.")]


def test_the_desk_is_made_of_one_part_a_module():
    modules = [part.__module__ for part in PARTS]
    assert len(modules) == len(set(modules)) >= 9
    assert DeskParts not in DeskApp.__mro__, "DeskParts is for the type checker only"


def test_every_desk_key_reaches_an_action_of_the_desk():
    for binding in keymap.BINDINGS:
        assert isinstance(binding, Binding)
        name = binding.action.partition("(")[0]
        assert callable(getattr(DeskApp, f"action_{name}", None)), binding.id


def test_every_method_a_part_calls_on_another_is_defined_in_exactly_one_part():
    shared = [name for name, value in vars(DeskParts).items() if inspect.isfunction(value)]
    assert shared
    for name in shared:
        owners = [part.__name__ for part in PARTS if name in vars(part)]
        assert len(owners) == 1, (name, owners)
        stub, real = getattr(DeskParts, name), getattr(DeskApp, name)
        assert inspect.signature(stub) == inspect.signature(real), name


def test_no_module_of_the_desk_app_is_over_500_lines():
    files = [Path(tui.app.__file__)] + [Path(inspect.getfile(part)) for part in PARTS]
    for path in files:
        lines = len(path.read_text(encoding="utf-8").splitlines())
        assert lines < 500, f"{path.name}: {lines} lines"
