"""argparse that never echoes a value in an error message.

A token pasted on the command line by mistake (``--token=SECRET``, or a stray positional)
would otherwise be printed back by argparse (``unrecognized arguments: --token=SECRET``,
``ambiguous option: --token=SECRET could match ...``, ``invalid choice: 'SECRET'``) into
the terminal, a recording or a CI log.  :class:`Parser` raises :class:`UsageError` instead
of printing, and :meth:`UsageError.report` prints the usage line and argparse's message
with every value from the command line replaced by ``…``; option names stay, so the
message still says what was wrong.  ``--token`` gets the advice to use ``--token-env`` or
``--token-file``.  Abbreviated options are refused in every subcommand too
(``allow_abbrev=False``), so ``--token X`` is never taken for ``--token-env X``.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from typing import Any, Final, NoReturn

HIDDEN: Final = "…"
EXIT_USAGE: Final = 2
#: an option's spelling: ``-v``, ``--token-file`` (what may be shown of a token)
_OPTION: Final = re.compile(r"--?[A-Za-z][A-Za-z0-9-]*")
#: ``--token`` as an option of its own (not ``--token-env``/``--token-file``)
_TOKEN_FLAG: Final = re.compile(r"(?<![\w-])--token(?![\w-])")
TOKEN_ADVICE: Final = (
    "a token is never given on the command line (it would show in ps and the shell "
    "history): use --token-env VAR or --token-file PATH"
)


class UsageError(Exception):
    """A command line argparse (or a check after it) refused; ``report`` prints it."""

    def __init__(self, parser: argparse.ArgumentParser, message: str) -> None:
        super().__init__(message)
        self.parser, self.message = parser, message

    def report(self, argv: Sequence[str]) -> int:
        """Print the usage line and the message, no value of ``argv`` in it; exit code 2."""
        text = sanitize(self.message, argv, known_words(self.parser))
        if _token_flag(argv, self.parser):
            text += f"; {TOKEN_ADVICE}"
        sys.stderr.write(self.parser.format_usage())
        sys.stderr.write(f"{self.parser.prog}: error: {text}\n")
        return EXIT_USAGE


class Parser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose errors raise :class:`UsageError` (not print, not exit)
    and that refuses abbreviations by default; its subcommands' parsers are the same."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        raise UsageError(self, message)

    @property
    def commands(self) -> dict[str, argparse.ArgumentParser]:
        """Subcommand name -> its parser."""
        for action in self._actions:
            if isinstance(action, argparse._SubParsersAction):
                return dict(action.choices)
        return {}


def _token_flag(argv: Sequence[str], parser: argparse.ArgumentParser) -> bool:
    """``--token`` was given where no parser of the command line takes one (the
    simulator's own ``sim --token`` is fine)."""
    if not any(_TOKEN_FLAG.match(arg) for arg in argv):
        return False
    if "--token" in option_strings(parser):
        return False
    commands = parser.commands if isinstance(parser, Parser) else {}
    takes = {name for name, sub in commands.items() if "--token" in option_strings(sub)}
    return not takes.intersection(argv)


def option_strings(parser: argparse.ArgumentParser) -> set[str]:
    return set(parser._option_string_actions)


def known_words(parser: argparse.ArgumentParser) -> set[str]:
    """Words of a command line that are not values: options and subcommand names, of
    ``parser`` and every parser under it."""
    words = option_strings(parser)
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                words.add(name)
                words |= known_words(sub)
    return words


def hidden_values(argv: Sequence[str], known: set[str]) -> list[str]:
    """What of ``argv`` must not be shown: every value, longest first."""
    hidden: set[str] = set()
    for arg in argv:
        name, eq, value = arg.partition("=")
        if arg in known:
            continue
        if arg.startswith("-") and _OPTION.fullmatch(name):
            if eq:  # --name=value: the name may show
                hidden.add(value)
            elif name not in known and not name.startswith("--") and len(name) > 2:
                hidden.add(name[2:])  # -vVALUE: a short option with its value attached
            continue
        hidden.add(arg)
    return sorted((h for h in hidden if h), key=len, reverse=True)


def sanitize(message: str, argv: Sequence[str], known: set[str]) -> str:
    """``message`` with every value of ``argv`` replaced by ``…`` (quoted or bare)."""
    for value in hidden_values(argv, known):
        message = message.replace(repr(value), repr(HIDDEN))
        message = re.sub(rf"(?<![^\s=,:'\"]){re.escape(value)}(?![^\s,'\"])", HIDDEN, message)
    return message
