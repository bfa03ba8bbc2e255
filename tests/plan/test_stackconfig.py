"""The stack's own ``codex:*`` config (Pulumi.yaml defaults + stacks/Pulumi.<stack>.yaml) in the
offline commands: read without Pulumi, secrets skipped, command-line options on top."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from codex_stacks.cli.app import app
from codex_stacks.errors import ConfigError
from codex_stacks.stackconfig import plan_request, program_config, with_overrides
from tests.conftest import MINIMAL, NAMESPACE_MANIFEST, MakeProject

CLI = app

PROJECT_FILE = """\
name: codex
stackConfigDir: stacks
config:
  codex:projectDir:
    type: string
    default: examples/project-example
  codex:mode:
    type: string
    default: normal
  codex:vars:
    type: string
    default: "{}"
  codex:openaiApiKey:
    type: string
    secret: true
"""


def _program(root: Path, stacks: dict[str, str]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "Pulumi.yaml").write_text(PROJECT_FILE, encoding="utf-8")
    (root / "__main__.py").write_text("from codex_stacks.program import run\n\nrun()\n", encoding="utf-8")
    (root / "stacks").mkdir(exist_ok=True)
    for name, text in stacks.items():
        (root / "stacks" / f"Pulumi.{name}.yaml").write_text(textwrap.dedent(text), encoding="utf-8")
    return root


def test_defaults_then_the_stack_file_without_secrets(tmp_path: Path) -> None:
    root = _program(
        tmp_path / "program",
        {
            "dev": """\
            config:
              codex:mode: repair
              codex:slot: 2
              codex:vars:
                feature: x
              codex:openaiApiKey:
                secure: AAABAGVuY3J5cHRlZA==
              mode2: bare-key
              other:thing: not ours
            """
        },
    )
    config = program_config("dev", program_dir=root)
    assert config == {
        "codex:projectDir": "examples/project-example",
        "codex:mode": "repair",
        "codex:vars": json.dumps({"feature": "x"}),
        "codex:slot": "2",
        "codex:mode2": "bare-key",
    }
    assert "AAAB" not in json.dumps(config)
    # a stack without a file (every slot) gets the declared defaults
    assert program_config("ai-slot-4", program_dir=root)["codex:mode"] == "normal"
    # org/project/stack names use the stack's own file
    assert program_config("acme/codex/dev", program_dir=root)["codex:mode"] == "repair"


def test_options_win_and_the_request_matches_the_program(tmp_path: Path) -> None:
    config = {"codex:mode": "repair", "codex:vars": '{"a": 1}', "codex:slot": "0", "codex:namespace": "ns-x"}
    merged = with_overrides(config, project_dir=tmp_path, mode="normal")
    assert merged["codex:mode"] == "normal"
    assert merged["codex:projectDir"] == str(tmp_path.resolve())
    request = plan_request("dev", merged)
    assert (request.mode, request.slot, request.namespace, dict(request.vars)) == ("normal", None, "ns-x", {"a": 1})
    assert request.project_dir == tmp_path.resolve()
    with pytest.raises(ConfigError, match="codex:vars is not valid JSON"):
        plan_request("dev", {"codex:vars": "{nope"})


def test_a_broken_stack_file_is_one_located_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _program(tmp_path / "program", {"dev": "config:\n  codex:mode: [normal\n"})
    monkeypatch.setenv("CODEX_PROGRAM_DIR", str(root))
    result = CliRunner().invoke(CLI, ["validate", "--stack", "dev"])
    assert result.exit_code == 2
    assert "Pulumi.dev.yaml:" in result.stderr
    assert "invalid YAML" in result.stderr


VARS_MANIFEST = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: {{ namespace }}
data:
  FEATURE: "{{ vars.feature }}"
"""


@pytest.fixture
def vars_project(make_project: MakeProject) -> Path:
    services = MINIMAL.replace("      - path: ns.yaml\n", "      - path: ns.yaml\n      - path: cm.yaml\n")
    return make_project(services, {"ns.yaml": NAMESPACE_MANIFEST, "cm.yaml": VARS_MANIFEST})


def test_stack_file_values_reach_the_plan(vars_project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    stack_file = f"""\
    config:
      codex:projectDir: {vars_project}
      codex:namespace: from-the-stack-file
      codex:vars:
        feature: on-from-stack-file
    """
    monkeypatch.setenv("CODEX_PROGRAM_DIR", str(_program(tmp_path / "program", {"dev": stack_file})))
    out = tmp_path / "pv"
    result = CliRunner().invoke(CLI, ["preview", "--stack", "dev", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "namespace from-the-stack-file" in result.stdout
    documents = [doc for path in out.glob("*.yaml") for doc in yaml.safe_load_all(path.read_text()) if doc]
    configmap = next(doc for doc in documents if doc["kind"] == "ConfigMap")
    assert configmap["data"] == {"FEATURE": "on-from-stack-file"}
    assert configmap["metadata"]["namespace"] == "from-the-stack-file"

    validated = CliRunner().invoke(CLI, ["validate", "--stack", "dev"])
    assert validated.exit_code == 0, validated.output
    assert "2 objects" in validated.stdout


def test_mode_option_overrides_the_stack_file(
    vars_project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stack_file = f"""\
    config:
      codex:projectDir: {vars_project}
      codex:mode: bogus-from-file
      codex:vars: '{{"feature": "x"}}'
    """
    monkeypatch.setenv("CODEX_PROGRAM_DIR", str(_program(tmp_path / "program", {"dev": stack_file})))
    from_file = CliRunner().invoke(CLI, ["validate", "--stack", "dev"])
    assert from_file.exit_code == 2
    assert "unknown mode 'bogus-from-file'" in from_file.stderr
    overridden = CliRunner().invoke(
        CLI, ["preview", "--stack", "dev", "--mode", "normal", "--out", str(tmp_path / "o")]
    )
    assert overridden.exit_code == 0, overridden.output
    assert "mode normal" in overridden.stdout


def test_prompts_see_the_stack_file_too(vars_project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The agent's prompt names the namespace the stack really deploys into, and the project the
    stack file points at (no --project-dir)."""
    stack_file = f"""\
    config:
      codex:projectDir: {vars_project}
      codex:namespace: from-the-stack-file
      codex:vars: '{{"feature": "x"}}'
    """
    monkeypatch.setenv("CODEX_PROGRAM_DIR", str(_program(tmp_path / "program", {"dev": stack_file})))
    result = CliRunner().invoke(CLI, ["prompt", "render", "--stack", "dev", "--kind", "dev_issue", "--issue", "5"])
    assert result.exit_code == 0, result.output
    assert "from-the-stack-file" in result.stdout
    assert "demo" in result.stdout  # the project of the stack file, not the bundled example
    assert "project-example" not in result.stdout
