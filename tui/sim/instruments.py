"""The simulator's instrument list: real PSX and NSE names, plus a search for the desk.

Prices here are integers in units of ``10^-pp`` (the project never holds a price in a
float): ``close=141560`` with ``pp=2`` is ``1415.60``.  Closing prices and 52-week ranges
are plausible round figures, not market data; NSE tokens are the exchange's real scrip
tokens (``NSE|2885`` is RELIANCE), PSX instruments are keyed by symbol (``PSX|OGDC``).

Circuit limits follow the spec of the simulator: +-10% (at least one rupee) on PSX,
+-20% on NSE, rounded *inwards* to the tick so a limit price is always tradable.
Indices get the same bands internally (the simulator keeps their value inside) but the
feed does not send ``lc``/``uc`` for an index, as the real feed does not.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from tui.wire import catalogue
from tui.wire.prices import format_units, to_units

PP: Final = 2


@dataclass(frozen=True, slots=True)
class Instrument:
    """One tradable scrip or index.  Prices in units of ``10^-pp``."""

    exchange: str
    token: str
    symbol: str
    name: str
    pp: int
    tick: int
    lot: int
    close: int
    lc: int
    uc: int
    h52: int
    l52: int
    #: an index has no order book; its value follows its ``members``
    index: bool = False
    #: served on the L0 endpoint (indices and a limited list of scrips)
    l0: bool = False
    #: relative activity: how often the market steps this scrip
    weight: float = 1.0
    #: keys of the constituents, for an index
    members: tuple[str, ...] = ()
    #: total open interest of the underlying's derivatives (indices only; 0 = not sent)
    toi: int = 0

    @property
    def key(self) -> str:
        """The state key ``EXCH|TOKEN``."""
        return f"{self.exchange}|{self.token}"

    def price_text(self, units: int) -> str:
        """A price in this instrument's precision, as the wire sends it."""
        return format_units(units, self.pp)


# ----------------------------------------------------------------------------- table
# (token, symbol, name, close, 52-week low, 52-week high, weight, on L0)
_Row = tuple[str, str, str, str, str, str, float, bool]

_PSX: Final[tuple[_Row, ...]] = (
    ("OGDC", "OGDC", "Oil & Gas Development Company", "271.45", "168.20", "303.90", 3.0, True),
    ("PPL", "PPL", "Pakistan Petroleum", "182.60", "121.35", "214.80", 2.5, True),
    ("MARI", "MARI", "Mari Energies", "688.20", "455.10", "742.00", 1.5, False),
    ("POL", "POL", "Pakistan Oilfields", "598.30", "512.75", "671.40", 1.0, False),
    ("PSO", "PSO", "Pakistan State Oil", "421.75", "265.40", "463.10", 2.0, True),
    ("HUBC", "HUBC", "Hub Power Company", "152.10", "118.60", "177.35", 2.5, True),
    ("HBL", "HBL", "Habib Bank", "282.40", "149.90", "298.75", 2.0, True),
    ("MCB", "MCB", "MCB Bank", "338.90", "236.15", "356.20", 1.5, False),
    ("UBL", "UBL", "United Bank", "398.15", "255.70", "421.60", 1.5, False),
    ("MEBL", "MEBL", "Meezan Bank", "412.55", "231.80", "447.95", 1.5, False),
    ("BAHL", "BAHL", "Bank AL Habib", "167.80", "109.25", "184.40", 1.0, False),
    ("NBP", "NBP", "National Bank of Pakistan", "189.30", "64.70", "205.10", 1.5, False),
    ("BAFL", "BAFL", "Bank Alfalah", "88.40", "60.15", "99.80", 1.0, False),
    ("FFC", "FFC", "Fauji Fertilizer Company", "428.65", "285.30", "455.00", 2.0, True),
    ("EFERT", "EFERT", "Engro Fertilizers", "221.35", "165.90", "239.70", 1.5, False),
    ("ENGRO", "ENGRO", "Engro Holdings", "312.90", "201.40", "344.25", 1.5, False),
    ("LUCK", "LUCK", "Lucky Cement", "478.20", "318.55", "512.60", 2.0, True),
    ("DGKC", "DGKC", "D.G. Khan Cement", "228.40", "96.30", "246.85", 1.5, False),
    ("MLCF", "MLCF", "Maple Leaf Cement", "104.75", "39.80", "114.20", 1.0, False),
    ("FCCL", "FCCL", "Fauji Cement Company", "54.30", "24.15", "59.95", 1.0, False),
    ("SYS", "SYS", "Systems Limited", "158.65", "112.40", "187.30", 2.0, True),
    ("TRG", "TRG", "TRG Pakistan", "71.20", "48.35", "84.90", 2.0, False),
    ("AIRLINK", "AIRLINK", "Air Link Communication", "172.40", "102.50", "199.00", 1.5, False),
    ("SEARL", "SEARL", "The Searle Company", "112.85", "58.10", "128.40", 1.0, False),
    ("SNGP", "SNGP", "Sui Northern Gas Pipelines", "121.60", "64.25", "133.75", 1.5, False),
    ("KEL", "KEL", "K-Electric", "5.92", "3.71", "6.88", 2.0, False),
    ("PAEL", "PAEL", "Pak Elektron", "46.30", "24.90", "52.15", 1.0, False),
    ("NML", "NML", "Nishat Mills", "142.75", "68.40", "158.90", 1.0, False),
    ("ATRL", "ATRL", "Attock Refinery", "752.10", "388.60", "812.45", 1.0, False),
    ("ISL", "ISL", "International Steels", "98.35", "61.20", "109.75", 1.0, False),
)

_NSE: Final[tuple[_Row, ...]] = (
    ("2885", "RELIANCE", "Reliance Industries", "1415.60", "1114.85", "1608.80", 3.0, True),
    ("11536", "TCS", "Tata Consultancy Services", "3052.40", "2866.60", "4585.90", 2.5, True),
    ("1594", "INFY", "Infosys", "1487.30", "1307.00", "2006.45", 2.5, True),
    ("1333", "HDFCBANK", "HDFC Bank", "985.20", "812.15", "1018.85", 3.0, True),
    ("4963", "ICICIBANK", "ICICI Bank", "1372.80", "1186.00", "1500.00", 2.5, True),
    ("3045", "SBIN", "State Bank of India", "872.45", "680.00", "899.00", 2.0, True),
    ("1660", "ITC", "ITC", "404.15", "390.15", "528.50", 1.5, False),
    ("11483", "LT", "Larsen & Toubro", "3874.90", "2965.30", "3963.50", 1.5, False),
    ("5900", "AXISBANK", "Axis Bank", "1184.35", "933.50", "1247.00", 1.5, False),
    ("1922", "KOTAKBANK", "Kotak Mahindra Bank", "2118.70", "1679.05", "2301.90", 1.5, False),
    ("10604", "BHARTIARTL", "Bharti Airtel", "1962.25", "1511.00", "2045.80", 1.5, False),
    ("1394", "HINDUNILVR", "Hindustan Unilever", "2451.80", "2136.00", "2750.00", 1.0, False),
    ("317", "BAJFINANCE", "Bajaj Finance", "1024.55", "645.10", "1102.50", 1.5, False),
    ("10999", "MARUTI", "Maruti Suzuki India", "15912.00", "10725.00", "16658.00", 1.0, False),
    ("3787", "WIPRO", "Wipro", "242.35", "225.05", "324.60", 1.0, False),
    (
        "3351",
        "SUNPHARMA",
        "Sun Pharmaceutical Industries",
        "1689.40",
        "1548.00",
        "1960.35",
        1.0,
        False,
    ),
    ("3499", "TATASTEEL", "Tata Steel", "171.85", "122.60", "186.95", 1.5, False),
    ("11630", "NTPC", "NTPC", "338.60", "292.80", "425.00", 1.0, False),
    ("2475", "ONGC", "Oil & Natural Gas Corporation", "246.70", "205.00", "287.55", 1.0, False),
    ("7229", "HCLTECH", "HCL Technologies", "1512.95", "1302.75", "2012.20", 1.0, False),
    ("5258", "INDUSINDBK", "IndusInd Bank", "748.30", "605.40", "1086.55", 1.0, False),
)

_NSE_BANKS: Final = ("1333", "4963", "3045", "5900", "1922", "5258")

# (exchange, token, symbol, name, close, 52l, 52h, members, toi)
_INDICES: Final = (
    ("NSE", "26000", "Nifty 50", "Nifty 50", "25112.40", "21743.65", "26277.35", "NSE*", 62387700),
    (
        "NSE",
        "26009",
        "Nifty Bank",
        "Nifty Bank",
        "56480.25",
        "47702.90",
        "57628.40",
        "#".join(_NSE_BANKS),
        2861400,
    ),
    ("PSX", "KSE100", "KSE100", "KSE-100 Index", "158432.17", "94203.58", "166511.02", "PSX*", 0),
)

_BANDS: Final = {"PSX": (10, 100), "NSE": (20, 0)}  # (percent, at least this many units)
_TICKS: Final = {"PSX": 1, "NSE": 5}  # units of 0.01


def _units(text: str) -> int:
    units = to_units(text, PP)
    assert units is not None, text
    return units


def _band(exchange: str, close: int, tick: int) -> tuple[int, int]:
    """Circuit limits around ``close``, rounded inwards to the tick grid."""
    percent, floor = _BANDS[exchange]
    width = max(close * percent // 100, floor)
    lc = -(-(close - width) // tick) * tick
    uc = (close + width) // tick * tick
    return max(lc, tick), uc


def _stock(exchange: str, row: _Row) -> Instrument:
    token, symbol, name, close_t, l52_t, h52_t, weight, l0 = row
    tick = _TICKS[exchange]
    close = _units(close_t)
    assert close % tick == 0, f"{symbol} close off the tick grid"
    lc, uc = _band(exchange, close, tick)
    return Instrument(
        exchange,
        token,
        symbol,
        name,
        PP,
        tick,
        1,
        close,
        lc,
        uc,
        max(_units(h52_t), close),
        min(_units(l52_t), close),
        weight=weight,
        l0=l0,
    )


def _build() -> tuple[Instrument, ...]:
    stocks = [_stock("PSX", row) for row in _PSX] + [_stock("NSE", row) for row in _NSE]
    indices = []
    for exchange, token, symbol, name, close_t, l52_t, h52_t, members, toi in _INDICES:
        if members.endswith("*"):
            keys = tuple(s.key for s in stocks if s.exchange == members[:-1])
        else:
            keys = tuple(f"{exchange}|{t}" for t in members.split("#"))
        tick = _TICKS[exchange]
        close = _units(close_t)
        lc, uc = _band(exchange, close, tick)
        indices.append(
            Instrument(
                exchange,
                token,
                symbol,
                name,
                PP,
                tick,
                1,
                close,
                lc,
                uc,
                _units(h52_t),
                _units(l52_t),
                index=True,
                l0=True,
                weight=2.0,
                members=keys,
                toi=toi,
            )
        )
    return (*indices, *stocks)


#: Every instrument the simulator knows, indices first.
INSTRUMENTS: Final[tuple[Instrument, ...]] = _build()
_BY_KEY: Final = {inst.key: inst for inst in INSTRUMENTS}


def by_key(key: str) -> Instrument | None:
    """The instrument of ``EXCH|TOKEN``, or None."""
    return _BY_KEY.get(key)


def search(
    query: str,
    instruments: tuple[Instrument, ...] | list[Instrument] | None = None,
    limit: int = 20,
) -> list[Instrument]:
    """Instruments matching ``query`` (symbol, name, token or key; case-insensitive),
    ranked as :func:`tui.wire.catalogue.search` ranks them."""
    return catalogue.search(query, INSTRUMENTS if instruments is None else instruments, limit)
