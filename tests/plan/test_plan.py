"""The plan of a stack: selected components, ordered objects, and every error before deploy."""

from __future__ import annotations

from pathlib import Path

import pytest

from codex_stacks.errors import CodexError, PlanError, TemplateError
from codex_stacks.plan import PlanRequest, build_plan
from tests.conftest import EXAMPLE, MINIMAL, NAMESPACE_MANIFEST, MakeProject


def plan(stack: str, project_dir: Path = EXAMPLE, **config: object):  # type: ignore[no-untyped-def]
    return build_plan(PlanRequest(stack=stack, project_dir=project_dir, **config))  # type: ignore[arg-type]


def test_slot_stack_of_the_example() -> None:
    result = plan("ai-slot-3")
    assert [c.name for c in result.components] == [
        "namespace-and-config",
        "data-services",
        "observability",
        "codex-agent",
        "django-backend",
        "chat-backend",
        "web-frontend",
        "codex",
    ]
    assert {s.name for s in result.skipped} == {"cluster-dns", "tls-issuer"}
    assert result.namespace_owner == "namespace-and-config"
    assert result.agent_deployment == "codex"
    assert all(obj.namespace in (None, "project-example-dev-3") for obj in result.objects)
    codex = result.component("codex")
    deployment = next(o for o in codex.objects if o.kind == "Deployment").manifest
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == "localhost:32000/project-example/codex:staging-0.1.0"
    assert container["imagePullPolicy"] == "Always"  # the manifest's own; the environment fills only a missing one
    assert {"name": "code-src", "mountPath": "/workspace"} in container["volumeMounts"]
    # the services' own Ingresses are dropped in slots; the slot's Ingress stays
    assert [o.name for o in result.objects if o.kind == "Ingress"] == ["ingress-dev-3"]
    assert result.links[0].url == "https://dev-3.staging.example-domain.ru/"


def test_dev_stack_skips_the_agent_and_the_cluster_groups() -> None:
    names = [c.name for c in plan("dev").components]
    assert "cluster-dns" not in names
    assert "codex" not in names
    assert "codex-agent" not in names


def test_cluster_stack_owns_the_cluster_groups() -> None:
    result = plan("cluster")
    assert result.target.namespace == "codex-system"
    assert [c.name for c in result.components][:2] == ["cluster-dns", "tls-issuer"]
    coredns = next(o for o in result.objects if o.name == "coredns")
    assert coredns.namespace == "kube-system"
    issuer = next(o for o in result.objects if o.kind == "ClusterIssuer")
    assert issuer.namespace is None


def test_components_come_after_what_they_depend_on() -> None:
    result = plan("ai-slot-2")
    order = [c.name for c in result.components]
    for component in result.components:
        for dep in component.depends_on:
            assert order.index(dep) < order.index(component.name)
    assert result.component("codex").depends_on == ("codex-agent",)
    assert result.component("django-backend").depends_on == ("data-services",)


def test_slot_bootstrap_infra_limits_groups_in_slots(make_project: MakeProject) -> None:
    root = make_project(
        MINIMAL.replace("  ai: {}", "  ai: {slotBootstrapInfra: [base]}").replace(
            "services: []", "  - name: extra\n    manifests:\n      - path: cm.yaml\nservices: []"
        ),
        {"ns.yaml": NAMESPACE_MANIFEST, "cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n"},
    )
    assert [c.name for c in plan("ai-slot-1", root).components] == ["base"]
    assert [c.name for c in plan("dev", root).components] == ["base", "extra"]


def test_no_namespace_object_means_the_program_owns_it(make_project: MakeProject) -> None:
    root = make_project(MINIMAL, {"ns.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n"})
    assert plan("dev", root).namespace_owner is None


@pytest.mark.parametrize(
    ("manifest", "error", "message"),
    [
        ("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ nope }}\n", TemplateError, "'nope' is undefined"),
        ("- just\n- a list\n", PlanError, "must be a mapping"),
        ("kind: ConfigMap\nmetadata:\n  name: c\n", PlanError, "has no 'apiVersion'"),
        ("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  generateName: c-\n", PlanError, "no metadata.name"),
        ("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: [\n", CodexError, "invalid YAML"),
    ],
)
def test_bad_manifests_name_their_file(make_project: MakeProject, manifest: str, error: type, message: str) -> None:
    root = make_project(MINIMAL, {"ns.yaml": manifest})
    with pytest.raises(error, match=message) as info:
        plan("dev", root)
    assert info.value.location.file == (root / "ns.yaml").resolve()


def test_missing_manifest_file(make_project: MakeProject) -> None:
    root = make_project(MINIMAL)
    with pytest.raises(CodexError, match="file not found") as info:
        plan("dev", root)
    assert info.value.location.path == "infrastructure[0].manifests[0].path"


def test_manifest_path_cannot_leave_the_project(make_project: MakeProject) -> None:
    root = make_project(MINIMAL.replace("path: ns.yaml", "path: ../../etc/passwd"))
    with pytest.raises(PlanError, match="leaves the project folder"):
        plan("dev", root)


def test_the_same_object_in_two_components_is_an_error(make_project: MakeProject) -> None:
    root = make_project(
        MINIMAL.replace("services: []", "  - name: again\n    manifests:\n      - path: ns.yaml\nservices: []"),
        {"ns.yaml": NAMESPACE_MANIFEST},
    )
    with pytest.raises(PlanError, match="is defined twice"):
        plan("dev", root)


def test_depends_on_cycle_is_an_error(make_project: MakeProject) -> None:
    root = make_project(
        MINIMAL.replace("      - path: ns.yaml", "      - path: ns.yaml\n    dependsOn: [other]").replace(
            "services: []", "  - name: other\n    dependsOn: [base]\nservices: []"
        ),
        {"ns.yaml": NAMESPACE_MANIFEST},
    )
    with pytest.raises(CodexError, match="cycle: base -> other -> base") as info:
        plan("dev", root)
    assert info.value.location.path == "infrastructure[0].dependsOn"


def test_when_disables_items_with_a_reason(make_project: MakeProject) -> None:
    root = make_project(
        MINIMAL.replace("  - name: base\n", "  - name: base\n    when: \"{{ env == 'ai' }}\"\n"),
        {"ns.yaml": NAMESPACE_MANIFEST},
    )
    result = plan("dev", root)
    assert result.components == ()
    assert "when" in result.skipped[0].reason
    assert [c.name for c in plan("ai-slot-1", root).components] == ["base"]
