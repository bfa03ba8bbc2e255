"""``run:`` steps in real bash: behaviours that the mutation run (tools/mutation.py hooks) found unguarded."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from codex_stacks.components.hooks.providers.shell import ShellStepProvider
from tests.hooks.helpers import step_props


def test_what_a_script_leaves_of_its_home_is_named_after_the_hook(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A script's HOME is a fresh folder in the temporary folder, removed after it; what cannot be
    removed (here a file the script put in its place) stays under a name that tells an operator
    cleaning up the runner's temporary folder where it came from."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    created = ShellStepProvider().create(
        step_props(
            "run",
            {"script": 'echo "$HOME" > "$OUT"; rmdir "$HOME" && echo x > "$HOME"', "env": {}},
            secrets={"env:OUT": str(tmp_path / "home.txt")},
        )
    )
    assert created.outs["result"] == {"exit_code": 0}
    home = Path((tmp_path / "home.txt").read_text(encoding="utf-8").strip())
    assert home.parent == tmp_path
    assert home.name.startswith("codex-hook-home-")
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(["home.txt", home.name])
