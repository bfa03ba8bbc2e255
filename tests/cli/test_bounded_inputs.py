"""The limits refuse hostile input (tests/bad_inputs) without refusing real projects: deep but
bounded YAML, links inside the project, declared namespaces and a raised limit all go through."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import MakeProject

CODEXCTL = Path(sys.executable).parent / "codexctl"
SERVICES = """\
project: demo
environments: {dev: {}}
infrastructure:
  - name: base
    manifests:
      - path: ns.yaml
      - path: extra.yaml
"""
NAMESPACE = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: '{{ namespace }}'\n"


def codexctl(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CODEXCTL), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, **(env or {})},
    )


def _ok(project: Path, tmp_path: Path, env: dict[str, str] | None = None, stack: str = "dev") -> None:
    for args in (["validate"], ["preview", "--out", str(tmp_path / "out")]):
        result = codexctl(*args, "--stack", stack, "--project-dir", str(project), env=env)
        assert result.returncode == 0, result.stderr
        assert "error" not in result.stderr


def test_nesting_up_to_the_limit_goes_through_preview_and_validate(make_project: MakeProject, tmp_path: Path) -> None:
    """100 levels (the default limit): deep enough for any CRD, and the Pulumi SDK's serializer and
    the schema validator (both recursive) still take it."""
    levels = 98  # the document, spec, then 98 more
    body = "".join("  " * (level + 1) + f"k{level}:\n" for level in range(levels)) + "  " * (levels + 1) + "x\n"
    widget = "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: deep\nspec:\n" + body
    _ok(make_project(SERVICES, {"ns.yaml": NAMESPACE, "extra.yaml": widget}), tmp_path)


def test_links_inside_the_project_are_followed(make_project: MakeProject, tmp_path: Path) -> None:
    project = make_project(SERVICES, {"ns.yaml": NAMESPACE, "shared/extra.yaml": "kind: List\napiVersion: v1\n"})
    (project / "shared" / "extra.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n", encoding="utf-8"
    )
    (project / "extra.yaml").symlink_to("shared/extra.yaml")
    (project / "real-services.yaml").write_text(SERVICES, encoding="utf-8")
    (project / "services.yaml").unlink()
    (project / "services.yaml").symlink_to("real-services.yaml")
    _ok(project, tmp_path)


def test_an_item_may_use_the_namespaces_it_declares(make_project: MakeProject, tmp_path: Path) -> None:
    # only the cluster stack may own objects of other namespaces (docs/security.md)
    services = SERVICES.replace("{dev: {}}", "{dev: {}, cluster: {scope: cluster}}") + "    namespaces: [kube-system]\n"
    dns = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: coredns\n  namespace: kube-system\n"
    project = make_project(services, {"ns.yaml": NAMESPACE, "extra.yaml": dns})
    _ok(project, tmp_path, stack="cluster")
    written = (tmp_path / "out" / "01-base.yaml").read_text(encoding="utf-8")
    assert "namespace: kube-system" in written


def test_the_operator_can_raise_a_limit(make_project: MakeProject, tmp_path: Path) -> None:
    big = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: big\n" + "#" * (9 << 20) + "\n"
    project = make_project(SERVICES, {"ns.yaml": NAMESPACE, "extra.yaml": big})
    refused = codexctl("validate", "--stack", "dev", "--project-dir", str(project))
    assert refused.returncode == 2
    assert "extra.yaml: infrastructure[0].manifests[1].path: the file is larger than 8 MiB" in refused.stderr
    assert "CODEX_MAX_FILE_BYTES" in refused.stderr
    _ok(project, tmp_path, env={"CODEX_MAX_FILE_BYTES": "16M", "CODEX_TEMPLATE_MAX_OUTPUT": "20000000"})
