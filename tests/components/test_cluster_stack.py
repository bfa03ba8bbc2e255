"""The cluster stack in the Pulumi layer: its components, typed objects and its own namespace."""

from __future__ import annotations

from pathlib import Path

from codex_stacks.offline.runner import run_program
from tests.conftest import EXAMPLE, MINIMAL, MakeProject


def test_the_cluster_stack_registers_its_generated_components_with_typed_objects() -> None:
    run = run_program("cluster", {"codex:projectDir": str(EXAMPLE)})
    components = {r.name: r for r in run.registrations if r.type.startswith("codex:stack:")}
    assert components["codex-agent-containment"].type == "codex:stack:CodexSystem"
    assert components["codex-slot-claims"].type == "codex:stack:CodexSystem"
    children = {r.type for r in run.children(components["codex-agent-containment"].urn)}
    assert children == {
        "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicy",
        "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicyBinding",
    }
    (namespace,) = [r for r in run.registrations if r.type == "kubernetes:core/v1:Namespace"]
    assert namespace.inputs["metadata"]["name"] == "codex-system"
    assert namespace.inputs["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    assert namespace.retain_on_delete  # other projects' slot claims live there too


def test_a_namespace_the_program_creates_is_labelled_when_no_one_else_deploys_into_it(
    make_project: MakeProject,
) -> None:
    root = make_project(MINIMAL, {"ns.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n"})
    run = run_program("dev", {"codex:projectDir": str(root)})
    (namespace,) = [r for r in run.registrations if r.type == "kubernetes:core/v1:Namespace"]
    labels = namespace.inputs["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
    assert labels["codex-stacks.dev/project"] == "demo"


def test_a_shared_namespace_is_left_to_its_owner(tmp_path: Path) -> None:
    run = run_program("ai-repair", {"codex:projectDir": str(EXAMPLE), "codex:mode": "repair"})
    (namespace,) = [r for r in run.registrations if r.type == "kubernetes:core/v1:Namespace"]
    assert "labels" not in namespace.inputs["metadata"]  # ai-staging's Namespace carries them
