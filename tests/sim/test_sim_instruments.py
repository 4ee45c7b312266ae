"""The instrument table is sane and the add-scrip search ranks like a trader expects."""

from __future__ import annotations

from tui.sim.instruments import INSTRUMENTS, by_key, search


def test_the_table_is_on_the_grid_with_inward_circuit_bands() -> None:
    keys = [i.key for i in INSTRUMENTS]
    assert len(keys) == len(set(keys)) and len(keys) >= 40
    for inst in INSTRUMENTS:
        assert inst.pp == 2 and inst.lot >= 1 and inst.tick > 0
        for price in (inst.close, inst.lc, inst.uc):
            assert price % inst.tick == 0, inst
        band = 10 if inst.exchange == "PSX" else 20
        assert inst.lc < inst.close < inst.uc
        assert inst.uc - inst.close <= inst.close * band / 100 or inst.uc - inst.close <= 100
        assert inst.close - inst.lc <= inst.close * band / 100 or inst.close - inst.lc <= 100
        assert inst.l52 <= inst.close <= inst.h52
    assert by_key("NSE|2885").symbol == "RELIANCE"  # type: ignore[union-attr]
    assert by_key("NSE|26000").index and by_key("NSE|26009").members  # type: ignore[union-attr]
    ogdc = by_key("PSX|OGDC")
    assert ogdc is not None and ogdc.price_text(ogdc.uc) == "298.59" and ogdc.l0
    assert by_key("XXX|1") is None


def test_indices_have_members_of_their_exchange_and_serve_l0() -> None:
    for inst in INSTRUMENTS:
        if inst.index:
            assert inst.l0 and inst.members
            assert all(by_key(k) is not None and k.startswith(inst.exchange) for k in inst.members)


def test_search_ranks_symbol_prefix_then_name_word_then_substring() -> None:
    assert [i.symbol for i in search("hdfc")] == ["HDFCBANK"]
    found = [i.symbol for i in search("ba")]
    assert found[:2] == ["BAHL", "BAFL"]  # symbol prefixes, table order
    assert "AXISBANK" in found and found.index("AXISBANK") > found.index("BAJFINANCE")
    assert [i.key for i in search("nifty")] == ["NSE|26000", "NSE|26009"]
    assert search("2885")[0].symbol == "RELIANCE"
    assert search("nse|11536")[0].symbol == "TCS"
    assert search("  Oil ")[0].symbol in {"OGDC", "POL"}
    assert search("zzzz") == []
    assert len(search("", limit=5)) == 5
    assert len(search("a", limit=3)) == 3
