"""Repair mode: the agent starts even when the rest of the stack cannot be rendered."""

from __future__ import annotations

import textwrap
from functools import cache
from pathlib import Path

import pulumi
import pytest

from codex_stacks.errors import CodexError
from codex_stacks.offline.runner import ProgramRun, run_program
from codex_stacks.offline.targets import repair_targets
from codex_stacks.plan import PlanRequest, build_plan
from tests.conftest import EXAMPLE, MINIMAL, NAMESPACE_MANIFEST, MakeProject

REPAIR_SET = {
    "Namespace/project-example-dev-3",
    "ConfigMap/project-example-dev-3/project-example-config",
    "ConfigMap/project-example-dev-3/db-config",
    "ConfigMap/project-example-dev-3/redis-config",
    "Secret/project-example-dev-3/crypto-secret",
    "Secret/project-example-dev-3/db-secret",
    "Secret/project-example-dev-3/redis-secret",
    "ServiceAccount/project-example-dev-3/codex-sa",
    "Role/project-example-dev-3/codex-agent",
    "RoleBinding/project-example-dev-3/codex-agent",
    "Deployment/project-example-dev-3/codex",
    "Ingress/project-example-dev-3/ingress-dev-3",
    # the slot's NetworkPolicies come with the agent (docs/security.md)
    "NetworkPolicy/project-example-dev-3/codex-default-deny",
    "NetworkPolicy/project-example-dev-3/codex-allow-same-namespace",
    "NetworkPolicy/project-example-dev-3/codex-allow-dns",
    "NetworkPolicy/project-example-dev-3/codex-allow-ingress-controller",
    "NetworkPolicy/project-example-dev-3/codex-allow-agent-egress",
    "NetworkPolicy/project-example-dev-3/codex-allow-internet-0",
}


@cache
def run(stack: str, mode: str, project: Path = EXAMPLE) -> ProgramRun:
    return run_program(stack, {"codex:projectDir": str(project), "codex:mode": mode})


def object_keys(program: ProgramRun) -> set[str]:
    keys = set()
    for registration in program.registrations:
        if registration.type.startswith("kubernetes:"):
            metadata = registration.inputs["metadata"]
            parts = [registration.inputs["kind"], metadata.get("namespace"), metadata["name"]]
            keys.add("/".join(part for part in parts if part))
    return keys


@pytest.fixture
def broken_data_services(example_copy: Path) -> Path:
    """The example with a template error, a missing file and an invalid object outside the repair set."""
    postgres = example_copy / "deploy" / "postgres.yaml"
    postgres.write_text(postgres.read_text() + "\n---\n{{ no_such_variable }}\n", encoding="utf-8")
    (example_copy / "deploy" / "redis.yaml").unlink()
    jaeger = example_copy / "deploy" / "jaeger.yaml"
    jaeger.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: [not, a, mapping]\n", encoding="utf-8")
    return example_copy


def test_normal_run_fails_with_one_clear_error_naming_the_file(broken_data_services: Path) -> None:
    with pytest.raises(pulumi.RunError) as info:
        run_program("ai-slot-3", {"codex:projectDir": str(broken_data_services), "codex:mode": "normal"})
    assert isinstance(info.value.__cause__, CodexError)
    assert "postgres.yaml" in str(info.value)
    assert "no_such_variable" in str(info.value)


def test_repair_run_brings_up_exactly_the_repair_set(broken_data_services: Path) -> None:
    program = run_program("ai-slot-3", {"codex:projectDir": str(broken_data_services), "codex:mode": "repair"})
    assert object_keys(program) == REPAIR_SET
    assert program.outputs["mode"] == "repair"
    skipped = program.outputs["skipped"]
    assert skipped["data-services"] == "not in the repair set"
    assert skipped["django-backend"] == "not in the repair set"


def test_services_yaml_must_still_load_in_repair_mode(example_copy: Path) -> None:
    services = example_copy / "services.yaml"
    services.write_text(services.read_text().replace("maxSlots: 10", "maxSlots: [10"), encoding="utf-8")
    with pytest.raises(pulumi.RunError, match="invalid YAML"):
        run_program("ai-slot-3", {"codex:projectDir": str(example_copy), "codex:mode": "repair"})


def test_repair_urns_are_a_subset_of_normal_urns_with_the_same_names() -> None:
    normal = {r.urn for r in run("ai-slot-3", "normal").registrations}
    repair = {r.urn for r in run("ai-slot-3", "repair").registrations}
    assert repair < normal
    others = {r.name for r in run("ai-slot-3", "repair").registrations if not r.type.startswith("kubernetes:")}
    assert others == {
        "kubernetes",  # the provider
        "namespace-and-config",
        "codex-agent",
        "codex",
        "codex/hook/beforeApply/ensure-codex-secrets",  # the agent's credentials
        "codex/hook/afterApply/reuse-dev-tls-secret",
    }


def test_repair_targets_are_exactly_the_repair_registrations() -> None:
    targets = repair_targets(
        "ai-slot-3", project_dir=EXAMPLE
    )  # URNs checked by hand: tests/components/test_behaviour_guards.py
    assert targets == sorted(set(targets))
    assert {urn.rsplit("::", 1)[1] for urn in targets} >= {"kubernetes", "namespace-and-config", "codex-agent", "codex"}
    normal = {r.urn for r in run("ai-slot-3", "normal").registrations}
    assert set(targets) <= normal
    assert not any("data-services" in urn or "django-backend" in urn for urn in targets)


def test_default_repair_set_is_the_group_that_holds_the_namespace(example_copy: Path) -> None:
    services = example_copy / "services.yaml"
    services.write_text(
        services.read_text().replace("repair:\n  infrastructure: [namespace-and-config]\n  services: [codex]\n", ""),
        encoding="utf-8",
    )
    plan = build_plan(PlanRequest(stack="ai-slot-1", project_dir=example_copy, mode="repair"))
    assert [c.name for c in plan.components] == ["namespace-and-config", "codex-agent", "codex"]


def rbac(program: ProgramRun) -> dict[str, dict]:  # type: ignore[type-arg]
    return {
        r.inputs["kind"]: dict(r.inputs)
        for r in program.registrations
        if r.type.startswith("kubernetes:rbac.authorization.k8s.io/")
    }


@pytest.mark.parametrize("stack", ["ai-slot-3", "dev"])
@pytest.mark.parametrize("mode", ["normal", "repair"])
def test_no_cluster_wide_rights_anywhere(stack: str, mode: str) -> None:
    kinds = {r.type.rsplit(":", 1)[-1] for r in run(stack, mode).registrations}
    assert "ClusterRole" not in kinds
    assert "ClusterRoleBinding" not in kinds


@pytest.mark.parametrize("mode", ["normal", "repair"])
def test_role_is_bound_only_to_the_agent_in_its_namespace(mode: str) -> None:
    objects = rbac(run("ai-slot-3", mode))
    binding = objects["RoleBinding"]
    assert binding["metadata"]["namespace"] == "project-example-dev-3"
    assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "codex-agent"}
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "codex-sa", "namespace": "project-example-dev-3"}]
    assert objects["Role"]["metadata"]["namespace"] == "project-example-dev-3"
    deployment = next(r for r in run("ai-slot-3", mode).registrations if r.name == "codex/deployment/codex")
    assert deployment.inputs["spec"]["template"]["spec"]["serviceAccountName"] == "codex-sa"


def _allows(rules: list[dict], group: str, resource: str, verb: str) -> bool:  # type: ignore[type-arg]
    return any(
        (group in rule["apiGroups"] or "*" in rule["apiGroups"])
        and (resource in rule["resources"] or "*" in rule["resources"])
        and (verb in rule["verbs"] or "*" in rule["verbs"])
        for rule in rules
    )


def test_repair_role_is_wider_than_the_normal_role() -> None:
    normal = rbac(run("ai-slot-3", "normal"))["Role"]["rules"]
    repair = rbac(run("ai-slot-3", "repair"))["Role"]["rules"]
    probes = [
        ("", "pods", "delete"),
        ("", "pods/exec", "create"),
        ("apps", "deployments", "patch"),
        ("", "secrets", "get"),
        ("networking.k8s.io", "ingresses", "list"),
    ]
    for probe in probes:
        assert _allows(normal, *probe), probe
        assert _allows(repair, *probe), probe
    wider = [
        ("policy", "poddisruptionbudgets", "create"),
        ("", "secrets", "create"),
        ("networking.k8s.io", "ingresses", "update"),
    ]
    for probe in wider:
        assert not _allows(normal, *probe), probe
        assert _allows(repair, *probe), probe
    never = [("rbac.authorization.k8s.io", "roles", "update"), ("networking.k8s.io", "networkpolicies", "delete")]
    for probe in never:  # what limits the agent is not the agent's to change (docs/security.md)
        assert not _allows(repair, *probe), probe


def test_repair_only_environment_beside_staging() -> None:
    program = run("ai-repair", "repair")
    assert object_keys(program) == {
        "Namespace/project-example-staging",
        "ServiceAccount/project-example-staging/codex-sa",
        "Role/project-example-staging/codex-agent",
        "RoleBinding/project-example-staging/codex-agent",
        "Deployment/project-example-staging/codex",
    }
    namespace = next(r for r in program.registrations if r.name == "namespace")
    assert namespace.retain_on_delete  # staging's namespace is never deleted by this stack
    with pytest.raises(pulumi.RunError, match="runs only in repair mode"):
        run_program("ai-repair", {"codex:projectDir": str(EXAMPLE), "codex:mode": "normal"})


@pytest.mark.parametrize("mode", ["normal", "repair"])
def test_repair_targets_stack_output_matches_the_command(mode: str) -> None:
    """The stack output (for workflows reading `pulumi stack output`) is the same list, in either mode."""
    assert run("ai-slot-3", mode).outputs["repairTargets"] == repair_targets("ai-slot-3", project_dir=EXAMPLE)


def test_stack_steps_run_in_repair_mode_only_when_marked(make_project: MakeProject) -> None:
    """A broken or failing stack step cannot keep the agent from starting: repair mode registers
    only the stack steps marked repair: true, and does not even evaluate the others."""
    services = MINIMAL + textwrap.dedent("""\
        hooks:
          beforeAll:
            - name: broken
              when: "{{ no_such_flag }}"
              run: exit 1
            - name: check
              use: preflight
              with: {requireEnv: [NEVER_SET_ANYWHERE], checkCluster: false}
            - name: marked
              use: sleep
              repair: true
              with: {seconds: 0}
        """)
    root = make_project(services, {"ns.yaml": NAMESPACE_MANIFEST})
    repair = run_program("ai-slot-1", {"codex:projectDir": str(root), "codex:mode": "repair"})
    steps = sorted(r.name for r in repair.registrations if r.name.startswith("hook/"))
    assert steps == ["hook/beforeAll/marked"]
    with pytest.raises(Exception, match="no_such_flag"):
        run_program("ai-slot-1", {"codex:projectDir": str(root), "codex:mode": "normal"})
