"""`codexctl import` on an upstream project written for these tests (tests/importer/fixtures/shop):
what it writes, what it reports, and that the result is a valid project of this dialect whose
render and preview agree."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.importer.stacks import codexctl, previewed, rendered

FIXTURE = Path(__file__).parent / "fixtures" / "shop"
STACKS = ("dev", "staging", "ai-slot-2")


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    out = tmp_path_factory.mktemp("imported") / "shop"
    done = codexctl("import", str(FIXTURE), "--out", str(out), "--output", "json")
    assert done.returncode == 0, done.stderr
    return out, json.loads(done.stdout)


def entries(report: dict[str, Any], kind: str, text: str) -> list[dict[str, Any]]:
    return [entry for entry in report[kind] if text in entry["message"]]


def test_every_manual_step_is_listed_with_its_file_and_line(imported: tuple[Path, dict[str, Any]]) -> None:
    _, report = imported
    assert [(e["file"], e["line"]) for e in entries(report, "manual", "envFiles")] == [("services.yaml", 5)]
    assert [(e["file"], e["line"]) for e in entries(report, "manual", "kubeconfig")] == [("services.yaml", 22)]
    [script] = entries(report, "manual", "around script text")
    assert (script["file"], script["line"], script["key"]) == ("services.yaml", 37, "hooks.beforeAll[1].run")
    assert '{{ if eq .Env "ai" }}echo slot{{ end }}' in script["message"]  # never dropped: quoted in the report
    [html] = entries(report, "manual", "'html'")
    assert (html["file"], html["line"]) == ("services/api/deploy.yaml", 26)
    assert entries(report, "manual", "CODEXCTL_NOW")


def test_every_change_is_listed(imported: tuple[Path, dict[str, Any]]) -> None:
    _, report = imported
    for text in (
        "$codeRoot",
        "slotBootstrapInfra dropped",
        "imagePullPolicy 'IfNotPresent' dropped",
        "context → kubeContext",
        "'Cache_Store' is not a DNS name",
        "Secret openai-secret",
        "ServiceAccount codex-sa",
        "worker: image dropped",
        "dropKinds 'ingress' written as 'Ingress'",
    ):
        assert entries(report, "changes", text), text


def test_the_text_report_says_the_same(tmp_path: Path) -> None:
    done = codexctl("import", str(FIXTURE), "--out", str(tmp_path / "out"))
    assert done.returncode == 0
    assert "Manual steps (5):" in done.stdout
    assert "services/api/deploy.yaml:26" in done.stdout


def test_the_written_project(imported: tuple[Path, dict[str, Any]]) -> None:
    out, _ = imported
    services = yaml.safe_load((out / "services.yaml").read_text(encoding="utf-8"))
    assert services["vars"]["code_root"].startswith("{{")
    assert set(services["envVars"]) >= {"REGISTRY_HOST", "CODE_ROOT_BASE", "GIT_SHA", "WORKSPACE_GID", "DB_PASSWORD"}
    assert services["envVars"]["DB_PASSWORD"] == {"secret": True}
    assert "OPENAI_API_KEY" not in services["envVars"]  # the agent's credential: read by the hook, never a template
    [announce] = services["hooks"]["beforeAll"]
    assert announce["run"] == (
        "echo 'deploying '\"${CODEX_PROJECT}\"' to '\"${CODEX_NAMESPACE}\"''\n"
        'echo "slot ${SLOT} at ${CODE_ROOT}/${SLOT}"\n'
    )
    assert announce["env"] == {"SLOT": "{{ (slot | string) }}", "CODE_ROOT": "{{ code_root }}"}
    base = services["infrastructure"][0]
    assert base["hooks"]["afterApply"] == [{"name": "ensure-codex-secrets", "use": "codex.ensure-codex-secrets"}]
    for path in ("deploy/base.yaml", "deploy/cache.yaml", "deploy/codex.yaml", "services/api/deploy.yaml"):
        assert "{{ ." not in (out / path).read_text(encoding="utf-8"), path


@pytest.mark.parametrize("stack", STACKS)
def test_the_import_validates(imported: tuple[Path, dict[str, Any]], stack: str) -> None:
    out, _ = imported
    done = codexctl("validate", "--stack", stack, "--project-dir", str(out))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("ok:")


@pytest.mark.parametrize("stack", STACKS)
def test_render_equals_preview(imported: tuple[Path, dict[str, Any]], stack: str) -> None:
    out, _ = imported
    assert rendered(out, stack) == previewed(out, stack)


def test_the_imported_slot_deploys_what_upstream_did(imported: tuple[Path, dict[str, Any]]) -> None:
    out, _ = imported
    objects = {(kind, name): obj for (kind, _, name), obj in rendered(out, "ai-slot-2").items()}
    api = objects[("Deployment", "api")]["spec"]["template"]["spec"]
    assert api["containers"][0]["image"] == "localhost:32000/shop/api:staging-1.4.0"
    assert api["securityContext"] == {"fsGroup": 1000}  # YAML typed it upstream: a number
    assert api["volumes"] == [
        {"name": "src", "hostPath": {"path": f"{out.resolve()}/slots/2/src/api", "type": "Directory"}}
    ]
    assert objects[("StatefulSet", "worker")]["spec"]["template"]["spec"]["containers"][0]["image"] == (
        "registry.test/shop/worker:0.9"  # upstream set images on a Deployment only
    )
    assert ("Ingress", "api") not in objects
    assert ("Secret", "openai-secret") not in objects
    assert ("ConfigMap", "cache") in objects  # upstream: a missing codex:vars key printed "<no value>", a true when
    assert objects[("Namespace", "shop-dev-2")]


def test_out_must_be_new_or_empty(tmp_path: Path) -> None:
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "file").write_text("x", encoding="utf-8")
    done = codexctl("import", str(FIXTURE), "--out", str(tmp_path / "taken"))
    assert done.returncode == 2
    assert "not an empty folder" in done.stderr
    assert "Traceback" not in done.stderr


def test_in_place(tmp_path: Path) -> None:
    project = tmp_path / "shop"
    shutil.copytree(FIXTURE, project)
    done = codexctl("import", str(project), "--out", str(project))
    assert done.returncode == 0, done.stderr
    assert "envVars:" in (project / "services.yaml").read_text(encoding="utf-8")
    assert "{{ host }}" in (project / "services/api/deploy.yaml").read_text(encoding="utf-8")


def test_a_source_that_is_not_yaml_is_one_located_line(tmp_path: Path) -> None:
    (tmp_path / "services.yaml").write_text("project: x\nservices: [\n", encoding="utf-8")
    done = codexctl("import", str(tmp_path), "--out", str(tmp_path / "out"))
    assert done.returncode == 2
    assert "services.yaml:" in done.stderr
    assert "Traceback" not in done.stderr
