"""The config file: defaults, precise refusals, no token ever, and flags over the file."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from platformdirs import user_config_dir

from tui import cli
from tui.cli_parser import build_parser
from tui.config_file import (
    ConfigError,
    DeskConfig,
    config_dir,
    config_path,
    load_config,
    parse_config,
    render,
    with_overrides,
)

ROOT = Path(__file__).resolve().parents[2]
SECRET = "tok-9f3e-never-shown"


@pytest.fixture(autouse=True)
def own_config_dir(tmp_path, monkeypatch) -> Path:
    """Every test gets an empty config directory: the tester's own config never leaks in."""
    home = tmp_path / "cfg"
    monkeypatch.setenv("MARKETDESK_CONFIG_DIR", str(home))
    return home


def write_config(home: Path, text: str) -> Path:
    home.mkdir(parents=True, exist_ok=True)
    path = home / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def refusal(text: str) -> str:
    with pytest.raises(ConfigError) as info:
        parse_config(text, Path("/etc/md/config.toml"))
    message = str(info.value)
    assert "\n" not in message and message.startswith("/etc/md/config.toml: ")
    return message


# -- where the file is, and the defaults -----------------------------------------------
def test_missing_default_file_gives_every_documented_default(own_config_dir):
    cfg = load_config()
    assert cfg == DeskConfig()
    assert (cfg.feed.url, cfg.feed.auth, cfg.feed.uid) == (None, "header", "marketdesk")
    assert (cfg.feed.token_env, cfg.feed.token_file) == (None, None)
    desk = cfg.desk
    assert (desk.theme, desk.refresh_hz, desk.stale_after, desk.flash) == (
        "marketdesk-dark",
        20.0,
        10.0,
        True,
    )
    assert (desk.columns, desk.circuit_near) == (None, 2.0)
    assert (cfg.tape.large_qty, cfg.tape.keep, cfg.keys) == (5000, 2000, {})
    assert not own_config_dir.exists()  # reading never creates anything


def test_the_default_theme_is_the_desks_own():
    from tui import config_file, theme

    assert config_file.DEFAULT_THEME == theme.DEFAULT_THEME


def test_the_environment_variable_names_the_config_directory(own_config_dir, monkeypatch):
    assert config_dir() == own_config_dir
    assert config_path() == own_config_dir / "config.toml"
    monkeypatch.delenv("MARKETDESK_CONFIG_DIR")
    assert config_dir() == Path(user_config_dir("marketdesk", appauthor=False))


def test_the_default_file_is_read(own_config_dir):
    write_config(own_config_dir, "[desk]\nrefresh_hz = 30\ntheme = 'textual-light'\n")
    cfg = load_config()
    assert (cfg.desk.refresh_hz, cfg.desk.theme) == (30.0, "textual-light")


def test_an_explicit_config_that_does_not_exist_is_an_error(tmp_path):
    with pytest.raises(ConfigError, match=r"nope\.toml: no such file"):
        load_config(tmp_path / "nope.toml")


def test_unreadable_and_binary_files_are_errors_naming_the_file(tmp_path):
    (tmp_path / "adir").mkdir()
    with pytest.raises(ConfigError, match=r"adir: is a directory, not a file"):
        load_config(tmp_path / "adir")
    binary = tmp_path / "bin.toml"
    binary.write_bytes(b"\xff\xfe\x00x")
    with pytest.raises(ConfigError, match=r"bin\.toml: is not a text file"):
        load_config(binary)


def test_the_example_in_the_docs_loads():
    doc = (ROOT / "docs" / "CONFIG.md").read_text(encoding="utf-8")
    example = re.search(r"```toml\n(.*?)```", doc, re.DOTALL)
    assert example, "docs/CONFIG.md has a ```toml example"
    cfg = parse_config(example.group(1))
    assert cfg.feed.url and cfg.feed.token_env and cfg.keys


def test_every_key_of_the_schema_is_documented():
    doc = (ROOT / "docs" / "CONFIG.md").read_text(encoding="utf-8")
    for table, values in tomllib.loads(render(DeskConfig(**every_key_set()))).items():
        assert f"[{table}]" in doc
        for key in values:
            assert f"`{key}`" in doc, f"[{table}] {key} is not in docs/CONFIG.md"


def every_key_set() -> dict:
    """Keys whose default is None are not rendered; set them so every key is listed."""
    from tui.config_file import DeskSettings, FeedSettings

    return {
        "feed": FeedSettings(url="wss://h/x", token_env="T", token_file="/t", ca_file="/ca"),
        "desk": DeskSettings(columns=("last",)),
    }


# -- refusals: one line naming the file, the table and the key -------------------------
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[desk\n", "not valid TOML: "),
        ("[feed]\nurl = \n", "(at line 2, column 7)"),
        ("[feed]\nurll = 'ws://h/x'\n", "unknown key 'urll' in [feed] (did you mean 'url'?)"),
        (
            "[desk]\nrefesh_hz = 5\n",
            "unknown key 'refesh_hz' in [desk] (did you mean 'refresh_hz'?)",
        ),
        (
            "[view]\n",
            "unknown key 'view' at the top level; expected one of: feed, desk, tape, surveillance, simulator, keys",
        ),
        ("[desk.more]\nx = 1\n", "unknown key 'more' in [desk]; expected one of: theme,"),
        ("[feed]\nurl = 1\n", "[feed] url: expected a string, got a whole number"),
        ("[desk]\nflash = 'yes'\n", "[desk] flash: expected true or false, got a string"),
        (
            "[tape]\nlarge_qty = true\n",
            "[tape] large_qty: expected a whole number, got true or false",
        ),
        ("[tape]\nkeep = 2.5\n", "[tape] keep: expected a whole number, got a number"),
        (
            "[desk]\ncolumns = ['last', 3]\n",
            "[desk] columns item 2: expected a string, got a whole number",
        ),
        ("[desk]\ncolumns = []\n", "[desk] columns: must not be empty"),
        ("[desk]\ncolumns = ['last', 'last']\n", "[desk] columns lists 'last' more than once"),
        ("desk = 3\n", "[desk]: expected a table, got a whole number"),
        ("[feed]\nauth = 'cookie'\n", "[feed] auth: 'cookie' is not one of header, query, connect"),
        (
            "[feed]\nurl = 'http://h/x'\n",
            "[feed] url must be a ws:// or wss:// address with a host",
        ),
        (
            "[feed]\ntoken_env = 'MD TOKEN'\n",
            "[feed] token_env: must be the name of an environment variable",
        ),
        ("[feed]\nuid = ''\n", "[feed] uid: must not be empty"),
        ("[desk]\ntheme = 'neon'\n", "[desk] theme 'neon' is unknown; one of: marketdesk-dark"),
        ("[keys]\n'desk.quit' = 1\n", "[keys] 'desk.quit' must be a string of keys"),
        ("[keys]\n'desk.quit' = 'q,,x'\n", "[keys] 'desk.quit' = 'q,,x' is not a list of keys"),
        ("[keys]\n'' = 'q'\n", "[keys] a binding id cannot be empty"),
    ],
)
def test_a_bad_file_is_refused_with_a_precise_message(text, expected):
    assert expected in refusal(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[desk]\nrefresh_hz = 0\n", "[desk] refresh_hz = 0 is out of range: must be at least 1"),
        (
            "[desk]\nrefresh_hz = 10000\n",
            "[desk] refresh_hz = 10000 is out of range: must be at most 60",
        ),
        ("[desk]\nrefresh_hz = nan\n", "[desk] refresh_hz = nan is out of range"),
        (
            "[desk]\nrefresh_hz = inf\n",
            "[desk] refresh_hz = inf is out of range: must be at most 60",
        ),
        (
            "[desk]\nstale_after = -1\n",
            "[desk] stale_after = -1 is out of range: must be more than 0",
        ),
        (
            "[desk]\nstale_after = 0\n",
            "[desk] stale_after = 0 is out of range: must be more than 0",
        ),
        (
            "[desk]\ncircuit_near = 101\n",
            "[desk] circuit_near = 101 is out of range: must be at most 100",
        ),
        ("[tape]\nlarge_qty = 0\n", "[tape] large_qty = 0 is out of range: must be at least 1"),
        ("[tape]\nkeep = 5\n", "[tape] keep = 5 is out of range: must be at least 10"),
    ],
)
def test_absurd_numbers_are_refused(text, expected):
    assert expected in refusal(text)


def test_the_bounds_themselves_are_accepted():
    cfg = parse_config("[desk]\nrefresh_hz = 1\ncircuit_near = 0\n[tape]\nkeep = 10\n")
    assert (cfg.desk.refresh_hz, cfg.desk.circuit_near, cfg.tape.keep) == (1.0, 0.0, 10)
    assert parse_config("[desk]\nrefresh_hz = 60.0\n").desk.refresh_hz == 60.0


@pytest.mark.parametrize(
    ("text", "where"),
    [
        (f"[feed]\ntoken = '{SECRET}'\n", "[feed] token"),
        (f"token = '{SECRET}'\n", "token"),
        (f"[desk]\nToken = '{SECRET}'\n", "[desk] Token"),
        (f"[feed.extra]\ntoken = '{SECRET}'\n", "[feed.extra] token"),
    ],
)
def test_a_token_key_anywhere_is_refused_without_showing_it(text, where):
    message = refusal(text)
    assert f": {where}: " in message
    assert "token_env" in message and "token_file" in message
    assert SECRET not in message


@pytest.mark.parametrize(
    "url",
    [
        f"wss://h/feed?token={SECRET}",
        f"wss://h/feed?access_token={SECRET}",
        f"wss://u:{SECRET}@h/x",
    ],
)
def test_a_token_inside_the_url_is_refused_without_showing_it(url):
    message = refusal(f"[feed]\nurl = '{url}'\n")
    assert "url carries a token" in message and "token_env" in message
    assert SECRET not in message


# -- what loads --------------------------------------------------------------------------
def test_every_setting_loads():
    cfg = parse_config(
        """
        [feed]
        url = "wss://feed.example/2.0/market/feed/l2"
        auth = "connect"
        uid = "AB1234"
        token_env = "MD_TOKEN"
        [desk]
        theme = "nord"
        refresh_hz = 12.5
        stale_after = 3
        flash = false
        columns = ["symbol", "last", "change_pct"]
        circuit_near = 1.5
        [tape]
        large_qty = 100
        keep = 500
        """
    )
    assert cfg.feed.url == "wss://feed.example/2.0/market/feed/l2"
    assert (cfg.feed.auth, cfg.feed.uid, cfg.feed.token_env) == ("connect", "AB1234", "MD_TOKEN")
    assert cfg.desk.columns == ("symbol", "last", "change_pct")
    assert (cfg.desk.theme, cfg.desk.refresh_hz, cfg.desk.stale_after) == ("nord", 12.5, 3.0)
    assert (cfg.desk.flash, cfg.desk.circuit_near) == (False, 1.5)
    assert (cfg.tape.large_qty, cfg.tape.keep) == (100, 500)


def test_key_remaps_pass_through_in_either_toml_spelling():
    cfg = parse_config(
        """
        [keys]
        "desk.quit" = "q,ctrl+q"
        watchlist.down = "j,down"
        watchlist.up = "k"
        """
    )
    assert cfg.keys == {"desk.quit": "q,ctrl+q", "watchlist.down": "j,down", "watchlist.up": "k"}


def test_a_relative_token_file_is_found_beside_the_config(own_config_dir):
    write_config(own_config_dir, "[feed]\ntoken_file = 'secret/token'\n")
    assert load_config().feed.token_file == str(own_config_dir / "secret" / "token")
    write_config(own_config_dir, "[feed]\ntoken_file = '/abs/token'\n")
    assert load_config().feed.token_file == "/abs/token"


def test_rendered_settings_are_toml_that_loads_back_the_same():
    cfg = parse_config(
        "[feed]\nurl = 'wss://h/x'\ntoken_env = 'MD_TOKEN'\n[desk]\ncolumns = ['last']\n"
        "[keys]\n'desk.quit' = 'x'\n"
    )
    assert parse_config(render(cfg)) == cfg
    assert parse_config(render(DeskConfig())) == DeskConfig()
    assert "# url: not set (the built-in simulator)" in render(DeskConfig())


def test_overrides_are_checked_by_the_same_rules():
    cfg = with_overrides(DeskConfig(), feed={"url": "ws://h/x"}, desk={"refresh_hz": 30})
    assert (cfg.feed.url, cfg.desk.refresh_hz) == ("ws://h/x", 30.0)
    with pytest.raises(ConfigError, match=r"the command line: \[desk\] refresh_hz = 0"):
        with_overrides(DeskConfig(), desk={"refresh_hz": 0})


# -- the command line: flags over the file ----------------------------------------------
FILE = """
[feed]
url = "wss://file.example/feed/full"
auth = "query"
uid = "FROMFILE"
token_file = "/file/token"
[desk]
refresh_hz = 30
theme = "nord"
"""


def settings_of(*argv: str):
    return cli.settings(build_parser().parse_args(list(argv)))


def test_the_file_gives_the_defaults_of_the_flags(own_config_dir):
    write_config(own_config_dir, FILE)
    cfg = settings_of()
    assert (cfg.feed.url, cfg.feed.auth, cfg.feed.uid) == (
        "wss://file.example/feed/full",
        "query",
        "FROMFILE",
    )
    assert (cfg.feed.token_env, cfg.feed.token_file) == (None, "/file/token")
    assert (cfg.desk.refresh_hz, cfg.desk.theme) == (30.0, "nord")


def test_flags_override_the_file(own_config_dir):
    write_config(own_config_dir, FILE)
    cfg = settings_of(
        "--url",
        "ws://flag.example/x",
        "--auth",
        "connect",
        "--uid",
        "FLAG",
        "--refresh-hz",
        "5",
        "--theme",
        "dracula",
    )
    assert (cfg.feed.url, cfg.feed.auth, cfg.feed.uid) == ("ws://flag.example/x", "connect", "FLAG")
    assert (cfg.desk.refresh_hz, cfg.desk.theme) == (5.0, "dracula")


def test_a_token_flag_replaces_the_files_whole_token_source(own_config_dir):
    write_config(own_config_dir, FILE)
    cfg = settings_of("--token-env", "MD_TOKEN")
    # the file's token_file would be read first by resolve_token: it must be gone
    assert (cfg.feed.token_env, cfg.feed.token_file) == ("MD_TOKEN", None)


def test_flags_before_a_subcommand_survive_it(own_config_dir):
    cfg = settings_of("--auth", "query", "snapshot", "--url", "ws://h/x", "--scrip", "PSX|OGDC")
    assert (cfg.feed.auth, cfg.feed.url) == ("query", "ws://h/x")


def test_config_option_names_another_file(tmp_path):
    other = tmp_path / "other.toml"
    other.write_text("[desk]\nrefresh_hz = 7\n")
    assert settings_of("--config", str(other)).desk.refresh_hz == 7.0
    assert settings_of("config", "--config", str(other)).desk.refresh_hz == 7.0


def test_a_bad_config_exits_2_with_one_line(own_config_dir, capsys):
    path = write_config(own_config_dir, "[desk]\nrefresh_hz = 0\n")
    assert cli.main(["config"]) == 2
    err = capsys.readouterr().err
    assert err == f"marketdesk: {path}: [desk] refresh_hz = 0 is out of range: must be at least 1\n"


@pytest.mark.parametrize("value", ["0", "61", "nan", "fast"])
def test_an_absurd_refresh_flag_is_a_usage_error(value, capsys):
    assert cli.main(["--refresh-hz", value]) == 2
    err = capsys.readouterr().err
    assert "--refresh-hz" in err and err.startswith("usage: marketdesk")
    assert f"'{value}'" not in err  # the value is not echoed


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["--theme", "neon"], "theme '…' is unknown"),
        (["--url", "http://h/x"], "url must be a ws:// or wss:// address"),
        (["--url", f"wss://h/x?token={SECRET}"], "url carries a token"),
    ],
)
def test_bad_flags_are_refused_by_the_files_rules(argv, expected, capsys):
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert expected in err and SECRET not in err


def test_snapshot_without_any_url_is_a_usage_error(capsys):
    assert cli.main(["snapshot", "--scrip", "PSX|OGDC"]) == 2
    assert "snapshot needs a feed: --url, or url in [feed]" in capsys.readouterr().err


def test_config_command_shows_paths_and_settings_but_never_the_token(
    own_config_dir, monkeypatch, capsys
):
    write_config(own_config_dir, "[feed]\nurl = 'wss://h/x'\ntoken_env = 'MD_TOKEN'\n")
    monkeypatch.setenv("MD_TOKEN", SECRET)
    assert cli.main(["--refresh-hz", "15", "config"]) == 0
    out = capsys.readouterr().out
    assert f"# config file: {own_config_dir / 'config.toml'}\n" in out
    assert f"# watchlists:  {own_config_dir / 'watchlists.toml'} (not found: defaults)" in out
    assert SECRET not in out
    shown = parse_config(out)  # the output is itself a valid config file
    assert (shown.feed.url, shown.feed.token_env, shown.desk.refresh_hz) == (
        "wss://h/x",
        "MD_TOKEN",
        15.0,
    )


def test_the_watchlist_columns_in_the_docs_are_their_declarations():
    """docs/CONFIG.md's table of columns is tui/widgets/columns.py's, and the printed
    settings name the default and the known columns from the same declarations."""
    from tui.widgets.columns import COLUMN_KEYS, DEFAULT_COLUMNS, columns_table

    doc = (ROOT / "docs" / "CONFIG.md").read_text(encoding="utf-8")
    assert columns_table() in doc, "regenerate the table: tui.widgets.columns.columns_table()"
    assert f"Not set: `{' '.join(DEFAULT_COLUMNS)}`" in doc
    shown = render(parse_config(""))
    assert f"default columns: {' '.join(DEFAULT_COLUMNS)}; known: {' '.join(COLUMN_KEYS)}" in shown
