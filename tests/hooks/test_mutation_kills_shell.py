"""``run:`` steps in real bash: behaviours that the mutation run (tools/mutation.py hooks) found unguarded."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

from codex_stacks.components.hooks.providers.base import HookError
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


def test_a_script_that_reads_its_input_gets_nothing_not_the_runners(monkeypatch: pytest.MonkeyPatch) -> None:
    """The runner's stdin may be a pipe that stays open (a CI job, the engine): a script that reads
    its input (``cat``, ``read``) gets end-of-file at once instead of waiting out its timeout."""
    reader, writer = os.pipe()
    saved = os.dup(0)
    try:
        os.dup2(reader, 0)  # this process's input: a pipe whose writer never closes
        created = ShellStepProvider().create(
            step_props("run", {"script": "cat; echo read-all", "env": {}}, timeout=3.0)
        )
    finally:
        os.dup2(saved, 0)
        for fd in (saved, reader, writer):
            os.close(fd)
    assert created.outs["result"] == {"exit_code": 0}


def test_output_that_is_not_utf8_is_shown_with_replacement_characters(capsys: pytest.CaptureFixture[str]) -> None:
    """Scripts print what they like: bytes that are not UTF-8 neither fail a step that exited 0 nor
    hide the reason of one that failed."""
    created = ShellStepProvider().create(step_props("run", {"script": r"printf 'out \377 put\n'", "env": {}}))
    assert created.outs["result"] == {"exit_code": 0}
    assert "out \ufffd put" in capsys.readouterr().err
    with pytest.raises(HookError) as failure:
        ShellStepProvider().create(step_props("run", {"script": r"printf 'bad \377 byte\n' >&2; exit 2", "env": {}}))
    assert str(failure.value) == "hook codex/afterApply/step failed: script exited with 2: bad \ufffd byte"
