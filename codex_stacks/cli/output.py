"""How the CLI talks: rich on stderr for people, one clear line per error, exit codes."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NoReturn, ParamSpec, TypeVar, cast

import typer

if TYPE_CHECKING:
    from rich.console import Console

from codex_stacks.errors import CodexError, CombinedError


class _LazyConsole:
    """A rich Console made on first use: importing rich costs start-up time `--help` does not need."""

    def __init__(self, *, stderr: bool) -> None:
        self._stderr = stderr
        self._console: Console | None = None

    def __getattr__(self, name: str) -> Any:
        if self._console is None:
            from rich.console import Console

            self._console = Console(stderr=self._stderr, highlight=False, soft_wrap=True)
            if not self._console.is_terminal:  # logs and pipes: keep long lines whole
                self._console.width = max(self._console.width, 200)
        return getattr(self._console, name)


console = cast("Console", _LazyConsole(stderr=True))
out = cast("Console", _LazyConsole(stderr=False))

EXIT_BAD_INPUT = 2
P = ParamSpec("P")
R = TypeVar("R")


def fail(message: str, *, code: int = EXIT_BAD_INPUT) -> NoReturn:
    console.print(f"[bold red]error:[/bold red] {message}", markup=True)
    raise typer.Exit(code)


def print_error(error: CodexError) -> None:
    """One ``error:`` line per problem: every problem of a CombinedError up to its limit, then a
    count of the others."""
    problems = error.problems if isinstance(error, CombinedError) else (error,)
    for problem in problems[: CombinedError.LIMIT]:
        console.print("[bold red]error:[/bold red] ", end="", markup=True)
        console.print(str(problem), markup=False)
    hidden = len(problems) - CombinedError.LIMIT
    if hidden > 0:
        console.print(
            f"  … and {hidden} more problem{'s' if hidden > 1 else ''} (fix these and run again)", markup=False
        )


def error_cause(exc: BaseException) -> CodexError | None:
    """The CodexError behind an exception (Pulumi wraps the program's errors in RunError)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, CodexError):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


def exit_code_of(error: CodexError) -> int:
    """2 for bad input (the default); an error class may say otherwise (``exit_code = 1`` for outside failures)."""
    code = getattr(error, "exit_code", EXIT_BAD_INPUT)
    return code if isinstance(code, int) and code > 0 else EXIT_BAD_INPUT


def handle_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Expected failures → one message and their exit code (2 for bad input); bugs keep their traceback."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except typer.Exit:
            raise
        except Exception as exc:
            cause = error_cause(exc)
            if cause is None:
                raise
            print_error(cause)
            raise typer.Exit(exit_code_of(cause)) from None

    return wrapper


def json_output(value: str) -> bool:
    """``--output``: text (for people) or json (one document on stdout, docs/architecture.md)."""
    if value not in ("text", "json"):
        fail(f"--output {value!r}: use text or json")
    return value == "json"


def print_json(document: Any) -> None:
    """One JSON document on stdout, keys sorted, so scripts and diffs see a stable text."""
    import json

    typer.echo(json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False))
