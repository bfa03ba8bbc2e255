"""Acceptance by upstream's own output: both reference projects, imported by `codexctl import`,
previewed (the real program under the SDK's mocks) for every stack upstream rendered, object by
object against upstream codexctl's renders (the goldens), except golden_differences.yaml.

Upstream wrote objects outside the namespace (``kube-system/coredns``, a ClusterIssuer) from every
environment; here the cluster stack owns each of them once (docs/security.md, "The cluster
stack"). So an environment's render is compared with the union of its stack and of the cluster
stack's objects that upstream rendered in that environment; and the cluster stack may hold
nothing upstream never rendered, except what golden_differences.yaml lists for ``stack: cluster``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from codex_stacks.cli.preview import reveal
from codex_stacks.importer.migrate import import_project, write
from codex_stacks.offline.runner import run_program
from tests.importer.reference import require_reference, template_env

STACKS = {
    ("project-example", "codexctl-3486d17"): ["ai-slot-3", "dev", "staging"],
    ("project-example-20e555d", "codexctl-750b8b8"): ["ai-slot-3", "dev", "ai-staging", "ai-repair"],
}
CASES = [(project, golden, stack) for (project, golden), stacks in STACKS.items() for stack in stacks]
CLUSTER = "cluster"
"""The stack of the environment the import adds for the objects outside the namespace."""
DIFFERENCES = yaml.safe_load((Path(__file__).parent / "golden_differences.yaml").read_text(encoding="utf-8"))
Key = tuple[str, str, str]


@dataclass(frozen=True)
class Difference:
    kind: str
    namespace: str
    name: str
    field: str


def _key(manifest: dict[str, Any]) -> Key:
    metadata = manifest.get("metadata") or {}
    return str(manifest["kind"]), str(metadata.get("namespace") or ""), str(metadata["name"])


def _without_pulumi_directives(manifest: dict[str, Any]) -> dict[str, Any]:
    metadata = dict(manifest.get("metadata") or {})
    annotations = {k: v for k, v in (metadata.get("annotations") or {}).items() if not k.startswith("pulumi.com/")}
    if annotations:
        metadata["annotations"] = annotations
    else:
        metadata.pop("annotations", None)
    return {**manifest, "metadata": metadata}


def _fields(golden: Any, ours: Any, path: str = "") -> Iterator[str]:
    if isinstance(golden, dict) and isinstance(ours, dict):
        for key in sorted(set(golden) | set(ours)):
            child = f"{path}.{key}" if path else str(key)
            if key not in golden or key not in ours:
                yield child
            else:
                yield from _fields(golden[key], ours[key], child)
    elif isinstance(golden, list) and isinstance(ours, list) and len(golden) == len(ours):
        for index, (left, right) in enumerate(zip(golden, ours, strict=True)):
            yield from _fields(left, right, f"{path}[{index}]")
    elif golden != ours:
        yield path


def differences(golden: dict[Key, Any], ours: dict[Key, Any]) -> set[Difference]:
    found = {Difference(*key, "") for key in set(golden) ^ set(ours)}
    for key in set(golden) & set(ours):
        found |= {Difference(*key, field) for field in _fields(golden[key], ours[key])}
    return found


def _allowed(entry: dict[str, Any], difference: Difference, project: str, namespace: str, stack: str) -> bool:
    if project not in entry.get("projects", [project]):
        return False
    if (entry.get("stack") == CLUSTER) != (stack == CLUSTER):
        return False
    expected_namespace = namespace if entry["namespace"] == "<stack>" else entry["namespace"]
    expected_name = namespace if entry["name"] == "<stack>" else entry["name"]
    pattern = re.escape(entry["field"]).replace(r"\[\*\]", r"\[\d+\]")
    return (entry["kind"], expected_namespace, expected_name) == (
        difference.kind,
        difference.namespace,
        difference.name,
    ) and re.fullmatch(pattern, difference.field) is not None


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    reference = require_reference()
    folders = {}
    for project, _ in STACKS:
        out = tmp_path_factory.mktemp(project)
        _, files = import_project(reference / project, out)
        write(out, files)
        folders[project] = out
    return folders


def preview_objects(project_dir: Path, stack: str) -> tuple[dict[Key, Any], str]:
    run = run_program(stack, {"codex:projectDir": str(project_dir), "codex:mode": "normal"})
    root = str(project_dir.resolve())
    objects = {}
    for registration in run.registrations:
        if registration.type.startswith("kubernetes:") and registration.custom:
            plain = json.loads(json.dumps(reveal(dict(registration.inputs), show_secrets=True)).replace(root, "<ROOT>"))
            objects[_key(plain)] = _without_pulumi_directives(plain)
    return objects, str(run.outputs["namespace"])


def golden_objects(reference: Path, golden: str, stack: str) -> dict[Key, Any]:
    text = (reference / "golden" / golden / f"{stack}.yaml").read_text(encoding="utf-8")
    return {_key(document): document for document in yaml.safe_load_all(text) if document}


Results = dict[tuple[str, str], tuple[set[Difference], str]]


@pytest.fixture(scope="module")
def results(imported: dict[str, Path]) -> Results:
    """Per (project, stack): the differences from upstream's render of that environment (the stack
    with the cluster stack's share of it), and the stack's namespace; per (project, "cluster"): the
    cluster stack's objects that upstream rendered in no environment."""
    reference = require_reference()
    patch = pytest.MonkeyPatch()
    for name, value in template_env(reference).items():
        patch.setenv(name, value)
    try:
        found: Results = {}
        for (project, golden), stacks in STACKS.items():
            cluster, cluster_namespace = preview_objects(imported[project], CLUSTER)
            rendered_upstream: set[Key] = set()
            for stack in stacks:
                ours, namespace = preview_objects(imported[project], stack)
                upstream = golden_objects(reference, golden, stack)
                rendered_upstream |= set(upstream)
                assert not set(ours) & set(cluster), f"{stack} and the cluster stack both own an object"
                union = {**ours, **{key: obj for key, obj in cluster.items() if key in upstream}}
                found[(project, stack)] = (differences(upstream, union), namespace)
            extra = {Difference(*key, "") for key in set(cluster) - rendered_upstream}
            found[(project, CLUSTER)] = (extra, cluster_namespace)
        return found
    finally:
        patch.undo()


def _unexplained(found: set[Difference], project: str, namespace: str, stack: str) -> list[tuple[str, ...]]:
    return sorted(
        (d.kind, d.namespace, d.name, d.field)
        for d in found
        if not any(_allowed(entry, d, project, namespace, stack) for entry in DIFFERENCES)
    )


@pytest.mark.parametrize(("project", "golden", "stack"), CASES, ids=[f"{p}:{s}" for p, _, s in CASES])
def test_preview_matches_upstreams_render(project: str, golden: str, stack: str, results: Results) -> None:
    found, namespace = results[(project, stack)]
    assert _unexplained(found, project, namespace, stack) == []


@pytest.mark.parametrize("project", [project for project, _ in STACKS])
def test_the_cluster_stack_holds_only_what_upstream_rendered(project: str, results: Results) -> None:
    found, namespace = results[(project, CLUSTER)]
    assert _unexplained(found, project, namespace, CLUSTER) == []


def test_every_listed_difference_still_occurs(results: Results) -> None:
    for entry in DIFFERENCES:
        assert entry["reason"].strip()
        assert any(
            _allowed(entry, difference, project, namespace, stack)
            for (project, stack), (found, namespace) in results.items()
            for difference in found
        ), f"no longer a difference: {entry['kind']} {entry['name']} {entry['field']}"
