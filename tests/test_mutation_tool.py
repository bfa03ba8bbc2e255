"""``tools/mutation.py`` (``make mutation`` and the floor of ``make test``): a mutmut run that fails
once — its clean run of the tests tripping on a loaded machine — is run once more, not reported
as a failed measurement; a second failure is."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

import pytest

from tests.conftest import REPO_ROOT


def load_tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("mutation_tool", REPO_ROOT / "tools" / "mutation.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(("exits", "calls", "result"), [([1, 0], 2, 0), ([0], 1, 0), ([2, 2], 2, 2)])
def test_a_failed_mutmut_run_is_tried_once_more(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], exits: list[int], calls: int, result: int
) -> None:
    tool = load_tool()
    seen: list[list[str]] = []

    def fake(work: Path, arguments: Sequence[str], log: Path) -> subprocess.CompletedProcess[str]:
        seen.append(list(arguments))
        return subprocess.CompletedProcess(["mutmut", *arguments], exits[len(seen) - 1], "", "")

    setattr(tool, "mutmut", fake)  # noqa: B010 (a module loaded from a file: mypy cannot know its names)
    done = tool.mutmut_twice("plan", tmp_path, ["run", "x"], tmp_path / "plan.log")
    assert done.returncode == result
    assert seen == [["run", "x"]] * calls
    said = capsys.readouterr().err
    assert ("running it once more" in said) == (calls == 2)
