"""Typed errors with a location: the core raises them, the edges print them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Location:
    """Where a problem is: a file, a line in it, and a key path inside the document."""

    file: Path | None = None
    line: int | None = None
    path: str | None = None

    def __str__(self) -> str:
        parts: list[str] = []
        if self.file is not None:
            parts.append(f"{self.file}:{self.line}" if self.line else str(self.file))
        if self.path:
            parts.append(self.path)
        return ": ".join(parts)


class CodexError(Exception):
    """Base of every error a user can cause and fix; never a bug."""

    def __init__(self, message: str, *, location: Location | None = None, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.location = location or Location()
        self.hint = hint

    def __str__(self) -> str:
        where = str(self.location)
        text = f"{where}: {self.message}" if where else self.message
        return f"{text}\n  hint: {self.hint}" if self.hint else text


class ConfigError(CodexError):
    """services.yaml (or stack config) does not match the model."""


class TemplateError(CodexError):
    """A Jinja2 template failed to parse or render."""


class PlanError(CodexError):
    """The settings are valid but do not make a deployable plan for this stack."""


class CombinedError(CodexError):
    """Several problems found in one pass: printed one per line, up to :attr:`LIMIT`, then a count."""

    LIMIT = 20

    def __init__(self, problems: list[CodexError]) -> None:
        if not problems:
            raise ValueError("CombinedError needs at least one problem")
        first = problems[0]
        super().__init__(first.message, location=first.location, hint=first.hint)
        self.problems = tuple(problems)
        code = getattr(first, "exit_code", None)
        if code is not None:
            self.exit_code = code

    def __str__(self) -> str:
        shown = [str(problem) for problem in self.problems[: self.LIMIT]]
        hidden = len(self.problems) - len(shown)
        if hidden:
            shown.append(f"… and {hidden} more problem{'s' if hidden > 1 else ''}")
        return "\n".join(shown)


def raise_all(problems: list[CodexError]) -> None:
    """Nothing when there is no problem, the problem itself when there is one, else all of them."""
    if len(problems) == 1:
        raise problems[0]
    if problems:
        raise CombinedError(problems)
