"""``tools/killcheck.py``: a few test files against every mutant of some functions.

The mutants folder here is made by hand the way mutmut makes one: each mutant is a function
``x_<name>__mutmut_<n>`` beside the original, and the function the tests call dispatches on
``MUTANT_UNDER_TEST`` at every call (mutmut's trampoline does the same).
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from tests.conftest import REPO_ROOT

TOOL = REPO_ROOT / "tools" / "killcheck.py"

CALC = textwrap.dedent(
    """
    import os
    import time


    def x_double__mutmut_orig(n):
        return 2 * n


    def x_double__mutmut_1(n):
        return 3 * n


    def x_double__mutmut_2(n):
        return n + n


    def x_double__mutmut_3(n):
        time.sleep(30)
        return 2 * n


    def x_half__mutmut_1(n):
        return n


    MUTANTS = {"x_double__mutmut_1": x_double__mutmut_1, "x_double__mutmut_2": x_double__mutmut_2,
               "x_double__mutmut_3": x_double__mutmut_3}


    def double(n):
        module, _, name = os.environ.get("MUTANT_UNDER_TEST", "").rpartition(".")
        chosen = MUTANTS.get(name) if module == __name__ else None
        return (chosen or x_double__mutmut_orig)(n)
    """
)


def mutants_folder(tmp_path: Path, test: str) -> Path:
    folder = tmp_path / "mutants"
    (folder / "codex_stacks").mkdir(parents=True)
    (folder / "codex_stacks" / "__init__.py").write_text("")
    (folder / "codex_stacks" / "calc.py").write_text(CALC)
    (folder / "tests").mkdir()
    (folder / "tests" / "test_calc.py").write_text(test)
    return folder


def killcheck(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(TOOL), *args], cwd=folder, capture_output=True, text=True, timeout=120, check=False
    )


PASSING = "from codex_stacks.calc import double\n\n\ndef test_double():\n    assert double(2) == 4\n"


def test_each_mutant_of_the_functions_asked_for_is_killed_survives_or_times_out(tmp_path: Path) -> None:
    done = killcheck(mutants_folder(tmp_path, PASSING), r"calc\.x_double__", "tests/test_calc.py", "--timeout", "3")
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stdout.splitlines() if line and not line.startswith(".")]
    assert lines == [
        "3 mutants, 1 tests",
        "SURVIVED codex_stacks.calc.x_double__mutmut_2",
        "TIMEOUT  codex_stacks.calc.x_double__mutmut_3",
        "3 mutants: 1 killed, 1 timed out, 1 survived",
    ]


def test_tests_that_fail_without_a_mutant_measure_nothing(tmp_path: Path) -> None:
    failing = PASSING.replace("== 4", "== 5")
    done = killcheck(mutants_folder(tmp_path, failing), r"calc\.", "tests/test_calc.py")
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1] == (
        "killcheck: the tests fail (or find nothing) with no mutant switched on"
    )


def test_a_pattern_that_matches_no_mutant_is_one_line(tmp_path: Path) -> None:
    folder = mutants_folder(tmp_path, PASSING)
    done = killcheck(folder, r"x_triple__", "tests/test_calc.py")
    assert done.returncode == 2
    assert done.stderr == f"killcheck: no mutant under {folder} matches 'x_triple__'\n"
