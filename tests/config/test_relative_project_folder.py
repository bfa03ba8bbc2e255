"""A project named by a relative folder (``codexctl … --project .``, the default) is resolved
from the current folder of each read: a process that reads one project, changes folder and reads
another must not take the first folder for the second."""

from __future__ import annotations

from pathlib import Path

import pytest

from codex_stacks.config.files import read_text
from codex_stacks.plan import PlanRequest
from codex_stacks.plan.check import check_everything


def test_the_same_relative_folder_in_two_places_is_two_projects(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    for folder in (first, second):
        folder.mkdir()
        (folder / "services.yaml").write_text(f"project: {folder.name}\n")
    monkeypatch.chdir(first)
    assert read_text(Path("services.yaml"), root=Path(".")) == "project: first\n"
    monkeypatch.chdir(second)
    assert read_text(Path("services.yaml"), root=Path(".")) == "project: second\n"


def test_errors_name_services_yaml_as_fully_as_the_manifests(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Given ``--project-dir ov``, an error in services.yaml printed ``ov/services.yaml:8`` beside
    ``/tmp/…/ov/cm.yaml:4`` for a manifest: both are named from the root now."""
    folder = tmp_path / "ov"
    folder.mkdir()
    (folder / "services.yaml").write_text(
        "project: shop\nenvironments:\n  dev: {}\ninfrastructure:\n  - name: base\n"
        "    manifests: [{path: cm.yaml}]\n    when: '{{ nope2 }}'\n",
        encoding="utf-8",
    )
    monkeypatch.chdir(tmp_path)
    [problem] = check_everything(PlanRequest(stack="dev", project_dir=Path("ov")))
    assert str(problem).splitlines()[0] == (
        f"{tmp_path}/ov/services.yaml:7: infrastructure[0].when: undefined template variable: 'nope2' is undefined"
    )
