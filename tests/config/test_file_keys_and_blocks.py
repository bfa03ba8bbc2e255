"""services.yaml takes camelCase keys only, and its codex.configBlocks are checked as TOML when it loads."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from codex_stacks.config.model import Overlay, Timeouts
from codex_stacks.errors import ConfigError
from tests.config.conftest import load
from tests.prompts.conftest import copy_example

CODEXCTL = Path(sys.executable).parent / "codexctl"


def codexctl(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CODEXCTL), *args], capture_output=True, text=True, timeout=120, check=False, cwd=cwd, env=dict(os.environ)
    )


@pytest.mark.parametrize(
    ("text", "path", "line", "hint"),
    [
        (
            "project: demo\ncodex:\n  model_reasoning_effort: high\n",
            "codex.model_reasoning_effort",
            3,
            "did you mean 'modelReasoningEffort'? (keys are camelCase)",
        ),
        (
            "project: demo\ncodex:\n  timeouts:\n    deploy_wait: 5m\n",
            "codex.timeouts.deploy_wait",
            4,
            "did you mean 'deployWait'? (keys are camelCase)",
        ),
        (
            "project: demo\nenvironments:\n  dev:\n    image_pull_policy: Always\n",
            "environments.dev.image_pull_policy",
            4,
            "did you mean 'imagePullPolicy'? (keys are camelCase)",
        ),
        (
            "project: demo\nservices:\n  - name: api\n    depends_on: []\n",
            "services[0].depends_on",
            4,
            "did you mean 'dependsOn'? (keys are camelCase)",
        ),
    ],
)
def test_snake_case_keys_below_the_top_level_are_unknown(text: str, path: str, line: int, hint: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load(text)
    assert caught.value.location.path == path
    assert caught.value.location.line == line
    assert caught.value.message.startswith(f"unknown key {path.rsplit('.', 1)[-1]!r}")
    assert caught.value.hint == hint


def test_snake_case_hook_parameters_are_unknown_with_a_hint() -> None:
    text = (
        "project: demo\nhooks:\n  beforeAll:\n    - name: wait\n      use: kubectl.wait\n"
        "      with: {kind: Deployment, name: api, api_version: apps/v1}\n"
    )
    with pytest.raises(ConfigError) as caught:
        load(text)
    assert "with.api_version: Extra inputs are not permitted (did you mean 'apiVersion'?)" in str(caught.value)


def test_the_camel_case_keys_still_load_and_code_still_builds_models_by_field_name() -> None:
    settings = load(
        "project: demo\ncodex:\n  modelReasoningEffort: high\n  timeouts:\n    deployWait: 5m\n"
        "environments:\n  dev:\n    imagePullPolicy: Always\n"
    )
    assert settings.codex.model_reasoning_effort == "high"
    assert settings.codex.timeouts.deploy_wait == "5m"
    assert settings.environment("dev").image_pull_policy == "Always"
    assert Overlay(drop_kinds=["Ingress"]).drop_kinds == ["Ingress"]
    assert Timeouts(deploy_wait="1m").deploy_wait == "1m"


def test_validate_rejects_a_snake_case_key_of_an_environment(tmp_path: Path) -> None:
    project = copy_example(tmp_path)
    services = project / "services.yaml"
    text = services.read_text(encoding="utf-8")
    assert "  ai:\n    from: ai-staging\n" in text
    services.write_text(
        text.replace("  ai:\n    from: ai-staging\n", "  ai:\n    from: ai-staging\n    kube_context: x\n")
    )
    result = codexctl("validate", "-s", "ai-slot-3", "-p", str(project), cwd=tmp_path)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "environments.ai.kube_context: unknown key 'kube_context'" in result.stderr
    assert "did you mean 'kubeContext'?" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("blocks", "message"),
    [
        ("    - '[broken'\n", "codex.configBlocks[0]: not valid TOML on its own: Expected ']'"),
        ("    - 'model = \"o3\"'\n", "codex.configBlocks[0]: 'model' is set by codex.model, not by a block"),
        ("    - 'a = 1'\n    - 'a = 2'\n", "codex.configBlocks: block [1] repeats an earlier block: 'a' is set twice"),
    ],
)
@pytest.mark.parametrize("command", ["validate", "preview"])
def test_validate_and_preview_reject_a_bad_config_block(
    tmp_path: Path, command: str, blocks: str, message: str
) -> None:
    project = copy_example(tmp_path, codex_yaml=f"  mcp:\n    servers: []\n  configBlocks:\n{blocks}")
    lines = (project / "services.yaml").read_text(encoding="utf-8").splitlines()
    line = lines.index("  configBlocks:") + 1
    extra = ("-o", str(tmp_path / "out")) if command == "preview" else ()
    result = codexctl(command, "-s", "ai-slot-3", "-p", str(project), *extra, cwd=tmp_path)
    assert result.returncode == 2, result.stdout + result.stderr
    errors = [text for text in result.stderr.splitlines() if text.startswith("error: ")]
    assert len(errors) == 1, result.stderr
    assert errors[0].startswith(f"error: {project / 'services.yaml'}:")
    assert message in errors[0]
    assert int(errors[0].split(":")[2]) >= line
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()


def test_a_good_config_block_passes_validate(tmp_path: Path) -> None:
    project = copy_example(
        tmp_path, codex_yaml="  mcp:\n    servers: []\n  configBlocks:\n    - 'approval_policy = \"never\"'\n"
    )
    result = codexctl("validate", "-s", "ai-slot-3", "-p", str(project), cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
