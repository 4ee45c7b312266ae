"""The JSON shape the headless CLI prints: prices as strings with the scrip's precision."""

from tui.market.export import scrip_json
from tui.market.store import Market


def test_a_scrip_exports_with_exact_prices_and_levels():
    market = Market()
    market.apply(
        {
            "t": "dk",
            "e": "NSE",
            "tk": "26000",
            "ts": "Nifty 50",
            "pp": "2",
            "ti": "0.05",
            "lp": "24865.45",
            "pc": "-0.98",
            "v": "1200",
            "c": "25112.40",
            "52h": "26277.35",
            "bp1": "24865.40",
            "bq1": "75",
            "bo1": "3",
            "bp2": "24865.35",
            "bq2": "50",
            "bo2": "1",
            "sp1": "24865.50",
            "sq1": "25",
            "so1": "1",
            "ft": "1750652516",
        }
    )
    market.apply(
        {"t": "df", "e": "NSE", "tk": "26000", "lp": "24872.1", "bp2": "0", "bq2": "0", "bo2": "0"}
    )
    doc = scrip_json(market.view("NSE|26000"))
    assert doc["lp"] == "24872.10" and doc["pc"] == "-0.98" and doc["52h"] == "26277.35"
    assert doc["v"] == 1200 and doc["ft"] == 1750652516 and doc["ts"] == "Nifty 50"
    assert doc["bids"] == [["24865.40", 75, 3]]
    assert doc["asks"] == [["24865.50", 25, 1]]
    assert "uc" not in doc  # unknown fields are left out, not invented
