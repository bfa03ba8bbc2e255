"""`codexctl import` of a project whose groups and services also write objects outside the stack's
namespace (tests/importer/fixtures/platform): only the stack of the cluster environment the
import adds may own those (docs/security.md, "The cluster stack"), once, as upstream rendered them.

The expectations come from upstream's own engine: Go renders the upstream manifests of each
environment (tests/importer/go/render.go), and the objects that land outside that environment's
namespace there are what the cluster stack must hold, field for field."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.importer import goharness
from tests.importer.stacks import codexctl, previewed, rendered

FIXTURE = Path(__file__).parent / "fixtures" / "platform"
STACKS = ("dev", "staging", "ai-slot-1", "ai-slot-2", "cluster")
UPSTREAM = {
    # stack: (environment, slot, namespace, the manifests upstream applied there: its items' when:)
    "dev": ("dev", 0, "platform-dev", ["deploy/base.yaml", "deploy/monitoring.yaml", "deploy/access.yaml"]),
    "staging": (
        "staging",
        0,
        "platform-staging",
        ["deploy/base.yaml", "deploy/issuer.yaml", "deploy/monitoring.yaml", "deploy/access.yaml"],
    ),
    "ai-slot-1": ("ai", 1, "platform-dev-1", ["deploy/base.yaml", "deploy/issuer.yaml", "deploy/monitoring.yaml"]),
    "ai-slot-2": ("ai", 2, "platform-dev-2", ["deploy/base.yaml", "deploy/issuer.yaml", "deploy/monitoring.yaml"]),
}
SERVICES = {"dev": ["services/api/deploy.yaml"], "staging": ["services/api/deploy.yaml"]}
SERVICES["ai-slot-1"] = SERVICES["ai-slot-2"] = ["services/api/deploy.yaml", "deploy/codex.yaml"]
CLUSTER_SCOPED = {"Namespace", "ClusterRole", "ClusterRoleBinding", "ClusterIssuer", "StorageClass", "PriorityClass"}
"""The kinds of the fixture that have no namespace (Kubernetes API reference; cert-manager's docs)."""
MANAGED_BY = ("app.kubernetes.io/managed-by", "codex-stacks")
Key = tuple[str, str, str]


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    out = tmp_path_factory.mktemp("imported") / "platform"
    done = codexctl("import", str(FIXTURE), "--out", str(out), "--output", "json", env={"ISSUER_EMAIL": ""})
    assert done.returncode == 0, done.stderr
    return out, json.loads(done.stdout)


def _key(manifest: dict[str, Any]) -> Key:
    return manifest["kind"], manifest["metadata"].get("namespace", ""), manifest["metadata"]["name"]


@pytest.fixture(scope="module")
def upstream(go_renderer: Path) -> dict[str, tuple[str, dict[Key, Any]]]:
    """Per stack: its namespace and every object upstream's render of that environment held."""
    found = {}
    for stack, (env, slot, namespace, groups) in UPSTREAM.items():
        context = {
            "env": env,
            "namespace": namespace,
            "project": "platform",
            "projectRoot": "/srv/platform",
            "slot": slot,
            "now": "2024-03-05T17:08:09.000000000Z",
            "userVars": {},
            "envMap": {},
            "versions": {},
            "baseDomain": {},
        }
        paths = [*groups, *SERVICES[stack]]
        outputs = goharness.render(go_renderer, context, {path: (FIXTURE / path).read_text() for path in paths})
        objects = {}
        for path in paths:
            assert not outputs[path].get("error"), outputs[path]
            for document in yaml.safe_load_all(outputs[path]["output"]):
                if not document:
                    continue
                if document["kind"] in CLUSTER_SCOPED:
                    document["metadata"].pop("namespace", None)
                else:
                    document["metadata"].setdefault("namespace", namespace)
                objects[_key(document)] = document
        found[stack] = (namespace, objects)
    return found


def _outside(namespace: str, objects: dict[Key, Any]) -> dict[Key, Any]:
    return {
        key: obj
        for key, obj in objects.items()
        if key[1] != namespace and not (key[0] == "Namespace" and key[2] == namespace)
    }


def _own(objects: dict[Key, Any]) -> dict[Key, Any]:
    """Without what codex stacks adds itself (the containment policy, slot claims, codex-system)."""
    return {
        key: obj
        for key, obj in objects.items()
        if MANAGED_BY not in (obj["metadata"].get("labels") or {}).items() and key[2] != "codex-system"
    }


@pytest.mark.parametrize("stack", STACKS)
def test_every_stack_of_the_import_validates(imported: tuple[Path, dict[str, Any]], stack: str) -> None:
    out, _ = imported
    done = codexctl("validate", "--stack", stack, "--project-dir", str(out))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("ok:")


@pytest.mark.parametrize("stack", STACKS)
def test_render_equals_preview(imported: tuple[Path, dict[str, Any]], stack: str) -> None:
    out, _ = imported
    registered = previewed(out, stack)
    if stack == "cluster":  # its namespace is made by the program, not by a manifest; render prints manifests
        assert registered.pop(("Namespace", "", "codex-system"))["metadata"]["labels"]
    assert rendered(out, stack) == registered


@pytest.mark.parametrize("stack", sorted(UPSTREAM))
def test_a_stack_keeps_its_own_objects_and_nothing_outside(
    imported: tuple[Path, dict[str, Any]], upstream: dict[str, tuple[str, dict[Key, Any]]], stack: str
) -> None:
    out, _ = imported
    namespace, objects = upstream[stack]
    ours = rendered(out, stack)
    assert _outside(namespace, ours) == {}
    inside = {key for key in objects if key not in _outside(namespace, objects)}
    assert inside <= set(ours)


def test_the_cluster_stack_holds_every_outside_object_once_as_upstream_rendered_it(
    imported: tuple[Path, dict[str, Any]], upstream: dict[str, tuple[str, dict[Key, Any]]]
) -> None:
    out, _ = imported
    cluster = _own(rendered(out, "cluster"))
    expected: dict[Key, Any] = {}
    for namespace, objects in upstream.values():
        for key, obj in _outside(namespace, objects).items():
            assert expected.setdefault(key, obj) == obj, f"{key} differs between environments upstream"
    assert cluster == expected
    # bound to its environment where the template reads it: each binding names its own account
    assert cluster[("ClusterRoleBinding", "", "platform-monitor-staging")]["subjects"][0]["namespace"] == (
        "platform-staging"
    )


def test_every_move_is_reported_at_its_file_and_line(imported: tuple[Path, dict[str, Any]]) -> None:
    _, report = imported
    moves = {
        (entry["file"], entry["line"], entry["message"].split(" (upstream")[0])
        for entry in report["changes"]
        if " moved to " in entry["message"]
    }
    assert moves == {
        ("deploy/base.yaml", 5, "ConfigMap kube-system/coredns-custom"),
        ("deploy/issuer.yaml", 1, "ClusterIssuer platform-letsencrypt"),
        ("deploy/monitoring.yaml", 8, "ClusterRole platform-monitor"),
        ("deploy/monitoring.yaml", 18, "StorageClass platform-monitor-fast"),
        ("deploy/access.yaml", 1, "ClusterRoleBinding platform-monitor-dev"),
        ("deploy/access.yaml", 1, "ClusterRoleBinding platform-monitor-staging"),
        ("services/api/deploy.yaml", 1, "PriorityClass platform-api"),
    }
    manual = [entry["message"] for entry in report["manual"]]
    assert any("pulumi up -s cluster" in message and "first" in message for message in manual)
    assert any(entry["key"] == "maxSlots" for entry in report["manual"])  # 0 (no limit) upstream: written as a limit
    keys = {entry["key"] for entry in report["changes"]}
    assert {"environments.cluster", "infrastructure.base.when", "hooks.beforeAll[0].when"} <= keys


def test_the_written_project(imported: tuple[Path, dict[str, Any]]) -> None:
    out, _ = imported
    services = yaml.safe_load((out / "services.yaml").read_text(encoding="utf-8"))
    assert services["environments"]["cluster"] == {"scope": "cluster"}
    groups = {group["name"]: group for group in services["infrastructure"]}
    assert groups["base"]["when"] == '{{ env != "cluster" }}'
    assert groups["base-cluster"] == {
        "name": "base-cluster",
        "when": '{{ env == "cluster" }}',
        "manifests": [{"path": "deploy/base.cluster.yaml"}],
        "namespaces": ["kube-system"],
    }
    assert groups["issuer"]["when"] == '{{ env == "cluster" }}'  # nothing of it is left for the other stacks
    assert groups["api-cluster"]["manifests"] == [{"path": "services/api/deploy.cluster.yaml"}]
    assert [service["name"] for service in services["services"]] == ["api", "codex"]  # services stay services
    announce, staging_only = services["hooks"]["beforeAll"]
    assert announce["when"] == '{{ env != "cluster" }}'
    assert "cluster" not in staging_only["when"]  # it never runs there anyway
    assert services["maxSlots"] > 0
    assert "kube-system" not in (out / "deploy/base.yaml").read_text(encoding="utf-8")
    assert "kube-system" in (out / "deploy/base.cluster.yaml").read_text(encoding="utf-8")
    assert "PriorityClass" not in (out / "services/api/deploy.yaml").read_text(encoding="utf-8")


def test_a_project_with_nothing_outside_gets_no_cluster_environment(tmp_path: Path) -> None:
    done = codexctl(
        "import", str(Path(__file__).parent / "fixtures" / "shop"), "--out", str(tmp_path / "shop"), "--output", "json"
    )
    assert done.returncode == 0, done.stderr
    services = yaml.safe_load((tmp_path / "shop" / "services.yaml").read_text(encoding="utf-8"))
    assert "cluster" not in services["environments"]
    assert not any("pulumi up -s cluster" in entry["message"] for entry in json.loads(done.stdout)["manual"])
