"""The ``[surveillance]`` table: the thresholds every rule shares, and the whole table
assembled from them and each rule's own ``Limits``.

Durations are seconds, distances ticks (``ti``), quantities shares, ratios plain
multiples.  docs/SURVEILLANCE.md gives the reason for each default.
"""

from __future__ import annotations

from collections.abc import Sequence
from difflib import get_close_matches
from typing import TYPE_CHECKING, Annotated, Any, cast

import msgspec

if TYPE_CHECKING:
    from tui.market.rules.rule import Rule

# The constrained types rules declare their thresholds with.
Positive = Annotated[float, msgspec.Meta(gt=0)]
Seconds = Annotated[float, msgspec.Meta(ge=0)]
Count = Annotated[int, msgspec.Meta(ge=1)]
Qty = Annotated[int, msgspec.Meta(ge=0)]
Ratio = Annotated[float, msgspec.Meta(ge=1)]
Percent = Annotated[float, msgspec.Meta(ge=0, le=100)]


class General(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    """The thresholds of no one rule: which run, and the repeat policy."""

    #: the rules that run (default: all of them)
    enabled: list[str] = msgspec.field(default_factory=list)
    #: an alert whose condition lasts fires again after this many seconds
    repeat_after: Positive = 300.0
    #: a condition has cleared once it has not held for this long (no alert on a flicker)
    clear_after: Seconds = 5.0
    #: observations a rolling median needs before a rule judges against it
    min_samples: Count = 20


def assemble(rules: Sequence[type[Rule[Any, Any]]]) -> type[General]:
    """The ``Thresholds`` struct: :class:`General`'s fields, then each rule's ``Limits``
    in the order of ``rules``; ``enabled`` defaults to every rule and is checked."""
    names = tuple(rule.name for rule in rules)
    fields: list[tuple[str, Any, Any]] = [
        ("enabled", list[str], msgspec.field(default_factory=lambda: list(names)))
    ]
    taken = set(General.__struct_fields__)
    for rule in rules:
        for f in msgspec.structs.fields(rule.Limits):
            if f.name in taken:
                raise TypeError(f"rule {rule.name!r}: threshold {f.name!r} is declared twice")
            taken.add(f.name)
            default = f.default
            if default is msgspec.NODEFAULT:
                default = msgspec.field(default_factory=f.default_factory)
            fields.append((f.name, f.type, default))

    def __post_init__(self: General) -> None:
        repeated = sorted({name for name in self.enabled if self.enabled.count(name) > 1})
        if repeated:
            raise ValueError(f"enabled lists {', '.join(map(repr, repeated))} more than once")
        for name in self.enabled:
            if name not in names:
                near = get_close_matches(name, names, n=1)
                hint = f" (did you mean {near[0]!r}?)" if near else f"; one of: {', '.join(names)}"
                raise ValueError(f"enabled lists an unknown rule {name!r}{hint}")

    doc = "Every threshold of every rule, with its default (the ``[surveillance]`` table)."
    struct = msgspec.defstruct(
        "Thresholds",
        fields,
        bases=(General,),
        module="tui.market.rules",
        namespace={"__post_init__": __post_init__, "__doc__": doc},
        forbid_unknown_fields=True,
        frozen=True,
        kw_only=True,
    )
    return cast("type[General]", struct)
