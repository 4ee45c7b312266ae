"""The desk's configuration file (TOML): the feed, the desk, the tape, surveillance, key remaps.

Every table is a msgspec Struct that forbids unknown fields, so a typo in a hand-edited file
is named (``unknown key 'refesh_hz' in [desk] (did you mean 'refresh_hz'?)``) instead of
being silently ignored.  Anything wrong raises :class:`ConfigError` with one line naming the
file and the fault; the CLI prints it and exits 2.

The token itself never lives here: a ``token`` key anywhere, or a token in the feed URL, is
refused.  The file names a *source* (``token_env``, ``token_file``), and
:func:`tui.secrets.resolve_token` reads it, checking that a token file is private.

Where: ``$MARKETDESK_CONFIG_DIR/config.toml`` if that variable is set (tests and CI), else
the platform's user config directory (platformdirs).  ``--config PATH`` names another file.
"""

from __future__ import annotations

import difflib
import os
import re
import tomllib
from collections.abc import Mapping
from datetime import tzinfo
from pathlib import Path
from typing import Annotated, Any, Final, Literal
from urllib.parse import parse_qsl, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec
import tomli_w
from platformdirs import user_config_dir

from tui.feed.config import AUTH_MODES, TOKEN_PARAMS, redact_url
from tui.market.rules import Thresholds
from tui.userfiles import BadFile, read_text
from tui.widgets.columns import COLUMN_KEYS, DEFAULT_COLUMNS
from tui.wire.dialects import DIALECTS

APP_NAME: Final = "marketdesk"
#: names the config directory instead of the platform's (tests and CI set it)
ENV_CONFIG_DIR: Final = "MARKETDESK_CONFIG_DIR"
CONFIG_FILE: Final = "config.toml"
#: the screen refresh rate accepted, frames a second (also checked on the command line)
REFRESH_HZ_MIN: Final = 1.0
REFRESH_HZ_MAX: Final = 60.0
#: ``tui.theme.DEFAULT_THEME``, spelled out so that loading a config does not import Textual
#: (``snapshot`` and ``tail`` start faster); a test keeps the two equal
DEFAULT_THEME: Final = "marketdesk-dark"

#: the user id sent when none is configured (a real broker wants yours: see check_uid)
DEFAULT_UID: Final = "marketdesk"
_ENV_NAME: Final = r"^[A-Za-z_][A-Za-z0-9_]*$"
_TOKEN_ADVICE: Final = (
    "the token is never kept in the config file: name its source with token_env "
    "(an environment variable) or token_file (a file only you can read) in [feed]"
)


class ConfigError(Exception):
    """A config file the desk cannot use.  The message is one line: the file, then the fault."""


class _Table(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """A TOML table: unknown keys are errors, values are immutable once loaded.

    Subclasses repeat ``frozen=True``: mypy does not carry it over to them.
    """


class FeedSettings(_Table, frozen=True):
    """``[feed]``: where the desk connects.  ``url`` None means the built-in simulator."""

    url: str | None = None
    auth: Literal["header", "query", "connect"] = "header"
    uid: Annotated[str, msgspec.Meta(min_length=1)] = DEFAULT_UID
    #: docs/PROTOCOL.md "Dialects": how the feed speaks (psx: the seed)
    dialect: Literal["psx", "noren", "noren-token", "firstock-v2"] = "psx"
    token_env: Annotated[str, msgspec.Meta(pattern=_ENV_NAME)] | None = None
    token_file: Annotated[str, msgspec.Meta(min_length=1)] | None = None
    #: PEM certificates of a private CA to trust for wss:// (besides the system's)
    ca_file: Annotated[str, msgspec.Meta(min_length=1)] | None = None

    def __post_init__(self) -> None:
        if self.url is not None:
            check_url(self.url)


class DeskSettings(_Table, frozen=True):
    """``[desk]``: how the screen looks and behaves."""

    theme: str = DEFAULT_THEME
    refresh_hz: Annotated[float, msgspec.Meta(ge=REFRESH_HZ_MIN, le=REFRESH_HZ_MAX)] = 20.0
    #: seconds without an update before a scrip is marked stale
    stale_after: Annotated[float, msgspec.Meta(gt=0, le=86_400)] = 10.0
    flash: bool = True
    #: the watchlist's column keys, in order; None = the widget's default set
    columns: Annotated[tuple[str, ...], msgspec.Meta(min_length=1)] | None = None
    #: percent from a circuit limit at which a scrip is shown as near it
    circuit_near: Annotated[float, msgspec.Meta(ge=0, le=100)] = 2.0
    #: the one time zone of every time on the desk: "local", "UTC" or an IANA name
    timezone: Annotated[str, msgspec.Meta(min_length=1)] = "local"

    def __post_init__(self) -> None:
        if self.theme != DEFAULT_THEME:
            check_theme(self.theme)
        time_zone(self.timezone)
        if self.columns is not None:
            repeated = sorted({c for c in self.columns if self.columns.count(c) > 1})
            if repeated:
                raise ValueError(f"columns lists {', '.join(map(repr, repeated))} more than once")


class TapeSettings(_Table, frozen=True):
    """``[tape]``: the L2 tape."""

    #: an order or trade of at least this quantity is highlighted
    large_qty: Annotated[int, msgspec.Meta(ge=1)] = 5000
    #: rows the tape keeps for scrolling back
    keep: Annotated[int, msgspec.Meta(ge=10, le=100_000)] = 2000


class SimulatorSettings(_Table, frozen=True):
    """``[simulator]``: faults the built-in simulator injects (no ``[feed] url``), the same
    as ``marketdesk sim``'s options (``tui.sim.config.Faults``); periods in seconds."""

    #: abort every connection every this many seconds (a network fault)
    drop_every: Annotated[float, msgspec.Meta(gt=0)] | None = None
    #: stall every connection every this many seconds, for ``stall_seconds``
    stall_every: Annotated[float, msgspec.Meta(gt=0)] | None = None
    stall_seconds: Annotated[float, msgspec.Meta(gt=0, le=3600)] = 5.0
    #: keep answering websocket pings during a stall
    stall_pongs: bool = False
    #: a bad frame after this fraction of messages
    garbage_ratio: Annotated[float, msgspec.Meta(ge=0, le=1)] = 0.0
    #: a session-limit kick (close 4029) every this many seconds
    kick_every: Annotated[float, msgspec.Meta(gt=0)] | None = None


class SurveillanceSettings(Thresholds, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """``[surveillance]``: every threshold of the rules (:class:`~tui.market.rules.Thresholds`,
    docs/SURVEILLANCE.md), the alert log and the bell.

    ``alert_log``: a file alerts are appended to as JSON lines (None: no log); a relative
    path is taken from the config file's directory, ``~`` is expanded.
    """

    alert_log: Annotated[str, msgspec.Meta(min_length=1)] | None = None
    bell: bool = True

    def thresholds(self) -> Thresholds:
        """The rule engine's part of the table."""
        return Thresholds(**{name: getattr(self, name) for name in Thresholds.__struct_fields__})

    def alert_log_path(self) -> Path | None:
        return Path(self.alert_log).expanduser() if self.alert_log else None


class DeskConfig(_Table, frozen=True):
    """The whole file.  ``keys`` maps binding ids to key strings (``App.set_keymap``)."""

    feed: FeedSettings = msgspec.field(default_factory=FeedSettings)
    desk: DeskSettings = msgspec.field(default_factory=DeskSettings)
    tape: TapeSettings = msgspec.field(default_factory=TapeSettings)
    surveillance: SurveillanceSettings = msgspec.field(default_factory=SurveillanceSettings)
    simulator: SimulatorSettings = msgspec.field(default_factory=SimulatorSettings)
    keys: dict[str, str] = msgspec.field(default_factory=dict)

    def __post_init__(self) -> None:
        for binding, keys in self.keys.items():
            check_keys(binding, keys)


# -- checks shared with the command line -------------------------------------------------
def check_url(url: str) -> None:
    """A feed URL is ``ws://`` or ``wss://`` with a host, and carries no token.

    The messages never repeat the URL: it might hold the very secret being refused.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("ws", "wss") or not parts.hostname:
        raise ValueError("url must be a ws:// or wss:// address with a host")
    if parts.password or any(k.lower() in TOKEN_PARAMS for k, _ in parse_qsl(parts.query)):
        raise ValueError(f"url carries a token; {_TOKEN_ADVICE}")


def check_uid(feed: FeedSettings) -> None:
    """A dialect that puts the user id on the wire (noren, noren-token, firstock-v2) needs
    the user's own for a real feed: the default is refused there."""
    from tui.wire import dialects

    if feed.url is not None and feed.uid == DEFAULT_UID and dialects.get(feed.dialect).needs_uid:
        raise ValueError(
            f"the {feed.dialect} dialect sends your user id: give --uid, or uid in [feed]"
        )


def time_zone(name: str) -> tzinfo | None:
    """The zone ``[desk] timezone`` names: None for "local" (the machine's), else the IANA
    zone (``UTC``, ``Asia/Karachi``); ValueError with the reason for a name not known."""
    if name.strip().casefold() == "local":
        return None
    try:
        return ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValueError(
            f"timezone {name!r} is not a time zone this machine knows; "
            'use "local", "UTC" or an IANA name like "Asia/Karachi"'
        ) from None


def check_theme(theme: str) -> None:
    """A theme the desk registers (tui/theme.py) or one of Textual's own."""
    from textual.theme import BUILTIN_THEMES

    from tui.theme import THEMES

    known = [t.name for t in THEMES] + sorted(BUILTIN_THEMES)
    if theme not in known:
        raise ValueError(f"theme {theme!r} is unknown; one of: {', '.join(known)}")


def check_keys(binding: str, keys: object) -> None:
    """A binding id and a Textual key string: comma-separated keys, none empty."""
    if not binding.strip():
        raise ValueError("[keys] a binding id cannot be empty")
    if not isinstance(keys, str):
        raise TypeError(f'[keys] {binding!r} must be a string of keys, e.g. "q,ctrl+q"')
    parts = [part.strip() for part in keys.split(",")]
    if not all(parts) or any(" " in part for part in parts):
        raise ValueError(
            f"[keys] {binding!r} = {keys!r} is not a list of keys separated by commas, "
            'e.g. "q,ctrl+q"'
        )


# -- where the files are -----------------------------------------------------------------
def config_dir() -> Path:
    """``$MARKETDESK_CONFIG_DIR`` if set, else the user config directory of the platform."""
    override = os.environ.get(ENV_CONFIG_DIR, "").strip()
    if override:
        return Path(override).expanduser()
    return Path(user_config_dir(APP_NAME, appauthor=False))


def config_path(path: Path | None = None) -> Path:
    """The config file in use: ``path`` (``--config``) or ``config.toml`` in :func:`config_dir`."""
    return Path(path).expanduser() if path is not None else config_dir() / CONFIG_FILE


# -- loading ------------------------------------------------------------------------------
def load_config(path: Path | None = None) -> DeskConfig:
    """The settings of ``path`` (``--config``), else of the default file.

    A missing default file means the defaults; a missing file the user named is an error.
    """
    file = config_path(path)
    try:
        text = read_text(file)  # a FIFO or a directory is refused, never waited on
    except FileNotFoundError:
        if path is not None:
            raise ConfigError(f"{file}: no such file") from None
        return DeskConfig()
    except BadFile as exc:
        raise ConfigError(str(exc)) from None
    return parse_config(text, file)


def parse_config(text: str, source: str | Path = CONFIG_FILE) -> DeskConfig:
    """The settings of TOML ``text``; ``source`` names the file in errors and anchors a
    relative ``token_file`` (resolved against the config file's directory)."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: not valid TOML: {exc}") from None
    where = _token_key(raw)
    if where:
        raise ConfigError(f"{source}: {where}: {_TOKEN_ADVICE}")
    if isinstance(raw.get("keys"), dict):
        raw["keys"] = _flatten(raw["keys"])
        try:
            for binding, keys in raw["keys"].items():
                check_keys(binding, keys)
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"{source}: {exc}") from None
    cfg = _convert(raw, source)
    for name in ("token_file", "ca_file"):
        relative = getattr(cfg.feed, name)
        if relative and isinstance(source, Path):
            resolved = source.parent / Path(relative).expanduser()
            feed = msgspec.structs.replace(cfg.feed, **{name: str(resolved)})
            cfg = msgspec.structs.replace(cfg, feed=feed)
    alert_log = cfg.surveillance.alert_log
    if alert_log and isinstance(source, Path):
        resolved = source.parent / Path(alert_log).expanduser()
        surveillance = msgspec.structs.replace(cfg.surveillance, alert_log=str(resolved))
        cfg = msgspec.structs.replace(cfg, surveillance=surveillance)
    return cfg


def with_overrides(
    cfg: DeskConfig,
    *,
    feed: Mapping[str, Any] | None = None,
    desk: Mapping[str, Any] | None = None,
    simulator: Mapping[str, Any] | None = None,
) -> DeskConfig:
    """``cfg`` with values given on the command line, checked by the file's own rules."""
    data = msgspec.to_builtins(cfg)
    data["feed"].update(feed or {})
    data["desk"].update(desk or {})
    data["simulator"].update(simulator or {})
    return _convert(data, "the command line")


def _convert(raw: dict[str, Any], source: str | Path) -> DeskConfig:
    try:
        return msgspec.convert(raw, DeskConfig)
    except msgspec.ValidationError as exc:
        raise ConfigError(f"{source}: {explain(exc, raw, DeskConfig)}") from None


def _token_key(node: Any, path: str = "") -> str | None:
    """Where a ``token`` key is, if anywhere (its location only: never its value)."""
    if isinstance(node, dict):
        for key, value in node.items():
            here = f"{path}.{key}" if path else key
            if key.strip().lower() == "token":
                return f"{'[' + path + '] ' if path else ''}{key}"
            found = _token_key(value, here)
            if found:
                return found
    elif isinstance(node, list):
        for item in node:
            found = _token_key(item, path)
            if found:
                return found
    return None


def _flatten(table: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """``[keys]`` written with dotted keys (``desk.quit = "q"``, which TOML nests) or
    quoted ones (``"desk.quit" = "q"``) both become ``{"desk.quit": "q"}``."""
    flat: dict[str, Any] = {}
    for key, value in table.items():
        name = f"{prefix}.{key}" if prefix else key
        if isinstance(value, dict):
            flat.update(_flatten(value, name))
        else:
            flat[name] = value
    return flat


# -- messages a person can act on ---------------------------------------------------------
_TYPES: Final = {
    "str": "a string",
    "int": "a whole number",
    "float": "a number",
    "bool": "true or false",
    "array": "a list",
    "object": "a table",
    "null": "nothing",
    "datetime": "a date-time",
    "date": "a date",
    "time": "a time",
}
_BOUNDS: Final = {">=": "at least", "<=": "at most", ">": "more than", "<": "less than"}
_CHOICES: Final = {"auth": AUTH_MODES, "dialect": DIALECTS}


def explain(exc: msgspec.ValidationError, raw: Any, root: type[msgspec.Struct]) -> str:
    """msgspec's message about ``raw`` (converted to ``root``), reworded for a person, with
    a TOML location: ``[desk] refresh_hz = 0 is out of range: must be at least 1``."""
    message, _, path = str(exc).partition(" - at `$")
    segments = re.findall(r"\.([^.\[`]+)|\[(\d+|\.\.\.)\]", path.rstrip("`"))
    names = [name or index for name, index in segments]
    where = _location(names)
    unknown = re.fullmatch(r"Object contains unknown field `(.+)`", message)
    if unknown:
        return _unknown(unknown.group(1), names, root)
    missing = re.fullmatch(r"Object missing required field `(.+)`", message)
    if missing:
        return f"the key {missing.group(1)!r} is missing" + (f" in {where}" if names else "")
    typed = re.fullmatch(r"Expected `(.+?)`, got `(.+?)`", message)
    if typed:
        wanted = " or ".join(_TYPES.get(t, t) for t in typed.group(1).split(" | ") if t != "null")
        return f"{where}: expected {wanted}, got {_TYPES.get(typed.group(2), typed.group(2))}"
    bound = re.fullmatch(r"Expected `\w+` (>=|<=|>|<) (\S+)", message)
    if bound:
        value = _value_at(raw, names)
        limit = f"{_BOUNDS[bound.group(1)]} {_num(bound.group(2))}"
        return f"{where} = {value!r} is out of range: must be {limit}"
    if "of length >=" in message:
        return f"{where}: must not be empty"
    if "matching regex" in message:
        return f"{where}: must be the name of an environment variable (letters, digits, _)"
    enum = re.fullmatch(r"Invalid enum value (.+)", message)
    if enum:
        choices = _CHOICES.get(names[-1], ()) if names else ()
        return f"{where}: {enum.group(1)} is not one of {', '.join(choices)}"
    # a check of our own (``__post_init__``): its message starts with the key it is about
    return f"{where} {message}" if len(names) == 1 else message.replace("`", "")


def _location(names: list[str]) -> str:
    """``[feed] url``, ``[desk] columns item 2``, ``[[watchlists]] #1 scrips item 3``."""
    if not names:
        return "the top level"
    if len(names) > 1 and names[1].isdigit():
        head, rest = f"[[{names[0]}]] #{int(names[1]) + 1}", names[2:]
    else:
        head, rest = f"[{names[0]}]", names[1:]
    words = [
        f"item {int(n) + 1}" if n.isdigit() else ("an entry" if n == "..." else n) for n in rest
    ]
    return " ".join([head, *words])


def _unknown(key: str, names: list[str], root: type[msgspec.Struct]) -> str:
    known = _field_names(root, names)
    near = difflib.get_close_matches(key, known, n=1)
    if near:
        hint = f" (did you mean {near[0]!r}?)"
    else:
        hint = f"; expected one of: {', '.join(known)}" if known else ""
    where = f"in {_location(names)}" if names else "at the top level"
    return f"unknown key {key!r} {where}{hint}"


def _field_names(root: type[msgspec.Struct], names: list[str]) -> list[str]:
    """The keys the schema allows in the table at ``names``: for a did-you-mean."""
    info: Any = msgspec.inspect.type_info(root)
    for name in [*names, ""]:
        if isinstance(info, msgspec.inspect.UnionType):  # X | None: the X
            info = next(
                (t for t in info.types if not isinstance(t, msgspec.inspect.NoneType)), info
            )
        if not name:
            break
        if isinstance(info, msgspec.inspect.ListType) and name.isdigit():
            info = info.item_type
        elif isinstance(info, msgspec.inspect.StructType):
            info = next((f.type for f in info.fields if f.name == name), None)
        else:
            return []
    return [f.name for f in info.fields] if isinstance(info, msgspec.inspect.StructType) else []


def _value_at(raw: Any, names: list[str]) -> Any:
    for name in names:
        try:
            raw = raw[int(name)] if name.isdigit() else raw[name]
        except (KeyError, IndexError, TypeError):
            return "?"
    return raw


def _num(text: str) -> str:
    return text.removesuffix(".0")


# -- showing the settings (``marketdesk config``) -----------------------------------------
_UNSET: Final = {
    "url": "the built-in simulator",
    "token_env": "no token from the environment",
    "token_file": "no token file",
    "ca_file": "the system's certificate authorities",
    "columns": f"the watchlist's default columns: {' '.join(DEFAULT_COLUMNS)}; known: "
    f"{' '.join(COLUMN_KEYS)}",
    "alert_log": "alerts are not written to a file",
    "drop_every": "never",
    "stall_every": "never",
    "kick_every": "never",
}


def render(cfg: DeskConfig) -> str:
    """The settings as TOML a user can copy into a config file; unset keys as comments.

    Holds no secret: the config never has a token, only the name of its source, and the
    URL is shown with every query value and any user info redacted (a broker's ``jKey``).
    """
    out: list[str] = []
    data = msgspec.to_builtins(cfg)
    url = data["feed"].get("url")
    if url is not None and redact_url(url) != url:
        data["feed"]["url"] = redact_url(url)
        out.append("# [feed] url: query values and user info are not shown")
    for table, values in data.items():
        out.append(f"[{table}]")
        out += [
            f"# {key}: not set ({_UNSET.get(key, 'default')})"
            for key, v in values.items()
            if v is None
        ]
        body = tomli_w.dumps({k: v for k, v in values.items() if v is not None}).strip()
        out += [body, ""] if body else [""]
    return "\n".join(out).rstrip() + "\n"
