"""Which mutants of some functions a few test files kill: every mutant, not a sample.

    cd build/mutation/<package>/mutants        # made by a tools/mutation.py run
    ../../../../.venv/bin/python ../../../../tools/killcheck.py REGEX TESTFILE [TESTFILE ...]

``REGEX`` is searched in each mutant's full name (``codex_stacks.config.budget.x__check_join__mutmut_7``,
``codex_stacks.config.budget.xǁ_Meterǁtext__mutmut_35`` for a method), so ``'budget\\.x__check_join__'``
takes every mutant of one function. The test files are paths inside the mutants folder (copy a new
test file there first). pytest collects them once; then, for each mutant, a forked child runs the
collected tests with that mutant switched on (``MUTANT_UNDER_TEST``, which mutmut's trampolines
read at every call) and stops at the first failure. A child that passes every test is a mutant
that *survived*; one that outlives ``--timeout`` counts as killed, as in mutmut. It prints each
survivor, then the counts; exit status 0, or 2 when the tests fail with no mutant switched on or
nothing matches. docs/testing.md, "Mutation score", says when to use it.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

_MUTANT_DEF = re.compile(r"^\s*def (x\S*?__mutmut_\d+)\(", re.M)


def mutant_names(folder: Path, pattern: str, package: str = "codex_stacks") -> list[str]:
    """Full names of the mutants under ``folder/package`` whose name matches ``pattern``, in the
    order of their functions and numbers."""
    regex = re.compile(pattern)
    found: list[str] = []
    for path in sorted((folder / package).rglob("*.py")):
        module = ".".join(path.relative_to(folder).with_suffix("").parts)
        module = module.removesuffix(".__init__")
        for match in _MUTANT_DEF.finditer(path.read_text(encoding="utf-8")):
            name = f"{module}.{match.group(1)}"
            if regex.search(name):
                found.append(name)
    return sorted(found, key=lambda name: (name.rsplit("__mutmut_", 1)[0], int(name.rsplit("_", 1)[1])))


@dataclass
class Verdicts:
    killed: int = 0
    timeouts: int = 0
    survived: list[str] = field(default_factory=list)


def _wait(pid: int, timeout: float) -> int | None:
    """The child's wait status, or None when it was stopped at the timeout."""
    deadline = time.monotonic() + timeout
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return status
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return None
        time.sleep(0.01)


def _in_child(run: Callable[[], bool], mutant: str | None, timeout: float) -> bool | None:
    """``run()`` in a forked child with ``mutant`` switched on: whether every test passed (None:
    it ran out of time)."""
    pid = os.fork()
    if pid == 0:  # pragma: no cover (the child leaves through os._exit)
        if mutant is not None:
            quiet = os.open(os.devnull, os.O_WRONLY)
            os.dup2(quiet, 1)
            os.dup2(quiet, 2)
            os.environ["MUTANT_UNDER_TEST"] = mutant
        try:
            passed = run()
        except BaseException:
            passed = False
        os._exit(0 if passed else 1)
    status = _wait(pid, timeout)
    if status is None:
        return None
    return os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0


def check(names: Sequence[str], run: Callable[[], bool], *, timeout: float, say: Callable[[str], None]) -> Verdicts:
    verdicts = Verdicts()
    for name in names:
        passed = _in_child(run, name, timeout)
        if passed is None:
            verdicts.timeouts += 1
            say(f"TIMEOUT  {name}")
        elif passed:
            verdicts.survived.append(name)
            say(f"SURVIVED {name}")
        else:
            verdicts.killed += 1
    return verdicts


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0] if __doc__ else None)
    parser.add_argument("pattern", help="a regular expression searched in each mutant's full name")
    parser.add_argument("tests", nargs="+", help="test files (paths inside the mutants folder)")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per mutant (default 60)")
    args = parser.parse_args(argv)
    folder = Path.cwd()
    names = mutant_names(folder, args.pattern)
    if not names:
        print(f"killcheck: no mutant under {folder} matches {args.pattern!r}", file=sys.stderr)
        return 2
    os.environ.pop("MUTANT_UNDER_TEST", None)
    sys.path.insert(0, str(folder))
    import pytest
    from _pytest.runner import runtestprotocol

    outcome: dict[str, object] = {}

    class Loop:
        """Replaces pytest's run loop: the collected tests, once per mutant."""

        @pytest.hookimpl(tryfirst=True)
        def pytest_runtestloop(self, session: pytest.Session) -> bool:
            items = list(session.items)

            def run() -> bool:
                for index, item in enumerate(items):
                    following = items[index + 1] if index + 1 < len(items) else None
                    if any(report.failed for report in runtestprotocol(item, nextitem=following, log=False)):
                        return False
                return bool(items)

            if not _in_child(run, None, args.timeout):
                outcome["error"] = "the tests fail (or find nothing) with no mutant switched on"
                return True
            print(f"{len(names)} mutants, {len(items)} tests", flush=True)
            outcome["verdicts"] = check(names, run, timeout=args.timeout, say=lambda line: print(line, flush=True))
            return True

    pytest.main(
        ["-qq", "--no-summary", "-p", "no:xdist", "-p", "no:cacheprovider", "--no-header", *args.tests],
        plugins=[Loop()],
    )
    verdicts = outcome.get("verdicts")
    if not isinstance(verdicts, Verdicts):
        print(f"killcheck: {outcome.get('error', 'pytest did not run the tests')}", file=sys.stderr)
        return 2
    print(
        f"{len(names)} mutants: {verdicts.killed} killed, {verdicts.timeouts} timed out, "
        f"{len(verdicts.survived)} survived"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
