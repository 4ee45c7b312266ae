"""Named watchlists (ordered lists of scrip keys) and the file that keeps them.

:class:`Watchlists` refuses every bad edit with a ``ValueError`` whose text is fit for a
toast, so the app needs no checks of its own.  :class:`WatchlistStore` writes atomically
(a crash mid-write leaves the previous file whole), and a file it cannot read is moved
aside under a new name and reported: a user's lists are never overwritten silently.

The file (``watchlists.toml`` beside the config file)::

    active = "Main"

    [[watchlists]]
    name = "Main"
    scrips = ["NSE|26000", "NSE|2885"]
"""

from __future__ import annotations

import os
import tempfile
import tomllib
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path
from typing import Final

import msgspec
import tomli_w

from tui.config_file import config_dir, explain
from tui.userfiles import BadFile, read_bytes

FILE_NAME: Final = "watchlists.toml"
_STARTED: Final = "the desk started with the default watchlists"
#: longest watchlist name: it is a tab's label
MAX_NAME: Final = 24
HEADER: Final = (
    "# marketdesk watchlists: rewritten by the desk after every edit.\n"
    "# Edit it while the desk is closed.  A file that does not parse is moved aside\n"
    "# (watchlists.bad-YYYYMMDD-HHMMSS.toml) and the desk starts with its default lists.\n\n"
)


def default_path() -> Path:
    """Where the watchlists live: ``watchlists.toml`` in the config directory."""
    return config_dir() / FILE_NAME


def check_key(key: str) -> str:
    """``key`` without surrounding blanks if it is ``EXCH|TOKEN``; ValueError otherwise."""
    k = key.strip()
    exchange, bar, token = k.partition("|")
    if not (bar and exchange and token) or "|" in token or "#" in k or any(c.isspace() for c in k):
        raise ValueError(f"not a scrip key (EXCH|TOKEN): {key!r}")
    return k


def _fold(name: str) -> str:
    return name.casefold()


class Watchlists:
    """Ordered named lists of scrip keys, and which one is shown (``active``).

    Names are trimmed, 1..24 printable characters, unique ignoring case; a name given to an
    operation is matched ignoring case too.  There is always at least one list.
    """

    def __init__(
        self, lists: Iterable[tuple[str, Iterable[str]]], active: str | None = None
    ) -> None:
        self._lists: dict[str, list[str]] = {}
        for name, keys in lists:
            self._extend(self.create(name), keys)
        if not self._lists:
            raise ValueError("there must be at least one watchlist")
        self._active = next(iter(self._lists))
        if active is not None:
            if active.strip().casefold() not in map(_fold, self._lists):
                raise ValueError(f"active = {active!r} is not one of the watchlists")
            self.set_active(active)

    @classmethod
    def single(cls, name: str, keys: Iterable[str]) -> Watchlists:
        """One list: ``--watch`` keys, or a desk that follows whatever the market has."""
        return cls([(name, keys)])

    # -- reading ---------------------------------------------------------------------
    @property
    def active(self) -> str:
        return self._active

    def names(self) -> tuple[str, ...]:
        return tuple(self._lists)

    def keys_of(self, name: str) -> tuple[str, ...]:
        return tuple(self._lists[self._find(name)])

    def all_keys(self) -> tuple[str, ...]:
        """Every key of every list, once, in list order: what the feed must subscribe."""
        return tuple(dict.fromkeys(key for keys in self._lists.values() for key in keys))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Watchlists):
            return NotImplemented
        return (self._active, list(self._lists.items())) == (
            other._active,
            list(other._lists.items()),
        )

    def __repr__(self) -> str:
        return f"Watchlists({list(self._lists.items())!r}, active={self._active!r})"

    # -- editing the lists -----------------------------------------------------------
    def create(self, name: str) -> str:
        """Add an empty list at the end; its name as stored."""
        name = self._new_name(name)
        self._lists[name] = []
        return name

    def rename(self, old: str, new: str) -> str:
        """Rename in place (the order of lists and ``active`` follow); the new name."""
        old = self._find(old)
        new = self._new_name(new, allow=old)
        self._lists = {(new if n == old else n): keys for n, keys in self._lists.items()}
        if self._active == old:
            self._active = new
        return new

    def delete(self, name: str) -> None:
        """Remove a list; if it was active, its neighbour becomes active.  Never the last."""
        name = self._find(name)
        if len(self._lists) == 1:
            raise ValueError(f"cannot delete {name!r}: it is the only watchlist")
        names = list(self._lists)
        del self._lists[name]
        if self._active == name:
            i = names.index(name)
            self._active = names[i + 1] if i + 1 < len(names) else names[i - 1]

    def set_active(self, name: str) -> str:
        self._active = self._find(name)
        return self._active

    # -- editing one list's scrips ---------------------------------------------------
    def add(self, name: str, key: str) -> str:
        """Append ``key`` to a list; the key as stored."""
        name, key = self._find(name), check_key(key)
        if key in self._lists[name]:
            raise ValueError(f"{key} is already in {name!r}")
        self._lists[name].append(key)
        return key

    def _extend(self, name: str, keys: Iterable[str]) -> None:
        """Append every key to an empty list (loading): linear, a set tells duplicates."""
        stored = self._lists[name]
        seen: set[str] = set()
        for key in keys:
            key = check_key(key)
            if key in seen:
                raise ValueError(f"{key} is already in {name!r}")
            seen.add(key)
            stored.append(key)

    def remove(self, name: str, key: str) -> None:
        keys = self._lists[self._find(name)]
        keys.pop(self._index(name, keys, key))

    def move(self, name: str, key: str, delta: int) -> int:
        """Move ``key`` by ``delta`` places (negative: up), clamped to the list; its new index."""
        keys = self._lists[self._find(name)]
        i = self._index(name, keys, key)
        j = max(0, min(len(keys) - 1, i + delta))
        keys.insert(j, keys.pop(i))
        return j

    def check_name(self, name: str, current: str | None = None) -> str:
        """``name`` trimmed if :meth:`create` (or :meth:`rename` of ``current``) would take
        it; ValueError with the reason otherwise.  For a name dialog that checks as you type."""
        return self._new_name(name, allow=self._find(current) if current is not None else None)

    # -- helpers ---------------------------------------------------------------------
    def _find(self, name: str) -> str:
        wanted = _fold(name.strip())
        for existing in self._lists:
            if _fold(existing) == wanted:
                return existing
        raise ValueError(f"there is no watchlist named {name.strip()!r}")

    def _index(self, name: str, keys: list[str], key: str) -> int:
        try:
            return keys.index(key.strip())
        except ValueError:
            raise ValueError(f"{key.strip()} is not in {self._find(name)!r}") from None

    def _new_name(self, name: str, allow: str | None = None) -> str:
        """``name`` trimmed, if it is a valid name no other list has (``allow`` may)."""
        name = name.strip()
        if not name:
            raise ValueError("a watchlist name cannot be empty")
        if len(name) > MAX_NAME:
            raise ValueError(
                f"a watchlist name is at most {MAX_NAME} characters ({len(name)} given)"
            )
        if not name.isprintable():
            raise ValueError("a watchlist name cannot hold control characters")
        taken = [n for n in self._lists if _fold(n) == _fold(name) and n != allow]
        if taken:
            raise ValueError(f"there is already a watchlist named {taken[0]!r}")
        return name


# -- the file -------------------------------------------------------------------------------
class _ListRecord(msgspec.Struct, forbid_unknown_fields=True):
    name: str
    scrips: list[str] = msgspec.field(default_factory=list)


class _FileRecord(msgspec.Struct, forbid_unknown_fields=True):
    watchlists: list[_ListRecord]
    active: str | None = None


def parse(text: str) -> Watchlists:
    """Watchlists from the file's text; ValueError with a one-line reason otherwise."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"not valid TOML: {exc}") from None
    try:
        record = msgspec.convert(raw, _FileRecord)
    except msgspec.ValidationError as exc:
        raise ValueError(explain(exc, raw, _FileRecord)) from None
    return Watchlists(((r.name, r.scrips) for r in record.watchlists), active=record.active)


def dump(watchlists: Watchlists) -> str:
    """The file's text: a comment header, then TOML written by tomli_w."""
    body = {
        "active": watchlists.active,
        "watchlists": [
            {"name": n, "scrips": list(watchlists.keys_of(n))} for n in watchlists.names()
        ],
    }
    return HEADER + tomli_w.dumps(body)


class WatchlistStore:
    """Loads and saves :class:`Watchlists` at ``path``.

    ``now`` (local time) stamps the name a bad file is kept under; injected for tests.
    """

    def __init__(self, path: Path, *, now: Callable[[], datetime] = datetime.now) -> None:
        self.path = Path(path)
        self.now = now
        #: why saving is refused: a bad file could not be moved aside, and would be lost
        self.refuse_saves: str | None = None

    def load(self, default: Watchlists) -> tuple[Watchlists, str | None]:
        """The saved watchlists, or ``default`` and a message saying why (None if no file)."""
        try:
            text = read_bytes(self.path)[0].decode("utf-8")  # a FIFO is refused, never waited on
        except FileNotFoundError:
            return default, None
        except UnicodeDecodeError:
            return default, self._set_aside("not a UTF-8 text file")
        except BadFile as exc:
            self.refuse_saves = f"{self.path} could not be read ({exc.reason})"
            return default, f"{self.refuse_saves}; {_STARTED}, and edits will not be saved."
        except OSError as exc:
            self.refuse_saves = f"{self.path} could not be read ({exc.strerror})"
            return default, f"{self.refuse_saves}; {_STARTED}, and edits will not be saved."
        try:
            return parse(text), None
        except ValueError as exc:
            return default, self._set_aside(str(exc))

    def save(self, watchlists: Watchlists) -> None:
        """Replace the file atomically: a temp file beside it, fsync, ``os.replace``.

        Raises OSError (the app shows it): the previous file is then left as it was.
        """
        if self.refuse_saves:
            raise PermissionError(f"watchlists not saved: {self.refuse_saves}")
        data = dump(watchlists).encode("utf-8")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(
            prefix=f".{self.path.stem}.", suffix=".tmp", dir=self.path.parent
        )
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        _sync_dir(self.path.parent)

    def _set_aside(self, reason: str) -> str:
        """Move the unreadable file to a fresh name (never over another); the message."""
        stem = f"{self.path.stem}.bad-{self.now():%Y%m%d-%H%M%S}"
        bad = self.path.with_name(f"{stem}.toml")
        n = 0
        while bad.exists():
            n += 1
            bad = self.path.with_name(f"{stem}-{n}.toml")
        try:
            os.rename(self.path, bad)
        except OSError as exc:
            self.refuse_saves = (
                f"{self.path} is unreadable and could not be moved aside ({exc.strerror})"
            )
            return (
                f"{self.path} could not be read ({reason}) nor moved aside ({exc.strerror}); "
                f"{_STARTED}, and edits will not be saved."
            )
        return (
            f"{self.path.name} could not be read ({reason}); it was kept as {bad} and {_STARTED}."
        )


def _sync_dir(directory: Path) -> None:
    """Make the rename itself durable (POSIX); skipped where a directory cannot be opened."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
