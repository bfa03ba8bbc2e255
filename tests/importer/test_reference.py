"""How the golden tests find the upstream reference folder, and what they do without it."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.importer import reference

WORKFLOW = reference.REPOSITORY / ".github" / "workflows" / "ci.yml"


@pytest.fixture
def missing(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(reference.SETTING, str(tmp_path / "nowhere"))
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.delenv(reference.OPTIONAL, raising=False)


@pytest.mark.usefixtures("missing")
def test_without_the_folder_the_tests_skip_with_the_reason() -> None:
    with pytest.raises(pytest.skip.Exception, match="nowhere is missing"):
        reference.require_reference()


@pytest.mark.usefixtures("missing")
def test_under_ci_a_missing_folder_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CODEX_REFERENCE_OPTIONAL=1"):
        reference.require_reference()


@pytest.mark.usefixtures("missing")
def test_a_ci_that_opts_out_skips(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    monkeypatch.setenv(reference.OPTIONAL, "1")
    with pytest.raises(pytest.skip.Exception):
        reference.require_reference()


def test_with_the_folder_the_tests_run_even_when_optional(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "golden").mkdir()
    (tmp_path / "project-example").mkdir()
    monkeypatch.setenv(reference.SETTING, str(tmp_path))
    monkeypatch.setenv(reference.OPTIONAL, "1")
    assert reference.require_reference() == tmp_path


def test_this_repositorys_ci_opts_out_because_its_runners_have_no_reference() -> None:
    workflow = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    [test] = [step for step in workflow["jobs"]["test"]["steps"] if step.get("run") == "make test"]
    assert test["env"][reference.OPTIONAL] == "1"
