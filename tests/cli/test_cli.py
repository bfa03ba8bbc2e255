"""The installed ``codexctl`` console script: exit codes, messages, files written."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from codexctl.kubeschema import NoSchemaError, check_object
from tests.conftest import EXAMPLE

CODEXCTL = Path(sys.executable).parent / "codexctl"


def codexctl(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(CODEXCTL), *args], capture_output=True, text=True, cwd=cwd, timeout=120, check=False)


def test_preview_prints_the_tree_and_writes_valid_manifests(tmp_path: Path) -> None:
    result = codexctl("preview", "--stack", "ai-slot-3", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "namespace project-example-dev-3" in result.stdout
    assert "InfrastructureGroup namespace-and-config" in result.stdout
    assert "ServiceComponent codex" in result.stdout
    assert "CodexAgent codex-agent" in result.stdout
    assert "Deployment codex" in result.stdout
    files = sorted(path.name for path in tmp_path.iterdir())
    assert files[0] == "01-namespace-and-config.yaml"
    assert "08-codex.yaml" in files
    documents = [doc for path in tmp_path.iterdir() for doc in yaml.safe_load_all(path.read_text())]
    assert len(documents) == 28
    for doc in documents:
        assert check_object(doc) == [], doc["metadata"]["name"]
    codex = next(d for d in documents if d["kind"] == "Deployment" and d["metadata"]["name"] == "codex")
    image = codex["spec"]["template"]["spec"]["containers"][0]["image"]
    assert image == "localhost:32000/project-example/codex:staging-0.1.0"
    secret = next(d for d in documents if d["kind"] == "Secret")
    assert set(secret["stringData"].values()) == {"[secret]"}


def test_preview_shows_secrets_only_when_asked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POSTGRES_PASSWORD", "canary-4c1d")
    masked = codexctl("preview", "--stack", "dev", "--out", str(tmp_path / "masked"))
    assert "canary-4c1d" not in masked.stdout + masked.stderr
    assert not any("canary-4c1d" in p.read_text() for p in (tmp_path / "masked").iterdir())
    shown = codexctl("preview", "--stack", "dev", "--out", str(tmp_path / "shown"), "--show-secrets")
    assert shown.returncode == 0
    assert any("canary-4c1d" in p.read_text() for p in (tmp_path / "shown").iterdir())


def test_preview_of_every_stack_of_the_example(tmp_path: Path) -> None:
    for stack in ["dev", "ai-staging", "ai-slot-1", "ai-slot-10"]:
        result = codexctl("preview", "--stack", stack, "--out", str(tmp_path / stack))
        assert result.returncode == 0, (stack, result.stderr)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["preview", "--stack", "ai-slot-11"], "slot 11 is out of range"),
        (["preview", "--stack", "ai-slot-0"], "slot 0 is out of range"),
        (["preview", "--stack", "prod"], "known environments: ai, ai-repair, ai-staging, dev"),
        (["preview", "--stack", "dev", "--mode", "fix"], "unknown mode 'fix'"),
        (["validate", "--stack", "prod"], "known environments"),
    ],
)
def test_bad_input_exits_2_with_one_message(args: list[str], message: str, tmp_path: Path) -> None:
    result = codexctl(*args, cwd=tmp_path)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert not (tmp_path / "preview").exists()


def test_broken_project_names_file_and_line(example_copy: Path) -> None:
    services = example_copy / "services.yaml"
    services.write_text(services.read_text().replace("dropKinds:", "dropKind:", 1), encoding="utf-8")
    result = codexctl("validate", "--stack", "ai-slot-2", "--project-dir", str(example_copy))
    assert result.returncode == 2
    assert "services.yaml:" in result.stderr
    assert "services[0].overlays.ai.dropKind" in result.stderr
    assert "did you mean 'dropKinds'" in result.stderr


def test_validate_accepts_the_example_and_rejects_an_invalid_object(example_copy: Path) -> None:
    ok = codexctl("validate", "--stack", "ai-slot-3")
    assert ok.returncode == 0, ok.stderr
    assert "28 objects" in ok.stdout
    manifest = example_copy / "deploy" / "configmap.yaml"
    manifest.write_text(manifest.read_text().replace('REDIS_DB: "0"', "REDIS_DB: 0"), encoding="utf-8")
    bad = codexctl("validate", "--stack", "ai-slot-3", "--project-dir", str(example_copy))
    assert bad.returncode == 2
    assert "configmap.yaml" in bad.stderr
    assert "data.REDIS_DB" in bad.stderr


def test_custom_resources_without_schema_are_noted() -> None:
    result = codexctl("validate", "--stack", "dev")
    assert result.returncode == 0
    assert "no schema for cert-manager.io/v1 ClusterIssuer" in result.stderr
    with pytest.raises(NoSchemaError):
        check_object({"apiVersion": "cert-manager.io/v1", "kind": "ClusterIssuer", "metadata": {"name": "x"}})


def test_schema_command_prints_the_json_schema() -> None:
    result = codexctl("schema")
    assert result.returncode == 0
    schema = json.loads(result.stdout)
    assert schema["title"] == "ServicesFile"
    assert "environments" in schema["properties"]


def test_repair_targets_command() -> None:
    result = codexctl("repair-targets", "--stack", "ai-slot-3", "--project-dir", str(EXAMPLE))
    assert result.returncode == 0, result.stderr
    urns = result.stdout.split()
    assert "urn:pulumi:ai-slot-3::codex::codex:stack:ServiceComponent::codex" in urns
    assert not any("django-backend" in urn for urn in urns)


def test_repair_preview_warns_about_targets(tmp_path: Path) -> None:
    result = codexctl("preview", "--stack", "ai-slot-3", "--mode", "repair", "--out", str(tmp_path))
    assert result.returncode == 0
    assert "skipped data-services: not in the repair set" in result.stdout
    assert "would delete the rest of the stack" in result.stderr
    assert len(list(tmp_path.iterdir())) == 3


def test_help_lists_the_commands() -> None:
    result = codexctl("--help")
    assert result.returncode == 0
    for command in ("preview", "validate", "schema", "repair-targets", "prompt", "ci"):
        assert command in result.stdout
