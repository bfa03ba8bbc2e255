"""The real program under the SDK's mocks, with a monitor that records parents and dependencies."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pulumi
import pytest

from codex_stacks.errors import CodexError
from codex_stacks.offline.runner import ProgramRun, Registration, Secret, run_program
from tests.conftest import EXAMPLE, MINIMAL, NAMESPACE_MANIFEST, MakeProject

PROVIDER = "pulumi:providers:kubernetes"


@cache
def program(stack: str, mode: str = "normal") -> ProgramRun:
    return run_program(stack, {"codex:projectDir": str(EXAMPLE), "codex:mode": mode})


def k8s(run: ProgramRun) -> list[Registration]:
    return [r for r in run.registrations if r.type.startswith("kubernetes:")]


def find(run: ProgramRun, name: str) -> Registration:
    return next(r for r in run.registrations if r.name == name)


def test_components_have_typed_tokens_and_own_their_objects() -> None:
    run = program("ai-slot-3")
    types = {r.name: r.type for r in run.registrations if r.type.startswith("codex:stack:")}
    assert types == {
        "namespace-and-config": "codex:stack:InfrastructureGroup",
        "data-services": "codex:stack:InfrastructureGroup",
        "observability": "codex:stack:InfrastructureGroup",
        "codex-agent": "codex:stack:CodexAgent",
        "django-backend": "codex:stack:ServiceComponent",
        "chat-backend": "codex:stack:ServiceComponent",
        "web-frontend": "codex:stack:ServiceComponent",
        "codex": "codex:stack:ServiceComponent",
    }
    for obj in k8s(run):
        component = obj.name.split("/")[0]
        assert obj.parent == find(run, component).urn, obj.name


def test_every_object_uses_the_one_explicit_provider() -> None:
    run = program("ai-slot-3")
    providers = run.by_type(PROVIDER)
    assert len(providers) == 1
    assert providers[0].inputs["namespace"] == "project-example-dev-3"
    assert providers[0].inputs["enableServerSideApply"] == "true"
    for obj in k8s(run):
        assert obj.provider.startswith(providers[0].urn + "::"), obj.name


def test_every_kind_is_registered_by_its_type_token() -> None:
    dev = program("dev")
    kinds = {r.type for r in k8s(dev)}
    assert {"kubernetes:apps/v1:Deployment", "kubernetes:core/v1:ConfigMap", "kubernetes:core/v1:Secret"} <= kinds
    assert "kubernetes:cert-manager.io/v1:ClusterIssuer" in {r.type for r in k8s(program("cluster"))}


def test_dependencies_namespace_first_then_depends_on_only() -> None:
    run = program("ai-slot-3")
    namespace = find(run, "namespace-and-config/namespace/project-example-dev-3").urn
    config_children = {r.urn for r in run.children(find(run, "namespace-and-config").urn)}
    data_children = {r.urn for r in run.children(find(run, "data-services").urn)}
    # web-frontend has no dependsOn: it waits for the namespace and nothing else
    frontend_config = find(run, "web-frontend/configmap/web-frontend-config")
    assert frontend_config.dependencies == (namespace,)
    # data-services says dependsOn: [namespace-and-config]
    postgres_service = find(run, "data-services/service/postgres")
    assert set(postgres_service.dependencies) == config_children
    # django-backend depends on data-services: its first tier waits for all of it
    django_config = find(run, "django-backend/configmap/django-backend-config")
    assert set(django_config.dependencies) == {namespace} | data_children
    # inside a component the workload waits for the tier before it
    deployment = find(run, "django-backend/deployment/django-backend")
    assert deployment.dependencies == (find(run, "django-backend/service/django-backend").urn,)
    # codex waits for its RBAC
    codex_deployment = find(run, "codex/deployment/codex")
    agent_children = {r.urn for r in run.children(find(run, "codex-agent").urn)}
    assert agent_children <= set(codex_deployment.dependencies)


def test_object_inputs_are_the_rendered_manifests() -> None:
    run = program("ai-slot-3")
    deployment = find(run, "chat-backend/deployment/chat-backend").inputs
    assert deployment["metadata"]["namespace"] == "project-example-dev-3"
    assert "pulumi.com/patchForce" not in (deployment["metadata"].get("annotations") or {})  # no forcing
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == "localhost:32000/project-example/chat-backend:staging-0.1.0"
    assert deployment["spec"]["replicas"] == 1


def test_secret_data_is_secret_in_the_registration() -> None:
    secret = find(program("ai-slot-3"), "namespace-and-config/secret/db-secret")
    assert isinstance(secret.inputs["stringData"], Secret)


def test_cluster_scoped_and_namespace_objects_are_retained_on_delete() -> None:
    dev = program("dev")
    cluster = program("cluster")
    assert find(cluster, "tls-issuer/clusterissuer/letsencrypt").retain_on_delete
    assert find(cluster, "cluster-dns/configmap/kube-system/coredns").retain_on_delete  # another namespace
    assert find(dev, "namespace-and-config/namespace/project-example-dev").retain_on_delete
    assert not find(dev, "data-services/deployment/postgres").retain_on_delete


def test_stack_outputs() -> None:
    outputs = program("ai-slot-3").outputs
    assert outputs["env"] == "ai"
    assert outputs["slot"] == 3
    assert outputs["namespace"] == "project-example-dev-3"
    assert outputs["mode"] == "normal"
    assert outputs["agentDeployment"] == "codex"
    assert outputs["components"][0] == "namespace-and-config"
    assert {"title": "Django admin", "url": "https://dev-3.staging.example-domain.ru/admin/"} in outputs["links"]


@pytest.mark.parametrize("stack", ["dev", "ai-staging", "ai-slot-1", "ai-slot-10"])
def test_resource_names_are_unique(stack: str) -> None:
    """Stable names across processes, and Pulumi's URN format: tests/components/test_behaviour_guards.py."""
    urns = [r.urn for r in program(stack).registrations]
    assert len(urns) == len(set(urns))


def test_bad_input_fails_before_any_resource(tmp_path: Path) -> None:
    (tmp_path / "services.yaml").write_text("project: demo\nmaxSlot: 2\n", encoding="utf-8")
    with pytest.raises(pulumi.RunError) as info:
        run_program("dev", {"codex:projectDir": str(tmp_path)})
    assert isinstance(info.value.__cause__, CodexError)
    assert "did you mean 'maxSlots'" in str(info.value)


def test_claims_outlive_a_mode_switch(make_project: MakeProject) -> None:
    """A PVC of a service outside the repair set: retained on delete in normal mode (a repair run,
    or one that drops the manifest, never deletes its data) and not registered in repair mode."""
    project = make_project(
        MINIMAL.replace("services: []", "services:\n  - name: db\n    manifests:\n      - path: db.yaml\n"),
        {
            "ns.yaml": NAMESPACE_MANIFEST,
            "db.yaml": """\
                apiVersion: v1
                kind: PersistentVolumeClaim
                metadata:
                  name: db-data
                spec:
                  accessModes: [ReadWriteOnce]
                  resources: {requests: {storage: 1Gi}}
                """,
        },
    )
    config = {"codex:projectDir": str(project)}
    normal = run_program("ai-slot-1", {**config, "codex:mode": "normal"})
    claim = find(normal, "db/persistentvolumeclaim/db-data")
    assert claim.retain_on_delete
    assert claim.inputs["metadata"]["namespace"] == "demo-ai-1"
    repair = run_program("ai-slot-1", {**config, "codex:mode": "repair"})
    assert all(r.name != claim.name for r in repair.registrations)


def test_only_an_adopting_up_forces_server_side_apply() -> None:
    """codex:adopt: kubectl is for the one up that takes over what the old tool applied; forcing on
    every up would take fields from every other manager (an HPA's replicas)."""
    adopting = run_program("ai-slot-3", {"codex:projectDir": str(EXAMPLE), "codex:adopt": "kubectl"})
    objects = [r for r in adopting.registrations if r.type.startswith("kubernetes:") and r.custom]
    assert objects
    assert all(r.inputs["metadata"]["annotations"]["pulumi.com/patchForce"] == "true" for r in objects)
    normal = program("ai-slot-3")
    assert not any(
        "pulumi.com/patchForce" in (r.inputs.get("metadata", {}).get("annotations") or {})
        for r in normal.registrations
        if r.type.startswith("kubernetes:") and r.custom
    )
