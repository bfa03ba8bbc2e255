"""The Kubernetes API double answers the official client the way an API server does.

Each expectation here is the real server's behaviour as its source defines it (see the module
docstring of tests/support/kube_double.py), written out by hand, not read back from the double.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client, config
from kubernetes.client.exceptions import ApiException

from tests.support.kube_double import KubeDouble

NS = "slot-3"


@pytest.fixture
def kube() -> Iterator[KubeDouble]:
    with KubeDouble(namespaces=(NS,)) as double:
        yield double


def api(kube: KubeDouble, tmp_path: Path, token: str | None = None) -> client.ApiClient:
    path = kube.kubeconfig(tmp_path / f"kubeconfig-{token or 'admin'}", **({"token": token} if token else {}))
    configuration = client.Configuration()
    config.load_kube_config(config_file=str(path), client_configuration=configuration, persist_config=False)
    return client.ApiClient(configuration)


def failure(call: Any, *args: Any, **kwargs: Any) -> tuple[int, dict[str, Any]]:
    with pytest.raises(ApiException) as caught:
        call(*args, **kwargs)
    return int(caught.value.status), json.loads(caught.value.body)


def secret(name: str, namespace: str = NS, **extra: Any) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name, "namespace": namespace}, **extra}


def test_a_write_into_a_missing_namespace_is_404_namespace_not_found(kube: KubeDouble, tmp_path: Path) -> None:
    core = client.CoreV1Api(api(kube, tmp_path))
    status, body = failure(core.create_namespaced_secret, "staging", secret("tls", "staging"))
    assert status == 404
    assert body["reason"] == "NotFound"
    assert body["message"] == 'namespaces "staging" not found'
    assert body["details"] == {"name": "staging", "kind": "namespaces"}
    assert kube.objects == {}


def test_create_twice_is_409_already_exists_and_a_stale_update_is_409_conflict(
    kube: KubeDouble, tmp_path: Path
) -> None:
    core = client.CoreV1Api(api(kube, tmp_path))
    first = core.create_namespaced_secret(NS, secret("one", data={"k": "djE="}))
    status, body = failure(core.create_namespaced_secret, NS, secret("one"))
    assert (status, body["reason"], body["message"]) == (409, "AlreadyExists", 'secrets "one" already exists')
    stale = first.metadata.resource_version
    updated = core.replace_namespaced_secret("one", NS, secret("one", data={"k": "djI="}))
    assert int(updated.metadata.resource_version) > int(stale)
    status, body = failure(
        core.replace_namespaced_secret,
        "one",
        NS,
        {**secret("one", data={"k": "djM="}), "metadata": {"name": "one", "resourceVersion": stale}},
    )
    assert (status, body["reason"]) == (409, "Conflict")
    assert body["message"].startswith('Operation cannot be fulfilled on secrets "one": the object has been modified')
    assert kube.object(f"/api/v1/namespaces/{NS}/secrets/one")["data"] == {"k": "djI="}  # type: ignore[index]


def test_string_data_is_stored_as_data_never_as_plain_text(kube: KubeDouble, tmp_path: Path) -> None:
    core = client.CoreV1Api(api(kube, tmp_path))
    core.create_namespaced_secret(NS, secret("s", string_data={"password": "hunter2"}))
    stored = kube.object(f"/api/v1/namespaces/{NS}/secrets/s")
    assert stored is not None
    assert "stringData" not in stored
    assert stored["data"] == {"password": base64.b64encode(b"hunter2").decode()}
    assert stored["type"] == "Opaque"


def test_leases_are_created_by_put_and_need_a_resource_version_to_change(kube: KubeDouble, tmp_path: Path) -> None:
    leases = client.CoordinationV1Api(api(kube, tmp_path))
    namespace = "kube-node-lease"

    def lease(holder: str, version: str | None = None, renewed: str = "2026-01-01T00:00:00.000000Z") -> dict[str, Any]:
        meta: dict[str, Any] = {"name": "slot-3"}
        if version:
            meta["resourceVersion"] = version
        spec = {"holderIdentity": holder, "renewTime": renewed}
        return {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": meta, "spec": spec}

    created = leases.create_namespaced_lease(namespace, lease("runner-a"))
    status, body = failure(leases.create_namespaced_lease, namespace, lease("runner-b"))
    assert (status, body["reason"]) == (409, "AlreadyExists")
    status, body = failure(leases.replace_namespaced_lease, "slot-3", namespace, lease("runner-b"))
    assert (status, body["reason"]) == (422, "Invalid")
    assert "metadata.resourceVersion" in body["message"]
    renewed = leases.replace_namespaced_lease(
        "slot-3", namespace, lease("runner-a", created.metadata.resource_version, "2026-01-01T00:01:00.000000Z")
    )
    status, _ = failure(
        leases.replace_namespaced_lease, "slot-3", namespace, lease("runner-b", created.metadata.resource_version)
    )
    assert status == 409
    assert renewed.spec.holder_identity == "runner-a"
    fresh = leases.replace_namespaced_lease("slot-4", namespace, {**lease("runner-c"), "metadata": {"name": "slot-4"}})
    assert fresh.spec.holder_identity == "runner-c"  # create-on-update


def test_rbac_role_limits_a_service_account_with_the_real_forbidden_message(kube: KubeDouble, tmp_path: Path) -> None:
    token = kube.service_account(NS, "codex-sa")
    kube.bind(
        f"system:serviceaccount:{NS}:codex-sa",
        [
            {"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"], "resourceNames": ["allowed"]},
            {"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["get", "list"]},
        ],
        namespace=NS,
    )
    kube.seed(secret("allowed", data={"k": "dg=="}))
    kube.seed(secret("other", data={"k": "dg=="}))
    core = client.CoreV1Api(api(kube, tmp_path, token))
    assert core.read_namespaced_secret("allowed", NS).data == {"k": "dg=="}
    status, body = failure(core.read_namespaced_secret, "other", NS)
    assert status == 403
    assert body["reason"] == "Forbidden"
    assert body["message"] == (
        'secrets "other" is forbidden: User "system:serviceaccount:slot-3:codex-sa" cannot get resource "secrets" '
        'in API group "" in the namespace "slot-3"'
    )
    status, body = failure(core.list_namespaced_secret, NS)  # resourceNames never allow a list
    assert status == 403
    status, body = failure(core.read_namespaced_secret, "missing", "kube-system")  # 403 before 404
    assert status == 403
    assert body["message"].endswith('in the namespace "kube-system"')
    status, body = failure(core.delete_namespace, NS)
    assert body["message"].endswith('cannot delete resource "namespaces" in API group "" at the cluster scope')
    apps = client.AppsV1Api(api(kube, tmp_path, token))
    assert apps.list_namespaced_deployment(NS).items == []


def test_an_unknown_token_is_401(kube: KubeDouble, tmp_path: Path) -> None:
    core = client.CoreV1Api(api(kube, tmp_path, "stolen"))
    status, body = failure(core.read_namespace, NS)
    assert (status, body["reason"]) == (401, "Unauthorized")


def test_a_deleted_namespace_is_terminating_refuses_new_content_then_goes_with_its_objects(
    kube: KubeDouble, tmp_path: Path
) -> None:
    core = client.CoreV1Api(api(kube, tmp_path))
    kube.namespace_finalize_ticks = 6
    kube.seed(secret("kept-by-nobody"))
    core.delete_namespace(NS, propagation_policy="Background")
    terminating = core.read_namespace(NS)
    assert terminating.status.phase == "Terminating"
    assert terminating.metadata.deletion_timestamp is not None
    assert terminating.spec.finalizers == ["kubernetes"]
    status, body = failure(core.create_namespaced_secret, NS, secret("late"))
    assert status == 403
    assert body["message"] == (
        "secrets is forbidden: unable to create new content in namespace slot-3 because it is being terminated"
    )
    status, body = failure(core.delete_namespace, NS)
    assert (status, body["reason"]) == (409, "Conflict")
    assert "The system is ensuring all content is removed from this namespace" in body["message"]
    phases = []
    for _ in range(20):
        try:
            phases.append(core.read_namespace(NS).status.phase)
        except ApiException as exc:
            phases.append(str(exc.status))
            break
    assert phases[-1] == "404"
    assert set(phases[:-1]) <= {"Terminating"}
    assert f"/api/v1/namespaces/{NS}/secrets/kept-by-nobody" not in kube.objects


def test_a_finalizer_nobody_removes_keeps_the_namespace_terminating(kube: KubeDouble, tmp_path: Path) -> None:
    core = client.CoreV1Api(api(kube, tmp_path))
    kube.seed({**secret("stuck"), "metadata": {"name": "stuck", "namespace": NS, "finalizers": ["example.com/x"]}})
    core.delete_namespace(NS)
    kube.settle()
    assert kube.namespaces()[NS] == "Terminating"
    stuck = core.read_namespaced_secret("stuck", NS)
    assert stuck.metadata.deletion_timestamp is not None
    core.patch_namespaced_secret("stuck", NS, {"metadata": {"finalizers": None}})
    kube.settle()
    assert NS not in kube.namespaces()


@pytest.mark.parametrize("namespace", ["default", "kube-system", "kube-public"])
def test_system_namespaces_may_not_be_deleted(kube: KubeDouble, tmp_path: Path, namespace: str) -> None:
    core = client.CoreV1Api(api(kube, tmp_path))
    status, body = failure(core.delete_namespace, namespace)
    assert (status, body["message"]) == (
        403,
        f'namespaces "{namespace}" is forbidden: this namespace may not be deleted',
    )
    assert kube.namespaces()[namespace] == "Active"


def owned_chain(kube: KubeDouble) -> tuple[str, str]:
    """A Deployment owning a ReplicaSet owning a pod, as the controllers leave them."""
    deployment = kube.seed(
        {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": NS}, "spec": {}}
    )

    def owned(kind: str, api_version: str, name: str, owner: dict[str, Any]) -> dict[str, Any]:
        ref = {"apiVersion": owner["apiVersion"], "kind": owner["kind"], "name": owner["metadata"]["name"]}
        ref["uid"] = owner["metadata"]["uid"]
        return kube.seed(
            {
                "apiVersion": api_version,
                "kind": kind,
                "metadata": {"name": name, "namespace": NS, "ownerReferences": [ref]},
                "spec": {"containers": [{"name": "web", "image": "web:1"}]} if kind == "Pod" else {},
                "status": {"phase": "Running"} if kind == "Pod" else {},
            }
        )

    replica_set = owned("ReplicaSet", "apps/v1", "web-1", deployment)
    owned("Pod", "v1", "web-1-a", replica_set)
    return f"/apis/apps/v1/namespaces/{NS}/deployments/web", f"/api/v1/namespaces/{NS}/pods/web-1-a"


def test_background_deletion_removes_the_owner_first_and_the_pod_terminates_gracefully(
    kube: KubeDouble, tmp_path: Path
) -> None:
    deployment, pod = owned_chain(kube)
    apps = client.AppsV1Api(api(kube, tmp_path))
    core = client.CoreV1Api(api(kube, tmp_path))
    apps.delete_namespaced_deployment("web", NS, propagation_policy="Background")
    assert kube.object(deployment) is None
    untouched = kube.object(pod)
    assert untouched is not None
    assert "deletionTimestamp" not in untouched["metadata"]  # the collector works after the answer
    kube.settle(2)  # ReplicaSet, then its pod
    seen = core.read_namespaced_pod("web-1-a", NS)  # reached: Terminating, still there
    assert seen.metadata.deletion_timestamp is not None
    assert seen.metadata.deletion_grace_period_seconds == 30
    kube.settle()
    assert kube.object(pod) is None


def test_foreground_deletion_keeps_the_owner_until_its_dependents_are_gone(kube: KubeDouble, tmp_path: Path) -> None:
    deployment, pod = owned_chain(kube)
    apps = client.AppsV1Api(api(kube, tmp_path))
    apps.delete_namespaced_deployment("web", NS, propagation_policy="Foreground")
    owner = kube.object(deployment)
    assert owner is not None
    assert owner["metadata"]["finalizers"] == ["foregroundDeletion"]
    assert owner["metadata"]["deletionTimestamp"]
    kube.settle()
    assert kube.object(pod) is None
    assert kube.object(deployment) is None


def test_orphan_deletion_leaves_the_dependents_without_their_owner(kube: KubeDouble, tmp_path: Path) -> None:
    deployment, _pod = owned_chain(kube)
    apps = client.AppsV1Api(api(kube, tmp_path))
    apps.delete_namespaced_deployment("web", NS, propagation_policy="Orphan")
    kube.settle()
    assert kube.object(deployment) is None
    replica_set = kube.object(f"/apis/apps/v1/namespaces/{NS}/replicasets/web-1")
    assert replica_set is not None
    assert replica_set["metadata"]["ownerReferences"] == []


def test_delete_preconditions_are_409_when_they_do_not_match(kube: KubeDouble, tmp_path: Path) -> None:
    kube.seed(secret("s"))
    core = client.CoreV1Api(api(kube, tmp_path))
    status, body = failure(core.delete_namespaced_secret, "s", NS, body={"preconditions": {"resourceVersion": "1"}})
    assert (status, body["reason"]) == (409, "Conflict")
    assert "Precondition failed: ResourceVersion in precondition: 1" in body["message"]


def test_lists_page_with_limit_and_continue_and_filter_by_label(kube: KubeDouble, tmp_path: Path) -> None:
    for n in range(5):
        kube.seed({**secret(f"s{n}"), "metadata": {"name": f"s{n}", "namespace": NS, "labels": {"n": str(n % 2)}}})
    core = client.CoreV1Api(api(kube, tmp_path))
    first = core.list_namespaced_secret(NS, limit=2)
    assert [item.metadata.name for item in first.items] == ["s0", "s1"]
    assert first.metadata.remaining_item_count == 3
    second = core.list_namespaced_secret(NS, limit=2, _continue=first.metadata._continue)
    assert [item.metadata.name for item in second.items] == ["s2", "s3"]
    odd = core.list_namespaced_secret(NS, label_selector="n=1")
    assert [item.metadata.name for item in odd.items] == ["s1", "s3"]
    assert [i.metadata.name for i in core.list_namespaced_secret(NS, label_selector="n notin (1)").items] == [
        "s0",
        "s2",
        "s4",
    ]
