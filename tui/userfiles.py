"""Reading a file the user named (config, watchlists, token, CA): regular files only.

``open()`` on a FIFO blocks until something writes to it, so a FIFO named as the token
file or the config hung the desk for ever at start; a directory gave a traceback; a
binary file a bare codec error.  :func:`read_text` opens with ``O_NONBLOCK`` (which never
waits, whatever the file), checks with ``fstat`` on the descriptor it opened (no race
between the check and the read) that it is a regular file, reads at most ``limit`` bytes
and decodes UTF-8.  Every refusal is a :class:`BadFile` whose ``reason`` is a few words
that fit after the file's name on one line.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from typing import Final

#: the largest file read: far above any real config, watchlists or token
DEFAULT_LIMIT: Final = 64 * 1024 * 1024

_KINDS: Final = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
)


class BadFile(ValueError):
    """A file that exists but cannot be used; ``reason`` says why in a few words."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path, self.reason = path, reason


def kind_of(mode: int) -> str:
    """``"a directory"``, ``"a FIFO (named pipe)"``...: what a non-regular file is."""
    for test, name in _KINDS:
        if test(mode):
            return name
    return "not a regular file"


def open_regular(path: str | Path) -> tuple[int, os.stat_result]:
    """An open read-only descriptor of ``path`` and its ``fstat``, if it is a regular file.

    Raises FileNotFoundError if it does not exist (callers often treat that as "use the
    defaults") and :class:`BadFile` for anything else.  Never blocks.
    """
    p = Path(path)
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(p, flags)
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise BadFile(p, _strerror(exc)) from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise BadFile(p, f"is {kind_of(info.st_mode)}, not a file")
    except BaseException:
        os.close(fd)
        raise
    return fd, info


def read_bytes(path: str | Path, limit: int = DEFAULT_LIMIT) -> tuple[bytes, os.stat_result]:
    """The content of the regular file ``path`` (at most ``limit`` bytes) and its stat."""
    fd, info = open_regular(path)
    try:
        if info.st_size > limit:
            raise BadFile(Path(path), f"is too large ({info.st_size:,} bytes; at most {limit:,})")
        chunks: list[bytes] = []
        size = 0
        while chunk := os.read(fd, 1 << 16):
            chunks.append(chunk)
            size += len(chunk)
            if size > limit:  # grew while being read
                raise BadFile(Path(path), f"is too large (more than {limit:,} bytes)")
    except OSError as exc:
        raise BadFile(Path(path), _strerror(exc)) from None
    finally:
        os.close(fd)
    return b"".join(chunks), info


def read_text(path: str | Path, limit: int = DEFAULT_LIMIT) -> str:
    """The UTF-8 text of the regular file ``path``; see :func:`open_regular` for errors."""
    data, _ = read_bytes(path, limit)
    return decode(Path(path), data)


def decode(path: Path, data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise BadFile(path, "is not a text file (UTF-8 expected)") from None


def _strerror(exc: OSError) -> str:
    if exc.errno == errno.EACCES:
        return "cannot be read (permission denied)"
    return f"cannot be read ({exc.strerror or type(exc).__name__})"
