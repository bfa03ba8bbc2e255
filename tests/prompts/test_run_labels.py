"""[ai-model-<name>] / [ai-reasoning-<level>] choose one run's model and effort, checked before
anything reaches config.toml; everything else on the issue is ignored (README "Agent prompts")."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest
import yaml

from codex_stacks.config.model import CodexSettings
from codex_stacks.errors import CodexError
from codex_stacks.prompts.labels import apply_run_labels, parse_labels
from codex_stacks.prompts.runner import prepare
from tests.cli.test_prompt_cli import assert_one_line_error, codexctl
from tests.prompts.conftest import EXAMPLE, copy_example

EFFORTS = ["minimal", "low", "medium", "high"]
"""codex's documented model_reasoning_effort values (codex docs/config.md)."""


def _config(*labels: str, project: Path = EXAMPLE) -> dict[str, object]:
    result = codexctl("prompt", "config", "-s", "ai-slot-3", "-p", str(project), "--labels", json.dumps(list(labels)))
    assert result.returncode == 0, result.stderr
    return tomllib.loads(result.stdout)


def test_labels_choose_model_and_effort_of_the_run_in_config_toml() -> None:
    plain = _config("[ai-dev]", "bug")
    assert (plain["model"], plain["model_reasoning_effort"]) == ("gpt-5-codex", "medium")  # services.yaml's own
    chosen = _config("bug", "[ai-model-gpt-5]", "[ai-dev]", "[ai-reasoning-high]")
    assert (chosen["model"], chosen["model_reasoning_effort"]) == ("gpt-5", "high")
    assert chosen["mcp_servers"] == plain["mcp_servers"]  # nothing else changes


@pytest.mark.parametrize(
    ("labels", "message"),
    [
        (["[ai-model-gpt-4o]"], "label [ai-model-gpt-4o]: model 'gpt-4o' is not allowed; allowed: gpt-5-codex, gpt-5"),
        (
            ["[ai-reasoning-max]"],
            "label [ai-reasoning-max]: reasoning effort 'max' is unknown; allowed: " + ", ".join(EFFORTS),
        ),
        (["[ai-model-gpt-5]", "[ai-model-gpt-5-codex]"], "one model label at a time"),
        (['[ai-model-gpt-5"\nmodel = "evil]'], "is not allowed"),
    ],
)
def test_a_label_asking_for_something_not_allowed_is_one_line_and_exit_2(labels: list[str], message: str) -> None:
    result = codexctl("prompt", "config", "-s", "ai-slot-3", "-p", str(EXAMPLE), "--labels", json.dumps(labels))
    assert_one_line_error(result, message)
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("text", ["[ai-dev]", '{"name": "[ai-dev]"}', "[1, 2]", "[" * 5000 + "]" * 5000])
def test_labels_must_be_a_json_list_of_names(text: str) -> None:
    result = codexctl("prompt", "config", "-s", "ai-slot-3", "-p", str(EXAMPLE), "--labels", text)
    assert_one_line_error(result, "--labels: not a JSON list of label names")


def test_a_huge_label_list_is_refused() -> None:
    with pytest.raises(CodexError, match="at most 100"):
        parse_labels(json.dumps([f"l{n}" for n in range(101)]))
    with pytest.raises(CodexError, match="longer than"):
        parse_labels(json.dumps(["x" * 70_000]))


def test_without_a_models_list_only_the_default_model_is_allowed() -> None:
    codex = CodexSettings(model="gpt-5-codex")
    assert apply_run_labels(codex, ["[ai-model-gpt-5-codex]"]).model == "gpt-5-codex"
    with pytest.raises(CodexError, match="allowed: gpt-5-codex "):
        apply_run_labels(codex, ["[ai-model-gpt-5]"])


def test_the_default_model_must_be_in_the_list(tmp_path: Path) -> None:
    project = copy_example(tmp_path)
    services = project / "services.yaml"
    data = yaml.safe_load(services.read_text())
    data["codex"]["models"] = ["gpt-5"]
    services.write_text(yaml.safe_dump(data))
    result = codexctl("prompt", "config", "-s", "ai-slot-3", "-p", str(project))
    assert result.returncode == 2
    assert "codex" in result.stderr
    assert "model 'gpt-5-codex' must be one of models (gpt-5)" in result.stderr


def test_the_agent_run_checks_labels_before_it_touches_the_cluster() -> None:
    """prepare() is what run_prompt does before any Kubernetes call: a bad label stops it there."""
    with pytest.raises(CodexError, match=r"\[ai-reasoning-extreme\]"):
        prepare(
            stack="ai-slot-3",
            kind="dev_issue",
            project_dir=EXAMPLE,
            issue=42,
            pr=None,
            lang=None,
            infra_report=None,
            labels=["[ai-reasoning-extreme]"],
        )
    _, _, config = prepare(
        stack="ai-slot-3",
        kind="dev_issue",
        project_dir=EXAMPLE,
        issue=42,
        pr=None,
        lang=None,
        infra_report=None,
        labels=["[ai-reasoning-low]"],
    )
    assert tomllib.loads(config)["model_reasoning_effort"] == "low"
