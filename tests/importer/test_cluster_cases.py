"""The cases of the cluster move that cannot be carried over as they were, on small upstream
projects written here: what the import does with them, and that it says so."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml

from codex_stacks.importer import cluster
from codex_stacks.importer.migrate import import_project, write
from codex_stacks.importer.report import Report
from tests.importer.stacks import codexctl, rendered

SERVICES = """\
project: p
namespace:
  patterns:
    dev: "{{ .Project }}-dev"
    staging: "{{ .Project }}-staging"
maxSlots: 4
environments:
  dev: {}
  staging: {}
  ai:
    from: staging
infrastructure:
  - name: base
    manifests:
      - path: base.yaml
  - name: access
    when: '{{ ne .Env "staging" }}'
    manifests:
      - path: access.yaml
services:
  - name: dns-tweak
    manifests:
      - path: dns.yaml
"""
FILES = {
    "base.yaml": """\
        apiVersion: v1
        kind: Namespace
        metadata:
          name: {{ .Namespace }}
        ---
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: p-zone
          namespace: kube-system
        data:
          env: {{ .Env }}
        ---
        apiVersion: rbac.authorization.k8s.io/v1
        kind: {{ if eq .Env "dev" }}ClusterRole{{ else }}Role{{ end }}
        metadata:
          name: p-reader
        rules: []
        """,
    "access.yaml": """\
        apiVersion: rbac.authorization.k8s.io/v1
        kind: ClusterRoleBinding
        metadata:
          name: p-access
        subjects:
          - kind: ServiceAccount
            name: default
            namespace: {{ .Namespace }}
        roleRef:
          apiGroup: rbac.authorization.k8s.io
          kind: ClusterRole
          name: view
        """,
    "dns.yaml": """\
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: p-dns
          namespace: kube-system
        data:
          zone: p.test
        """,
}


def _import(tmp_path: Path, services: str, files: dict[str, str]) -> tuple[Path, Report]:
    source = tmp_path / "upstream"
    source.mkdir()
    (source / "services.yaml").write_text(services, encoding="utf-8")
    for name, text in files.items():
        (source / name).write_text(textwrap.dedent(text), encoding="utf-8")
    out = tmp_path / "imported"
    report, written = import_project(source, out)
    write(out, written)
    return out, report


@pytest.fixture(scope="module")
def cases(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Report]:
    return _import(tmp_path_factory.mktemp("cases"), SERVICES, FILES)


def _manual(report: Report, text: str) -> list[tuple[str, int | None]]:
    return [(entry.file, entry.line) for entry in report.manual_steps if text in entry.message]


@pytest.mark.parametrize("stack", ["dev", "staging", "ai-slot-1", "ai-slot-4", "cluster"])
def test_every_stack_still_validates(cases: tuple[Path, Report], stack: str) -> None:
    out, _ = cases
    done = codexctl("validate", "--stack", stack, "--project-dir", str(out))
    assert done.returncode == 0, done.stderr


def test_an_object_that_reads_the_slot_leaves_the_slots_and_says_so(cases: tuple[Path, Report]) -> None:
    out, report = cases
    assert ("ClusterRoleBinding", "", "p-access") not in rendered(out, "ai-slot-1")
    assert _manual(report, "differs from slot to slot") == [("access.yaml", 1)]
    # dev's binding (to dev's account) is owned by the cluster stack, bound to dev's namespace
    binding = rendered(out, "cluster")[("ClusterRoleBinding", "", "p-access")]
    assert binding["subjects"][0]["namespace"] == "p-dev"


def test_one_object_that_differs_between_environments_is_owned_once_and_said(cases: tuple[Path, Report]) -> None:
    out, report = cases
    assert rendered(out, "cluster")[("ConfigMap", "kube-system", "p-zone")]["data"] == {"env": "dev"}
    [(where, message)] = [((e.file, e.line), e.message) for e in report.manual_steps if "p-zone" in e.message]
    assert where == ("base.yaml", 6)
    assert "differs between environments" in message
    assert "rendered it in dev, not the versions of staging, ai" in message


def test_a_document_inside_in_one_environment_and_outside_in_another_is_split_by_environment(
    cases: tuple[Path, Report],
) -> None:
    out, report = cases
    assert ("Role", "p-staging", "p-reader") in rendered(out, "staging")
    assert ("Role", "p-dev", "p-reader") not in rendered(out, "dev")
    assert ("ClusterRole", "", "p-reader") in rendered(out, "cluster")
    assert [(e.file, e.line) for e in report.changes if "kept only in environments staging, ai" in e.message] == [
        ("base.yaml", 14)
    ]


def test_a_service_with_nothing_inside_becomes_a_cluster_group(cases: tuple[Path, Report]) -> None:
    out, report = cases
    services = yaml.safe_load((out / "services.yaml").read_text(encoding="utf-8"))
    assert "services" not in services
    [group] = [group for group in services["infrastructure"] if group["name"] == "dns-tweak"]
    assert group["when"] == '{{ env == "cluster" }}'
    assert group["namespaces"] == ["kube-system"]
    assert ("ConfigMap", "kube-system", "p-dns") in rendered(out, "cluster")
    assert any(e.key == "services.dns-tweak" and "infrastructure group" in e.message for e in report.changes)


def test_a_document_with_both_kinds_of_objects_is_left_to_a_person(tmp_path: Path) -> None:
    services = SERVICES.split("  - name: access")[0] + "baseDomain: {dev: dev.p.test, staging: st.p.test}\n"
    files = {
        "base.yaml": """\
            apiVersion: v1
            kind: Namespace
            metadata:
              name: {{ .Namespace }}
            {{- range $env, $domain := .BaseDomain }}
            ---
            apiVersion: v1
            kind: ConfigMap
            metadata:
              name: domain-{{ $env }}
              namespace: {{ if eq $env "dev" }}kube-system{{ else }}{{ $.Namespace }}{{ end }}
            data:
              domain: "{{ $domain }}"
            {{- end }}
            """
    }
    out, report = _import(tmp_path, services, files)
    assert _manual(report, "Split it by hand") == [("base.yaml", 1)]  # the document the range is part of
    done = codexctl("validate", "--stack", "dev", "--project-dir", str(out))
    assert done.returncode == 2
    assert "kube-system" in done.stderr  # what the manual step warned of, as the plan's own error


def test_a_file_that_does_not_render_is_sorted_by_its_text(tmp_path: Path) -> None:
    services = SERVICES.split("  - name: access")[0]
    files = {
        "base.yaml": """\
            apiVersion: v1
            kind: ConfigMap
            metadata:
              name: settings
              namespace: {{ .Namespace }}
            data: {a: b}
            ---
            apiVersion: rbac.authorization.k8s.io/v1
            kind: ClusterRole
            metadata:
              name: p-broken
            rules: [
            """
    }
    out, report = _import(tmp_path, services, files)
    assert _manual(report, "by its text") == [("base.yaml", 8)]
    services_out: dict[str, Any] = yaml.safe_load((out / "services.yaml").read_text(encoding="utf-8"))
    groups = {group["name"]: group for group in services_out["infrastructure"]}
    assert groups["base-cluster"]["manifests"] == [{"path": "base.cluster.yaml"}]
    assert "p-broken" in (out / "base.cluster.yaml").read_text(encoding="utf-8")
    assert "p-broken" not in (out / "base.yaml").read_text(encoding="utf-8")


def test_a_secret_that_names_a_moved_object_never_reaches_the_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ROLE_TOKEN", "canary-4f1d9")
    services = SERVICES.split("  - name: access")[0]
    files = {
        "base.yaml": """\
            apiVersion: rbac.authorization.k8s.io/v1
            kind: ClusterRole
            metadata:
              name: role-{{ envOr "ROLE_TOKEN" "none" }}
            rules: []
            """
    }
    _, report = _import(tmp_path, services, files)
    moved = [entry.message for entry in report.changes if " moved to " in entry.message]
    assert moved
    assert moved[0].startswith("ClusterRole [secret] (upstream rendered it in")
    assert "canary-4f1d9" not in str(report.as_json())


def test_past_the_render_limit_objects_are_sorted_by_their_text(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cluster, "MAX_RENDERS", 2)  # 4 stacks x 3 files here
    out, report = _import(tmp_path, SERVICES, FILES)
    assert ("services.yaml", None) in _manual(report, "sorted by their text alone")
    assert "p-dns" in (out / "dns.yaml").read_text(encoding="utf-8")  # its literal namespace says kube-system
    services = yaml.safe_load((out / "services.yaml").read_text(encoding="utf-8"))
    assert {group["name"]: group["when"] for group in services["infrastructure"]}["dns-tweak"] == (
        '{{ env == "cluster" }}'
    )
