"""Named watchlists: every edit and its refusal, and a file that is never lost."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

import pytest

from tui.launch import (
    DEFAULT_WATCH,
    MAIN_STOCKS,
    feed_watchlists,
    open_watchlists,
    simulator_watchlists,
)
from tui.sim.instruments import INSTRUMENTS
from tui.watchlist_store import MAX_NAME, Watchlists, WatchlistStore, default_path, dump, parse

STAMP = datetime(2025, 1, 2, 3, 4, 5)
BAD_NAME = "watchlists.bad-20250102-030405.toml"


@pytest.fixture(autouse=True)
def own_config_dir(tmp_path, monkeypatch) -> Path:
    home = tmp_path / "cfg"
    monkeypatch.setenv("MARKETDESK_CONFIG_DIR", str(home))
    return home


def two_lists() -> Watchlists:
    return Watchlists(
        [("Main", ["NSE|26000", "NSE|2885", "PSX|OGDC"]), ("Banks", ["PSX|HBL", "NSE|2885"])]
    )


def store_at(tmp_path: Path) -> WatchlistStore:
    return WatchlistStore(tmp_path / "watchlists.toml", now=lambda: STAMP)


# -- the model: reading ---------------------------------------------------------------------
def test_the_first_list_is_active_unless_named():
    wl = two_lists()
    assert wl.names() == ("Main", "Banks") and wl.active == "Main"
    assert Watchlists([("A", []), ("B", [])], active="b").active == "B"


def test_all_keys_is_the_union_in_order_for_subscriptions():
    assert two_lists().all_keys() == ("NSE|26000", "NSE|2885", "PSX|OGDC", "PSX|HBL")


def test_keys_of_is_a_copy_matched_ignoring_case():
    wl = two_lists()
    assert wl.keys_of("banks") == ("PSX|HBL", "NSE|2885")
    with pytest.raises(ValueError, match="there is no watchlist named 'Nope'"):
        wl.keys_of("Nope")


@pytest.mark.parametrize(
    ("lists", "active", "expected"),
    [
        ([], None, "there must be at least one watchlist"),
        ([("A", ["OGDC"])], None, "not a scrip key \\(EXCH\\|TOKEN\\): 'OGDC'"),
        ([("A", ["PSX|OGDC", "PSX|OGDC"])], None, "PSX\\|OGDC is already in 'A'"),
        ([("A", []), ("a", [])], None, "there is already a watchlist named 'A'"),
        ([("A", [])], "B", "active = 'B' is not one of the watchlists"),
    ],
)
def test_a_bad_set_of_lists_is_refused(lists, active, expected):
    with pytest.raises(ValueError, match=expected):
        Watchlists(lists, active=active)


# -- the model: names -------------------------------------------------------------------------
def test_create_appends_an_empty_list_with_a_trimmed_name():
    wl = two_lists()
    assert wl.create("  Energy ") == "Energy"
    assert wl.names() == ("Main", "Banks", "Energy") and wl.keys_of("Energy") == ()
    assert wl.active == "Main"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("", "a watchlist name cannot be empty"),
        ("   ", "a watchlist name cannot be empty"),
        ("x" * (MAX_NAME + 1), f"a watchlist name is at most {MAX_NAME} characters \\(25 given\\)"),
        ("tab\there", "a watchlist name cannot hold control characters"),
        ("MAIN", "there is already a watchlist named 'Main'"),
        (" banks ", "there is already a watchlist named 'Banks'"),
    ],
)
def test_bad_names_are_refused(name, expected):
    wl = two_lists()
    with pytest.raises(ValueError, match=expected):
        wl.create(name)
    with pytest.raises(ValueError, match=expected):
        wl.rename("Main" if name.strip().lower() != "main" else "Banks", name)
    assert wl == two_lists()  # nothing changed


def test_a_name_of_exactly_the_limit_is_accepted():
    wl = two_lists()
    assert wl.create("x" * MAX_NAME) == "x" * MAX_NAME


def test_rename_keeps_the_order_the_scrips_and_the_active_mark():
    wl = two_lists()
    assert wl.rename("main", "Core") == "Core"
    assert wl.names() == ("Core", "Banks") and wl.active == "Core"
    assert wl.keys_of("Core") == ("NSE|26000", "NSE|2885", "PSX|OGDC")
    assert wl.rename("Core", "CORE") == "CORE"  # changing only the case of a name is allowed
    wl.rename("Banks", "Lenders")
    assert wl.active == "CORE"


def test_delete_moves_the_active_mark_to_a_neighbour_and_never_removes_the_last():
    wl = Watchlists([("A", []), ("B", []), ("C", [])], active="B")
    wl.delete("b")
    assert wl.names() == ("A", "C") and wl.active == "C"
    wl.delete("C")
    assert wl.active == "A"
    with pytest.raises(ValueError, match="cannot delete 'A': it is the only watchlist"):
        wl.delete("A")
    assert wl.names() == ("A",)


def test_deleting_an_inactive_list_keeps_the_active_one():
    wl = two_lists()
    wl.delete("Banks")
    assert wl.active == "Main" and wl.names() == ("Main",)


def test_set_active_matches_ignoring_case_and_refuses_unknown_names():
    wl = two_lists()
    assert wl.set_active("BANKS") == "Banks" and wl.active == "Banks"
    with pytest.raises(ValueError, match="there is no watchlist named 'Nope'"):
        wl.set_active("Nope")
    assert wl.active == "Banks"


# -- the model: scrips ------------------------------------------------------------------------
def test_add_appends_a_trimmed_key():
    wl = two_lists()
    assert wl.add("Banks", " PSX|MCB ") == "PSX|MCB"
    assert wl.keys_of("Banks") == ("PSX|HBL", "NSE|2885", "PSX|MCB")


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("PSX|HBL", "PSX\\|HBL is already in 'Banks'"),
        ("HBL", "not a scrip key"),
        ("|HBL", "not a scrip key"),
        ("PSX|", "not a scrip key"),
        ("PSX|HBL|X", "not a scrip key"),
        ("PSX|HBL#PSX|MCB", "not a scrip key"),
        ("PSX|H BL", "not a scrip key"),
    ],
)
def test_add_refuses_duplicates_and_malformed_keys(key, expected):
    wl = two_lists()
    with pytest.raises(ValueError, match=expected):
        wl.add("Banks", key)
    assert wl == two_lists()


def test_the_same_scrip_may_be_in_two_lists():
    wl = two_lists()
    wl.add("Banks", "PSX|OGDC")
    assert "PSX|OGDC" in wl.keys_of("Main") and "PSX|OGDC" in wl.keys_of("Banks")


def test_remove_drops_one_key_and_refuses_an_absent_one():
    wl = two_lists()
    wl.remove("Main", "NSE|2885")
    assert wl.keys_of("Main") == ("NSE|26000", "PSX|OGDC")
    assert "NSE|2885" in wl.all_keys()  # still watched in Banks
    with pytest.raises(ValueError, match="NSE\\|2885 is not in 'Main'"):
        wl.remove("main", "NSE|2885")


def test_move_up_and_down_clamped_to_the_list():
    wl = two_lists()
    assert wl.move("Main", "PSX|OGDC", -1) == 1
    assert wl.keys_of("Main") == ("NSE|26000", "PSX|OGDC", "NSE|2885")
    assert wl.move("Main", "PSX|OGDC", -10) == 0
    assert wl.keys_of("Main") == ("PSX|OGDC", "NSE|26000", "NSE|2885")
    assert wl.move("Main", "PSX|OGDC", 10) == 2
    assert wl.keys_of("Main") == ("NSE|26000", "NSE|2885", "PSX|OGDC")
    assert wl.move("Main", "PSX|OGDC", 1) == 2  # already last: stays
    with pytest.raises(ValueError, match="PSX\\|HBL is not in 'Main'"):
        wl.move("Main", "PSX|HBL", 1)


# -- the file ---------------------------------------------------------------------------------
def test_a_missing_file_gives_the_default_silently_and_writes_nothing(tmp_path):
    store = store_at(tmp_path)
    default = two_lists()
    loaded, message = store.load(default)
    assert loaded is default and message is None
    assert list(tmp_path.iterdir()) == []


def test_save_then_load_round_trips(tmp_path):
    wl = two_lists()
    wl.create("Empty")
    wl.set_active("Banks")
    store = store_at(tmp_path)
    store.save(wl)
    loaded, message = store_at(tmp_path).load(feed_watchlists())
    assert message is None and loaded == wl and loaded.active == "Banks"


def test_the_file_has_the_documented_layout_under_a_comment_header(tmp_path):
    store = store_at(tmp_path)
    store.save(Watchlists([("Main", ["NSE|26000", "NSE|2885"])]))
    text = store.path.read_text(encoding="utf-8")
    assert text.startswith("# marketdesk watchlists")
    body = "\n".join(line for line in text.splitlines() if not line.startswith("#")).strip()
    assert body.startswith('active = "Main"\n\n[[watchlists]]\nname = "Main"\nscrips = [')
    assert parse(text) == Watchlists([("Main", ["NSE|26000", "NSE|2885"])])


def test_save_creates_the_directory_and_leaves_no_temporary_file(tmp_path):
    store = WatchlistStore(tmp_path / "a" / "b" / "watchlists.toml")
    store.save(two_lists())
    assert [p.name for p in store.path.parent.iterdir()] == ["watchlists.toml"]


@pytest.mark.parametrize("failing", ["fsync", "replace"])
def test_a_failure_during_save_leaves_the_old_file_whole(tmp_path, monkeypatch, failing):
    store = store_at(tmp_path)
    store.save(two_lists())
    before = store.path.read_bytes()
    changed = two_lists()
    changed.add("Main", "PSX|MCB")

    def broken(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, failing, broken)
    with pytest.raises(OSError, match="No space left"):
        store.save(changed)
    monkeypatch.undo()
    assert store.path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["watchlists.toml"]  # temp file removed
    assert store_at(tmp_path).load(feed_watchlists())[0] == two_lists()


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("[[watchlists]\nname = 'Main'\n", "not valid TOML: "),
        ("[[watchlists]]\nname = 'Main'\nscrip = []\n", "unknown key 'scrip' in [[watchlists]] #1"),
        (
            "[[watchlists]]\nname = 'Main'\nscrips = [1]\n",
            "[[watchlists]] #1 scrips item 1: expected a string",
        ),
        ("active = 'Main'\n", "the key 'watchlists' is missing"),
        (
            "[[watchlists]]\nname = 'Main'\nscrips = ['OGDC']\n",
            "not a scrip key (EXCH|TOKEN): 'OGDC'",
        ),
        ("[[watchlists]]\nname = ''\n", "a watchlist name cannot be empty"),
        (
            "active = 'Gone'\n[[watchlists]]\nname = 'Main'\n",
            "active = 'Gone' is not one of the watchlists",
        ),
    ],
)
def test_a_bad_file_is_kept_aside_and_the_default_used(tmp_path, text, reason):
    store = store_at(tmp_path)
    store.path.write_text(text, encoding="utf-8")
    default = two_lists()
    loaded, message = store.load(default)
    assert loaded is default
    bad = tmp_path / BAD_NAME
    assert bad.read_text(encoding="utf-8") == text  # kept whole
    assert not store.path.exists()
    assert message.startswith(f"watchlists.toml could not be read ({reason}")
    assert message.endswith(
        f"); it was kept as {bad} and the desk started with the default watchlists."
    )
    assert "\n" not in message


def test_a_file_that_is_not_text_is_kept_aside(tmp_path):
    store = store_at(tmp_path)
    store.path.write_bytes(b"\xff\xfe\x00garbage")
    loaded, message = store.load(two_lists())
    assert loaded == two_lists() and "not a UTF-8 text file" in message
    assert (tmp_path / BAD_NAME).read_bytes() == b"\xff\xfe\x00garbage"


def test_a_bad_file_never_overwrites_an_earlier_bad_file(tmp_path):
    store = store_at(tmp_path)
    store.path.write_text("first = [", encoding="utf-8")
    store.load(two_lists())
    store.path.write_text("second = [", encoding="utf-8")
    _, message = store.load(two_lists())
    assert (tmp_path / BAD_NAME).read_text() == "first = ["
    second = tmp_path / "watchlists.bad-20250102-030405-1.toml"
    assert second.read_text() == "second = [" and str(second) in message


def test_after_a_bad_file_the_next_save_writes_a_fresh_file_beside_it(tmp_path):
    store = store_at(tmp_path)
    store.path.write_text("oops", encoding="utf-8")
    loaded, _ = store.load(two_lists())
    loaded.create("New")
    store.save(loaded)
    assert store_at(tmp_path).load(feed_watchlists()) == (loaded, None)
    assert (tmp_path / BAD_NAME).read_text() == "oops"


def test_a_bad_file_that_cannot_be_moved_aside_is_never_overwritten(tmp_path, monkeypatch):
    store = store_at(tmp_path)
    store.path.write_text("oops", encoding="utf-8")

    def refuse(*args):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(os, "rename", refuse)
    loaded, message = store.load(two_lists())
    assert loaded == two_lists()
    assert "nor moved aside (Permission denied)" in message and "edits will not be saved" in message
    with pytest.raises(PermissionError, match="watchlists not saved"):
        store.save(loaded)
    assert store.path.read_text() == "oops"


def test_an_unreadable_path_gives_the_default_and_refuses_to_save(tmp_path):
    store = store_at(tmp_path)
    store.path.mkdir()  # a directory where the file should be
    loaded, message = store.load(two_lists())
    assert loaded == two_lists() and "could not be read" in message
    with pytest.raises(PermissionError):
        store.save(loaded)
    assert store.path.is_dir()


def test_dump_is_parsed_back_exactly():
    wl = Watchlists([('Ünïcode "quoted"', ["NSE|26000"]), ("B", [])], active="B")
    assert parse(dump(wl)) == wl


# -- what the desk starts with ---------------------------------------------------------------
def test_the_file_lives_beside_the_config(own_config_dir):
    assert default_path() == own_config_dir / "watchlists.toml"


def test_the_simulator_default_has_main_and_all():
    wl = simulator_watchlists(INSTRUMENTS)
    indices = [i.key for i in INSTRUMENTS if i.index]
    stocks = [i.key for i in INSTRUMENTS if not i.index]
    assert wl.names() == ("Main", "All") and wl.active == "Main"
    assert wl.keys_of("Main") == (*indices, *stocks[:MAIN_STOCKS])
    assert wl.keys_of("All") == tuple(i.key for i in INSTRUMENTS)


def test_a_real_feed_defaults_to_the_default_watch():
    assert feed_watchlists() == Watchlists([("Main", DEFAULT_WATCH)])


def test_watch_keys_give_one_unsaved_list_and_leave_the_file_alone(own_config_dir):
    WatchlistStore(default_path()).save(two_lists())
    before = default_path().read_bytes()
    wl, store, notices = open_watchlists(feed_watchlists(), ["PSX|OGDC", "PSX|HBL"])
    assert wl == Watchlists([("Watch", ["PSX|OGDC", "PSX|HBL"])])
    assert store is None and notices == []
    assert default_path().read_bytes() == before


def test_without_watch_keys_the_saved_lists_are_loaded(own_config_dir):
    WatchlistStore(default_path()).save(two_lists())
    wl, store, notices = open_watchlists(feed_watchlists(), [])
    assert wl == two_lists() and notices == []
    assert store is not None and store.path == default_path()


def test_a_bad_saved_file_becomes_a_notice_at_start(own_config_dir):
    own_config_dir.mkdir()
    default_path().write_text("not toml at all", encoding="utf-8")
    wl, store, notices = open_watchlists(feed_watchlists(), [])
    assert wl == feed_watchlists() and store is not None
    assert len(notices) == 1 and "kept as" in notices[0] and "default watchlists" in notices[0]


def test_single_makes_one_list():
    assert Watchlists.single("Watch", ["PSX|OGDC"]) == Watchlists([("Watch", ["PSX|OGDC"])])


def test_check_name_answers_what_create_and_rename_would_say():
    wl = two_lists()
    assert wl.check_name("  Energy ") == "Energy"
    with pytest.raises(ValueError, match="there is already a watchlist named 'Banks'"):
        wl.check_name("banks")
    assert wl.check_name("MAIN", current="Main") == "MAIN"  # renaming only its case
    with pytest.raises(ValueError, match="there is already a watchlist named 'Banks'"):
        wl.check_name("Banks", current="Main")
    assert wl == two_lists()  # checking changes nothing


# -- big lists: loading is linear (issue 8: 10,000 scrips took 2.1 s, 20,000 took 7.8 s) ------
def test_twenty_thousand_scrips_load_save_and_load_again_in_order(tmp_path):
    """Loading checks each key against a set, not against the list so far: linear.  Not
    timed (a busy machine); the same lists come back from the file, duplicates still refused."""
    keys = [f"NSE|{i}" for i in range(20_000)]
    wl = Watchlists([("Main", keys), ("Reversed", keys[::-1])], active="reversed")
    store = store_at(tmp_path)
    store.save(wl)
    loaded, notice = store.load(two_lists())
    assert notice is None and loaded == wl
    assert loaded.keys_of("Main") == tuple(keys) and loaded.active == "Reversed"
    assert loaded.all_keys() == tuple(keys)
    with pytest.raises(ValueError, match=r"NSE\|7 is already in 'Main'"):
        Watchlists([("Main", [*keys, " NSE|7 "])])
