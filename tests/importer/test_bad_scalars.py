"""`codexctl import` on an upstream services.yaml with a value its YAML tag cannot make: one line
naming the file and line, never a Python traceback (PyYAML reads ``2024-13-01`` as a timestamp by
its form and raised ValueError)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.importer.stacks import codexctl


@pytest.mark.parametrize(
    ("value", "tag"),
    [("2024-13-01", "!!timestamp"), ("!!int x", "!!int"), ("!!bool maybe", "!!bool")],
)
def test_a_value_its_tag_cannot_make_is_one_line_at_its_line(tmp_path: Path, value: str, tag: str) -> None:
    project = tmp_path / "shop"
    project.mkdir()
    (project / "services.yaml").write_text(f"project: shop\nversions:\n  api: {value}\n", encoding="utf-8")
    done = codexctl("import", str(project), "--out", str(tmp_path / "out"))
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    [line] = [line for line in done.stderr.splitlines() if line.strip()]
    assert line.endswith(
        f"services.yaml:3: not YAML before templating (upstream reads it as YAML first, too): "
        f"not a valid {tag} (quote the value to keep it as text)"
    ), line
