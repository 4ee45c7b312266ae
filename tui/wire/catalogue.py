"""The instruments a user can add to a watchlist, searched as they type.

A catalogue entry is anything with ``key`` (``EXCH|TOKEN``), ``symbol`` and ``name``: the
simulator's :class:`~tui.sim.instruments.Instrument`, or an :class:`Entry` built from a
scrip master.  Ranking, for the add-scrip modal: symbol prefix (or the exact token or
key), then a name word prefix, then a substring of symbol, name or key; within a rank the
catalogue's order.  An empty query lists everything (up to ``limit``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import NamedTuple, Protocol, TypeVar


class Listed(Protocol):
    @property
    def key(self) -> str: ...
    @property
    def symbol(self) -> str: ...
    @property
    def name(self) -> str: ...


class Entry(NamedTuple):
    key: str
    symbol: str
    name: str
    #: an index: a value and no order book (the desk asks only its touchline)
    is_index: bool = False


T = TypeVar("T", bound=Listed)


def search(query: str, pool: Sequence[T], limit: int = 20) -> list[T]:
    """Entries of ``pool`` matching ``query`` (case-insensitive), best first."""
    q = query.strip().casefold()
    if not q:
        return list(pool[:limit])
    ranked: list[tuple[int, int, T]] = []
    for i, item in enumerate(pool):
        symbol, name, key = item.symbol.casefold(), item.name.casefold(), item.key.casefold()
        token = key.partition("|")[2]
        if symbol.startswith(q) or token == q or key == q:
            rank = 0
        elif name.startswith(q) or any(w.startswith(q) for w in name.split()):
            rank = 1
        elif q in symbol or q in name or q in key:
            rank = 2
        else:
            continue
        ranked.append((rank, i, item))
    ranked.sort(key=lambda r: (r[0], r[1]))
    return [item for _, _, item in ranked[:limit]]


def entries(items: Iterable[Listed]) -> list[Entry]:
    """Plain entries of any listed items (first of each key kept); an item whose ``index``
    attribute is True (the simulator's instruments) is marked an index."""
    seen: dict[str, Entry] = {}
    for item in items:
        flag = item.is_index if isinstance(item, Entry) else getattr(item, "index", False)
        seen.setdefault(item.key, Entry(item.key, item.symbol, item.name, flag is True))
    return list(seen.values())
