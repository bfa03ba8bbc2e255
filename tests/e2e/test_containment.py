"""The cluster enforces the agent's containment: ``pytest -m e2e`` with a kubeconfig of a
Kubernetes 1.30+ cluster and the rights to create namespaces, RBAC and admission policies.

The policy, its binding, the namespace labels and the agent's Role are the ones the example's
stacks render offline; they are applied under names of their own (``codex-e2e-…``), so a real
cluster stack of the example is never touched. Pods are created with a server-side dry run:
admission runs, nothing starts. Never counted as the proof of a feature: the offline tests are.
"""

from __future__ import annotations

import copy
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from codex_stacks.offline.runner import run_program
from tests.conftest import EXAMPLE

pytestmark = pytest.mark.e2e

NAMESPACE = "codex-e2e-containment"
PROJECT = "codex-e2e"
POLICY = "codex-e2e-agent-containment"
SLOT_STACK = "ai-slot-8"
AGENT = f"system:serviceaccount:{NAMESPACE}:codex-sa"


def _kubeconfig() -> bool:
    path = Path(os.environ.get("KUBECONFIG", Path.home() / ".kube" / "config"))
    return path.exists()


def _inputs(stack: str, kind: str, mode: str = "normal") -> list[dict[str, Any]]:
    run = run_program(stack, {"codex:projectDir": str(EXAMPLE), "codex:mode": mode})
    found = []
    for registration in run.registrations:
        if registration.type.startswith("kubernetes:") and registration.inputs.get("kind") == kind:
            manifest = copy.deepcopy(dict(registration.inputs))
            manifest["metadata"].get("annotations", {}).pop("pulumi.com/patchForce", None)
            found.append(manifest)
    return found


def _rendered() -> dict[str, Any]:
    """The example's objects, renamed into this test's own namespace and project."""
    (policy,) = _inputs("cluster", "ValidatingAdmissionPolicy")
    (binding,) = _inputs("cluster", "ValidatingAdmissionPolicyBinding")
    (namespace,) = _inputs(SLOT_STACK, "Namespace")
    (role,) = [r for r in _inputs(SLOT_STACK, "Role", "repair") if r["metadata"]["name"] == "codex-agent"]
    slot_namespace = namespace["metadata"]["name"]
    policy["metadata"]["name"] = POLICY
    policy["spec"]["matchConstraints"]["namespaceSelector"]["matchLabels"]["codex-stacks.dev/project"] = PROJECT
    annotations = binding["metadata"]["annotations"]
    folders = annotations[f"host-folders.codex-stacks.dev/{slot_namespace}"]
    binding["metadata"]["name"] = POLICY
    binding["metadata"]["annotations"] = {f"host-folders.codex-stacks.dev/{NAMESPACE}": folders}
    binding["spec"]["policyName"] = POLICY
    binding["spec"]["paramRef"]["name"] = POLICY
    namespace["metadata"]["name"] = NAMESPACE
    namespace["metadata"]["labels"]["codex-stacks.dev/project"] = PROJECT
    role["metadata"]["namespace"] = NAMESPACE
    return {"policy": policy, "binding": binding, "namespace": namespace, "role": role, "folders": folders}


@pytest.fixture(scope="module")
def cluster() -> Iterator[dict[str, Any]]:
    if not _kubeconfig():
        pytest.skip("e2e needs a kubeconfig (KUBECONFIG or ~/.kube/config)")
    from kubernetes import client, config

    configuration = client.Configuration()
    config.load_kube_config(client_configuration=configuration)
    admin = client.ApiClient(configuration)
    version = client.VersionApi(admin).get_code()
    if (int(version.major), int(version.minor.rstrip("+"))) < (1, 30):
        pytest.skip(f"ValidatingAdmissionPolicy v1 needs Kubernetes 1.30+, the cluster runs {version.git_version}")
    objects = _rendered()
    core = client.CoreV1Api(admin)
    rbac = client.RbacAuthorizationV1Api(admin)
    admission = client.AdmissionregistrationV1Api(admin)
    core.create_namespace(objects["namespace"])
    try:
        core.create_namespaced_service_account(NAMESPACE, {"metadata": {"name": "codex-sa"}})
        rbac.create_namespaced_role(NAMESPACE, objects["role"])
        rbac.create_namespaced_role_binding(
            NAMESPACE,
            {
                "metadata": {"name": "codex-agent"},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "codex-agent"},
                "subjects": [{"kind": "ServiceAccount", "name": "codex-sa", "namespace": NAMESPACE}],
            },
        )
        admission.create_validating_admission_policy(objects["policy"])
        admission.create_validating_admission_policy_binding(objects["binding"])
        impersonating = client.ApiClient(configuration)
        impersonating.set_default_header("Impersonate-User", AGENT)
        yield {"admin": core, "agent": client.CoreV1Api(impersonating), "folders": objects["folders"]}
    finally:
        for delete in (
            lambda: admission.delete_validating_admission_policy_binding(POLICY),
            lambda: admission.delete_validating_admission_policy(POLICY),
            lambda: core.delete_namespace(NAMESPACE),
        ):
            try:
                delete()
            except client.ApiException as error:
                if error.status != 404:
                    raise


def _pod(name: str, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name},
        "spec": {"containers": [{"name": "app", "image": "busybox"}], **spec},
    }


def _create(api: Any, pod: dict[str, Any]) -> tuple[int, str]:
    from kubernetes import client

    try:
        api.create_namespaced_pod(NAMESPACE, pod, dry_run="All")
    except client.ApiException as error:
        return error.status, str(error.body)
    return 201, ""


def test_the_agent_is_refused_a_privileged_pod_and_may_run_a_plain_one(cluster: dict[str, Any]) -> None:
    privileged = _pod(
        "privileged", containers=[{"name": "app", "image": "busybox", "securityContext": {"privileged": True}}]
    )
    deadline = time.monotonic() + 60
    status, body = _create(cluster["agent"], privileged)
    while status == 201 and time.monotonic() < deadline:  # the policy takes a moment to load
        time.sleep(2)
        status, body = _create(cluster["agent"], privileged)
    assert status in (403, 422), body
    assert "codex agent may not run privileged" in body
    assert _create(cluster["agent"], _pod("plain")) == (201, "")  # RBAC lets it: the refusal was the policy's
    assert _create(cluster["admin"], privileged) == (201, "")  # the deployer is never held


def test_the_agent_may_mount_only_its_own_folders(cluster: dict[str, Any]) -> None:
    own = cluster["folders"].splitlines()[0]
    mount = {"volumes": [{"name": "v", "hostPath": {"path": own}}]}
    assert _create(cluster["agent"], _pod("own", **mount)) == (201, "")
    status, body = _create(cluster["agent"], _pod("etc", volumes=[{"name": "v", "hostPath": {"path": "/etc"}}]))
    assert status in (403, 422), body
    status, body = _create(cluster["agent"], _pod("net", hostNetwork=True))
    assert status in (403, 422), body
