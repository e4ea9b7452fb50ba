"""One error base for everything a *user* can get wrong (agents get observations, not exceptions)."""

from __future__ import annotations

import difflib


class SqlgymError(Exception):
    """Base class of every error sqlgym raises on purpose."""


class ScenarioNotFound(SqlgymError, KeyError):
    """An unknown scenario id; the message lists close matches."""

    def __init__(self, name: str, known: list[str], kind: str = "scenario", also: str = "generator://index/<n>"):
        close = difflib.get_close_matches(name, known, n=3, cutoff=0.5)
        hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        shown = ", ".join(known[:20]) + (" ..." if len(known) > 20 else "")
        super().__init__(f"unknown {kind} {name!r}.{hint} Known: {shown}" + (f"; or {also}." if also else "."))
        self.name = name

    def __str__(self) -> str:  # KeyError would repr() the message
        return self.args[0]


class ScenarioError(SqlgymError, ValueError):
    """A scenario spec that does not validate; says which field and why."""


class ConfigError(SqlgymError, ValueError):
    """A bad argument or configuration from the user."""


class SqlgymWarning(UserWarning):
    """Something sqlgym left out and went on without (workload statements it could not use, say)."""


class SQLParseError(SqlgymError, ValueError):
    """SQL text that is not exactly one statement sqlglot can parse (too deeply nested included).

    A ``ValueError`` too, so ``except ValueError`` around ``sqltext.parse`` keeps working.
    """


def unknown_name(kind: str, name: str, known: list[str]) -> ConfigError:
    """A ConfigError for a misspelt name, with 'did you mean' and the valid names."""
    close = difflib.get_close_matches(name, known, n=3, cutoff=0.5)
    hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    return ConfigError(f"unknown {kind} {name!r}.{hint} Valid: {', '.join(known)}.")
