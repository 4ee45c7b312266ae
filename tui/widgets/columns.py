"""The watchlist's columns: one declaration each (header, width, priority, cell, sort key,
partner, place in the default set, what it shows), read by the widget, the config's help
and docs/CONFIG.md (a test keeps its table equal to :func:`columns_table`).

No Textual here: a cell is ``(text, component class)``, computed from a scrip's typed
values (:class:`Row`) and what the pane knows (:class:`Sheet`: the names, the circuit
threshold, the market's history).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, Literal, Protocol

from tui.market.scrip import EMPTY_LEVEL, Level
from tui.widgets.circuit import circuit
from tui.widgets.spark import spark
from tui.wire.prices import format_qty, format_units

if TYPE_CHECKING:
    from tui.market.scrip import Scrip
    from tui.market.store import Market

Cell = tuple[str, str]
SPARK_CELLS: Final = 8
#: sort values of prices are scaled to one precision, so scrips of any pp compare exactly
_SORT_PP: Final = 8


class Sheet(Protocol):
    """What a cell may read of the pane besides its row."""

    market: Market
    names: Mapping[str, str]
    #: the ``circuit_near`` percent in basis points
    near_bp: int


@dataclass(slots=True)
class Row:
    """What a row's cells and sort values are computed from (one scrip, converted)."""

    scrip: Scrip
    exch: str
    lp: int | None
    bid: Level
    ask: Level

    @classmethod
    def of(cls, scrip: Scrip) -> Row:
        return cls(
            scrip,
            scrip.key.partition("|")[0],
            scrip.get("lp"),
            scrip.level("b", 1),
            scrip.level("s", 1),
        )

    @property
    def pp(self) -> int:
        return self.scrip.pp


CellOf = Callable[[Sheet, Row], Cell]
SortOf = Callable[[Sheet, Row], "int | str | None"]


@dataclass(frozen=True, slots=True)
class ColumnSpec:
    """One watchlist column."""

    key: str
    title: str
    width: int
    align: Literal["left", "right"]
    #: 0: never dropped; on a narrow pane the highest goes first
    drop: int
    max_width: int
    cell: CellOf
    #: its sort value; None sorts last either way
    sort: SortOf
    #: what it shows, for the docs and the help
    about: str
    #: a column that makes sense only with this one: a narrow pane drops both or neither
    partner: str | None = None
    #: its place in the default set (None: not in it)
    default: int | None = None


# -- values ------------------------------------------------------------------------------


def _change(row: Row) -> int | None:
    close = row.scrip.get("c")
    return None if row.lp is None or not close else row.lp - close


def _spread_ticks(row: Row) -> tuple[int, int] | None:
    """``(ask - bid, tick)`` in units; None without both touch prices and a tick size."""
    tick = row.scrip.get("ti")
    if row.bid is EMPTY_LEVEL or row.ask is EMPTY_LEVEL or not tick:
        return None
    return row.ask.price - row.bid.price, tick


def _spread_text(diff: int, tick: int) -> str:
    ticks, rest = divmod(diff, tick)
    if not rest:
        return str(ticks)
    return format_units((diff * 20 + tick) // (tick * 2), 1)  # off the tick grid: tenths


def _trend(row: Row) -> str:
    pc = row.scrip.get("pc")
    return "watchlist--flat" if not pc else ("watchlist--up" if pc > 0 else "watchlist--down")


def _price_cell(units: int | None, row: Row, style: str = "") -> Cell:
    return format_units(units, row.pp), style


def _level_price(level: Level) -> int | None:
    return None if level is EMPTY_LEVEL else level.price


def _level_qty(level: Level) -> int | None:
    return None if level is EMPTY_LEVEL else level.qty


def _scaled(units: int | None, pp: int) -> int | None:
    return None if units is None else units * 10 ** max(_SORT_PP - pp, 0)


def _text_sort(text: str) -> str | None:
    return text.casefold() or None


def _spark_cell(w: Sheet, row: Row) -> Cell:
    return spark(w.market.history.prices(row.scrip.key), SPARK_CELLS), "watchlist--spark"


def _spark_sort(w: Sheet, row: Row) -> int | None:
    """The move over the sparkline's window, in basis points of its first price."""
    prices = w.market.history.prices(row.scrip.key)[-SPARK_CELLS:]
    return (prices[-1] - prices[0]) * 10_000 // prices[0] if prices and prices[0] else None


def _spread_cell(w: Sheet, row: Row) -> Cell:
    spread = _spread_ticks(row)
    if spread is None:
        return "", ""
    return _spread_text(*spread), "" if spread[0] > 0 else "watchlist--crossed"


def _spread_sort(w: Sheet, row: Row) -> int | None:
    spread = _spread_ticks(row)
    return None if spread is None else spread[0] * 10**6 // spread[1]  # millionths of a tick


def _circuit(w: Sheet, row: Row) -> tuple[str, str, int | None]:
    return circuit(row.lp, row.scrip.get("lc"), row.scrip.get("uc"), w.near_bp)


# -- the columns, in their usual order -----------------------------------------------------

COLUMNS: Final[dict[str, ColumnSpec]] = {
    spec.key: spec
    for spec in (
        ColumnSpec(
            "symbol", "SYMBOL", 10, "left", 0, 16,
            cell=lambda w, r: (r.scrip.symbol, "watchlist--symbol"),
            sort=lambda w, r: _text_sort(r.scrip.symbol),
            about="the trading symbol", default=1,
        ),
        ColumnSpec(
            "name", "NAME", 14, "left", 9, 24,
            cell=lambda w, r: (w.names.get(r.scrip.key, ""), "watchlist--name"),
            sort=lambda w, r: _text_sort(w.names.get(r.scrip.key, "")),
            about="the instrument's name",
        ),
        ColumnSpec(
            "last", "LAST", 8, "right", 0, 24,
            cell=lambda w, r: _price_cell(r.lp, r, _trend(r)),
            sort=lambda w, r: _scaled(r.lp, r.pp),
            about="the last price", default=2,
        ),
        ColumnSpec(
            "chg", "CHG", 6, "right", 5, 24,
            cell=lambda w, r: (format_units(_change(r), r.pp, sign=True), _trend(r)),
            sort=lambda w, r: _scaled(_change(r), r.pp),
            about="change from the previous close", default=3,
        ),
        ColumnSpec(
            "chg%", "CHG%", 6, "right", 0, 24,
            cell=lambda w, r: (format_units(r.scrip.get("pc"), 2, sign=True), _trend(r)),
            sort=lambda w, r: r.scrip.get("pc"),
            about="change in percent", default=4,
        ),
        ColumnSpec(
            "vol", "VOLUME", 9, "right", 6, 24,
            cell=lambda w, r: (format_qty(r.scrip.get("v")), ""),
            sort=lambda w, r: r.scrip.get("v"),
            about="the day's volume", default=8,
        ),
        ColumnSpec(
            "bid", "BID", 8, "right", 2, 24,
            cell=lambda w, r: _price_cell(_level_price(r.bid), r, "watchlist--bid"),
            sort=lambda w, r: _scaled(_level_price(r.bid), r.pp),
            about="the best bid", partner="ask", default=6,
        ),
        ColumnSpec(
            "ask", "ASK", 8, "right", 2, 24,
            cell=lambda w, r: _price_cell(_level_price(r.ask), r, "watchlist--ask"),
            sort=lambda w, r: _scaled(_level_price(r.ask), r.pp),
            about="the best offer", partner="bid", default=7,
        ),
        ColumnSpec(
            "bidq", "BID QTY", 7, "right", 7, 24,
            cell=lambda w, r: (format_qty(_level_qty(r.bid)), "watchlist--bid"),
            sort=lambda w, r: _level_qty(r.bid),
            about="the quantity at the best bid", partner="askq",
        ),
        ColumnSpec(
            "askq", "ASK QTY", 7, "right", 7, 24,
            cell=lambda w, r: (format_qty(_level_qty(r.ask)), "watchlist--ask"),
            sort=lambda w, r: _level_qty(r.ask),
            about="the quantity at the best offer", partner="bidq",
        ),
        ColumnSpec(
            "spread", "SPRD", 4, "right", 6, 24, cell=_spread_cell, sort=_spread_sort,
            about="the spread in ticks (tenths off the tick grid)",
        ),
        ColumnSpec(
            "high", "HIGH", 8, "right", 8, 24,
            cell=lambda w, r: _price_cell(r.scrip.get("h"), r),
            sort=lambda w, r: _scaled(r.scrip.get("h"), r.pp),
            about="the day's high", partner="low",
        ),
        ColumnSpec(
            "low", "LOW", 8, "right", 8, 24,
            cell=lambda w, r: _price_cell(r.scrip.get("l"), r),
            sort=lambda w, r: _scaled(r.scrip.get("l"), r.pp),
            about="the day's low", partner="high",
        ),
        ColumnSpec(
            "spark", "TREND", SPARK_CELLS, "right", 4, SPARK_CELLS,
            cell=_spark_cell, sort=_spark_sort,
            about="a sparkline of recent last prices", default=5,
        ),
        ColumnSpec(
            "ckt", "CKT", 5, "right", 3, 8,
            cell=lambda w, r: _circuit(w, r)[:2],
            sort=lambda w, r: _circuit(w, r)[2],
            about="circuit proximity: `▲0.8%` near the upper limit, `UC`/`LC` at a limit",
            default=9,
        ),
        ColumnSpec(
            "exch", "EXCH", 4, "left", 10, 8,
            cell=lambda w, r: (r.exch, "watchlist--dim"),
            sort=lambda w, r: _text_sort(r.exch),
            about="the exchange", default=10,
        ),
    )
}  # fmt: skip
#: the column keys a config may name, in their usual order
COLUMN_KEYS: Final = tuple(COLUMNS)
#: the columns shown when the config names none, in order
DEFAULT_COLUMNS: Final = tuple(
    sorted((s.key for s in COLUMNS.values() if s.default), key=lambda k: COLUMNS[k].default or 0)
)


def lone_partner(shown: Sequence[str], configured: Collection[str]) -> str | None:
    """The first shown column (one that may be dropped) whose configured partner is not
    shown: a narrow pane drops it too."""
    for key in shown:
        spec = COLUMNS[key]
        if spec.drop and spec.partner in configured and spec.partner not in shown:
            return key
    return None


def columns_table() -> str:
    """The columns as the Markdown table of docs/CONFIG.md."""
    lines = ["| key | header | shows | default set | narrow pane drops it (highest first) |",
             "|---|---|---|---|---|"]  # fmt: skip
    for s in COLUMNS.values():
        default = f"{s.default}." if s.default else ""
        drop = (
            "never" if not s.drop else f"{s.drop}" + (f", with `{s.partner}`" if s.partner else "")
        )
        lines.append(f"| `{s.key}` | {s.title} | {s.about} | {default} | {drop} |")
    return "\n".join(lines)
