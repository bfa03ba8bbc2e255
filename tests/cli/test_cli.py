"""The installed ``codexctl`` console script: exit codes, messages, files written."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from codex_stacks.kubeschema import NoSchemaError, check_object
from tests.conftest import EXAMPLE, MakeProject

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
    files = sorted(path.name for path in tmp_path.glob("*.yaml"))
    assert files[0] == "01-namespace-and-config.yaml"
    assert "08-codex.yaml" in files
    documents = [doc for path in tmp_path.glob("*.yaml") for doc in yaml.safe_load_all(path.read_text())]
    assert len(documents) == 34  # 28 of the project, 6 NetworkPolicies of the slot
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
        (["preview", "--stack", "prod"], "known environments: ai, ai-repair, ai-staging, cluster, dev"),
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
    assert "34 objects" in ok.stdout
    manifest = example_copy / "deploy" / "configmap.yaml"
    manifest.write_text(manifest.read_text().replace('REDIS_DB: "0"', "REDIS_DB: 0"), encoding="utf-8")
    bad = codexctl("validate", "--stack", "ai-slot-3", "--project-dir", str(example_copy))
    assert bad.returncode == 2
    assert "configmap.yaml" in bad.stderr
    assert "data.REDIS_DB" in bad.stderr


def test_custom_resources_without_schema_are_noted() -> None:
    result = codexctl("validate", "--stack", "cluster")
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
    assert (
        "urn:pulumi:ai-slot-3::codex-stacks::codex:stack:ServiceComponent::codex" in urns
    )  # this repository's project
    assert not any("django-backend" in urn for urn in urns)


def test_repair_preview_says_what_a_repair_run_does_with_the_rest(tmp_path: Path) -> None:
    result = codexctl("preview", "--stack", "ai-slot-3", "--mode", "repair", "--out", str(tmp_path))
    assert result.returncode == 0
    assert "skipped data-services: not in the repair set" in result.stdout
    assert "registers the rest of the stack again from the last normal run's store" in result.stderr
    assert len(list(tmp_path.glob("*.yaml"))) == 3


def test_help_lists_the_commands() -> None:
    result = codexctl("--help")
    assert result.returncode == 0
    for command in ("preview", "validate", "schema", "repair-targets", "prompt", "ci"):
        assert command in result.stdout


# --- validate --kubernetes-version --------------------------------------------------------


def _supported_range() -> str:
    from codex_stacks.kubeschema import supported_versions

    versions = supported_versions()
    return f"{versions[0]} to {versions[-1]}"


@pytest.mark.parametrize(
    ("version", "message"),
    [
        ("1.20", "no schemas for Kubernetes 1.20"),
        ("1.9", "no schemas for Kubernetes 1.9"),
        ("1.99", "no schemas for Kubernetes 1.99"),
        ("foo", "'foo' is not a Kubernetes version"),
    ],
)
def test_validate_rejects_a_kubernetes_version_without_schemas(version: str, message: str) -> None:
    result = codexctl("validate", "--stack", "dev", "--kubernetes-version", version)
    assert result.returncode == 2, result.stdout
    assert message in result.stderr
    assert f"available {_supported_range()}" in result.stderr
    assert "custom resource" not in result.stderr
    assert "ok:" not in result.stdout
    assert "Traceback" not in result.stderr


def test_validate_checks_against_the_version_asked_for(example_copy: Path) -> None:
    for given in ("1.25", "v1.30", "1.30.4"):
        ok = codexctl("validate", "--stack", "ai-slot-3", "--kubernetes-version", given)
        assert ok.returncode == 0, ok.stderr
        assert f"match Kubernetes {given.lstrip('v')[:4]}" in ok.stdout
        assert "(a custom resource)" not in ok.stderr
    manifest = example_copy / "deploy" / "configmap.yaml"
    manifest.write_text(manifest.read_text().replace('REDIS_DB: "0"', "REDIS_DB: 0"), encoding="utf-8")
    bad = codexctl("validate", "--stack", "ai-slot-3", "-p", str(example_copy), "--kubernetes-version", "1.25")
    assert bad.returncode == 2
    assert "data.REDIS_DB" in bad.stderr


def test_a_built_in_kind_without_schema_is_an_error_not_a_custom_resource(make_project: MakeProject) -> None:
    from tests.conftest import MINIMAL, NAMESPACE_MANIFEST

    project = make_project(
        MINIMAL,
        {"ns.yaml": NAMESPACE_MANIFEST + "---\napiVersion: v1\nkind: Servic\nmetadata:\n  name: web\n"},
    )
    result = codexctl("validate", "--stack", "dev", "--project-dir", str(project))
    assert result.returncode == 2
    assert "v1 has no kind 'Servic' in Kubernetes 1.33 (did you mean 'Service'?)" in result.stderr
    assert "custom resource" not in result.stderr
    removed = {"apiVersion": "networking.k8s.io/v1beta1", "kind": "Ingress", "metadata": {"name": "x"}}
    problems = check_object(removed)
    assert [p.message for p in problems] == [
        "networking.k8s.io/v1beta1 Ingress does not exist in Kubernetes 1.33; use networking.k8s.io/v1"
    ]
    lookalike = {"apiVersion": "apps.example.com/v1", "kind": "Deployment", "metadata": {"name": "x"}}
    with pytest.raises(NoSchemaError):
        check_object(lookalike)


# --- preview --out -------------------------------------------------------------------------


def test_preview_refuses_a_folder_with_files_it_did_not_write(tmp_path: Path) -> None:
    mine = tmp_path / "k8s"
    mine.mkdir()
    (mine / "01-namespace.yaml").write_text("kind: Namespace\n", encoding="utf-8")
    (mine / "99-my-app.yaml").write_text("kind: Deployment\n", encoding="utf-8")
    result = codexctl("preview", "--stack", "ai-slot-3", "--out", str(mine))
    assert result.returncode == 2
    assert "is not empty and was not written by codexctl preview" in result.stderr
    assert result.stdout == ""  # refused before the tree
    assert sorted(p.name for p in mine.iterdir()) == ["01-namespace.yaml", "99-my-app.yaml"]


def test_preview_replaces_only_its_own_files(tmp_path: Path) -> None:
    folder = tmp_path / "pv"
    first = codexctl("preview", "--stack", "ai-slot-3", "--out", str(folder))
    assert first.returncode == 0, first.stderr
    assert len(list(folder.glob("*.yaml"))) == 8
    (folder / "99-my-notes.yaml").write_text("mine: true\n", encoding="utf-8")
    again = codexctl("preview", "--stack", "ai-slot-3", "--mode", "repair", "--out", str(folder))
    assert again.returncode == 0, again.stderr
    names = sorted(p.name for p in folder.glob("*.yaml"))
    assert names == ["01-namespace-and-config.yaml", "02-codex-agent.yaml", "03-codex.yaml", "99-my-notes.yaml"]
    assert (folder / "99-my-notes.yaml").read_text(encoding="utf-8") == "mine: true\n"
    same = codexctl("preview", "--stack", "ai-slot-3", "--mode", "repair", "--out", str(folder))
    assert same.returncode == 0, same.stderr
    assert sorted(p.name for p in folder.glob("*.yaml")) == names


@pytest.mark.parametrize("where", ["a-file", "a-file/sub"])
def test_preview_into_an_unusable_folder_fails_before_the_tree(tmp_path: Path, where: str) -> None:
    (tmp_path / "a-file").write_text("x\n", encoding="utf-8")
    result = codexctl("preview", "--stack", "ai-slot-3", "--out", str(tmp_path / where))
    assert result.returncode == 2
    assert result.stderr.startswith("error: --out: ")
    assert len(result.stderr.strip().splitlines()) == 1
    assert result.stdout == ""
    assert "Traceback" not in result.stderr


def test_preview_into_a_read_only_folder_fails_before_the_tree(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import typer

    from codex_stacks.cli.preview import check_out_folder

    folder = tmp_path / "ro"
    folder.mkdir()
    # the permission check, not the file system (root may write anywhere)
    monkeypatch.setattr(os, "access", lambda path, mode: Path(path) != folder)
    for target in (folder, folder / "pv"):
        with pytest.raises(typer.Exit) as stopped:
            check_out_folder(target)
        assert stopped.value.exit_code == 2
        assert "permission denied" in capsys.readouterr().err


def test_preview_replaces_the_files_of_a_default_folder_written_before_the_marker(tmp_path: Path) -> None:
    """preview/<stack> is preview's own: one left by an older codexctl (no marker) is reused."""
    first = codexctl("preview", "--stack", "ai-slot-3", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    folder = tmp_path / "preview" / "ai-slot-3"
    (folder / ".codexctl-preview").unlink()
    again = codexctl("preview", "--stack", "ai-slot-3", "--mode", "repair", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    names = sorted(p.name for p in folder.glob("*.yaml"))
    assert names == ["01-namespace-and-config.yaml", "02-codex-agent.yaml", "03-codex.yaml"]


@pytest.mark.parametrize(
    ("where", "message"),
    [("missing/dir/s.json", "does not exist"), (".", "is a folder")],
)
def test_schema_out_errors_are_one_line(tmp_path: Path, where: str, message: str) -> None:
    result = codexctl("schema", "-o", str(tmp_path / where))
    assert result.returncode == 2
    assert result.stderr.startswith("error: --out: ")
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    written = codexctl("schema", "-o", str(tmp_path / "s.json"))
    assert written.returncode == 0
    assert json.loads((tmp_path / "s.json").read_text())["title"] == "ServicesFile"


# --- the stack's own config ------------------------------------------------------------------


def test_preview_reads_the_mode_from_the_stack_file(tmp_path: Path) -> None:
    result = codexctl("preview", "--stack", "ai-repair", "--out", str(tmp_path / "pv"))
    assert result.returncode == 0, result.stderr
    assert "mode repair" in result.stdout
    assert "registers the rest of the stack again from the last normal run's store" in result.stderr
    ok = codexctl("validate", "--stack", "ai-repair")
    assert ok.returncode == 0, ok.stderr
    targets = codexctl("repair-targets", "--stack", "ai-repair")
    assert targets.returncode == 0, targets.stderr


def test_mode_option_overrides_the_stack_file_and_the_hint_names_both_ways(tmp_path: Path) -> None:
    result = codexctl("preview", "--stack", "ai-repair", "--mode", "normal", "--out", str(tmp_path / "pv"))
    assert result.returncode == 2
    assert "runs only in repair mode, not normal" in result.stderr
    assert "codex:mode: repair in the stack config (stacks/Pulumi.ai-repair.yaml)" in result.stderr
    assert "--mode repair" in result.stderr


def test_help_has_no_spec_references_or_markup() -> None:
    commands = ("preview", "validate", "repair-targets", "prompt render", "prompt run", "ci up", "ci prompt")
    for command in commands:
        result = codexctl(*command.split(), "--help")
        assert result.returncode == 0
        assert "SPEC" not in result.stdout
        assert "``" not in result.stdout


def test_a_misspelt_secret_field_is_masked_too(make_project: MakeProject, tmp_path: Path) -> None:
    from tests.conftest import MINIMAL, NAMESPACE_MANIFEST

    secret = (
        "---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: keys\n  namespace: {{ namespace }}\n"
        "type: Opaque\nstringDta:\n  Y: {{ env_or('SECRET_KEY') }}\n"
    )
    services = MINIMAL.replace("project: demo\n", "project: demo\nenvVars:\n  SECRET_KEY: {}\n")
    project = make_project(services, {"ns.yaml": NAMESPACE_MANIFEST + secret})
    env = {**os.environ, "SECRET_KEY": "canary-S3CR3T"}
    args = [str(CODEXCTL), "preview", "--stack", "dev", "--project-dir", str(project)]

    def run(*extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*args, *extra], capture_output=True, text=True, env=env, timeout=120, check=False)

    masked = run("--out", str(tmp_path / "masked"))
    assert masked.returncode == 0, masked.stderr
    written = "".join(p.read_text() for p in (tmp_path / "masked").glob("*.yaml"))
    assert "canary-S3CR3T" not in written + masked.stdout + masked.stderr
    doc = next(d for d in yaml.safe_load_all(written) if d and d["kind"] == "Secret")
    assert doc["stringDta"] == {"Y": "[secret]"}
    assert (doc["type"], doc["metadata"]["name"]) == ("Opaque", "keys")
    shown = run("--out", str(tmp_path / "shown"), "--show-secrets")
    assert shown.returncode == 0
    assert "canary-S3CR3T" in "".join(p.read_text() for p in (tmp_path / "shown").glob("*.yaml"))


def test_schema_errors_point_at_the_line_of_the_field(make_project: MakeProject) -> None:
    from tests.conftest import MINIMAL, NAMESPACE_MANIFEST

    deployment = """\
---
# the web server
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: {{ namespace }}
spec:
  replicas: "two"
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: web
          image: nginx
          portz: []
"""
    project = make_project(MINIMAL, {"ns.yaml": NAMESPACE_MANIFEST + deployment})
    result = codexctl("validate", "--stack", "dev", "--project-dir", str(project))
    assert result.returncode == 2
    manifest = project / "ns.yaml"
    assert f"{manifest}:13: Deployment/demo-dev/web: spec.replicas: must be of type integer" in result.stderr
    assert f"{manifest}:23: Deployment/demo-dev/web: spec.template.spec.containers.0: unknown field 'portz'" in (
        result.stderr
    )
