"""Service overlays: each rule on its own."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from codex_stacks.config.model import Overlay
from codex_stacks.plan.overlays import apply_service_overlay, dropped, set_default_namespace

IMAGE = "registry/app:1.0"


def workload(kind: str = "Deployment", name: str = "api") -> dict[str, Any]:
    pod = {
        "initContainers": [
            {"name": "migrate", "image": "old/app:0.9"},
            {"name": "wait", "image": "busybox"},
        ],
        "containers": [
            {"name": "api", "image": "old/app:0.9", "volumeMounts": [{"name": "src", "mountPath": "/old"}]},
            {"name": "sidecar", "image": "envoy"},
        ],
        "volumes": [{"name": "src", "emptyDir": {}}],
    }
    template = {"metadata": {"labels": {"app": name}}, "spec": pod}
    if kind == "CronJob":
        spec: dict[str, Any] = {"schedule": "* * * * *", "jobTemplate": {"spec": {"template": template}}}
    else:
        spec = {"template": template}
    return {"apiVersion": "apps/v1", "kind": kind, "metadata": {"name": name}, "spec": spec}


def pod_of(manifest: dict[str, Any]) -> dict[str, Any]:
    spec = manifest["spec"]
    if manifest["kind"] == "CronJob":
        spec = spec["jobTemplate"]["spec"]
    return spec["template"]["spec"]  # type: ignore[no-any-return]


@pytest.mark.parametrize("kind", ["Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob"])
def test_image_goes_to_first_container_and_init_containers_with_the_same_image(kind: str) -> None:
    result = apply_service_overlay(workload(kind), service="api", image=IMAGE, overlay=None, pull_policy="Always")
    pod = pod_of(result)
    assert pod["containers"][0]["image"] == IMAGE
    assert pod["containers"][0]["imagePullPolicy"] == "Always"
    assert pod["containers"][1] == {"name": "sidecar", "image": "envoy"}
    assert pod["initContainers"][0]["image"] == IMAGE
    assert pod["initContainers"][0]["imagePullPolicy"] == "Always"
    assert pod["initContainers"][1] == {"name": "wait", "image": "busybox"}


def test_other_workloads_and_kinds_are_untouched() -> None:
    other = workload(name="worker")
    assert apply_service_overlay(other, service="api", image=IMAGE, overlay=None, pull_policy=None) == other
    config = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "api"}}
    assert apply_service_overlay(config, service="api", image=IMAGE, overlay=None, pull_policy=None) == config


def test_the_input_is_not_modified() -> None:
    original = workload()
    before = copy.deepcopy(original)
    apply_service_overlay(original, service="api", image=IMAGE, overlay=None, pull_policy="Always")
    assert original == before


def test_host_and_pvc_mounts_replace_same_named_volumes_and_mounts() -> None:
    overlay = Overlay.model_validate(
        {
            "hostMounts": [{"name": "src", "hostPath": "/code/api", "mountPath": "/app", "type": "Directory"}],
            "pvcMounts": [
                {"name": "data", "claimName": "api-data", "mountPath": "/data", "subPath": "v1", "readOnly": True}
            ],
        }
    )
    pod = pod_of(apply_service_overlay(workload(), service="api", image=None, overlay=overlay, pull_policy=None))
    assert pod["volumes"] == [
        {"name": "src", "hostPath": {"path": "/code/api", "type": "Directory"}},
        {"name": "data", "persistentVolumeClaim": {"claimName": "api-data", "readOnly": True}},
    ]
    main = pod["containers"][0]
    assert main["volumeMounts"] == [
        {"name": "src", "mountPath": "/app"},
        {"name": "data", "mountPath": "/data", "subPath": "v1", "readOnly": True},
    ]
    assert "volumeMounts" not in pod["containers"][1]
    # the migration init container runs the same build, so it sees the same source
    assert {"name": "src", "mountPath": "/app"} in pod["initContainers"][0]["volumeMounts"]
    assert main["image"] == "old/app:0.9"  # no image given: the manifest's stays


def test_pull_policy_without_image_applies_to_the_main_container_only() -> None:
    pod = pod_of(apply_service_overlay(workload(), service="api", image=None, overlay=None, pull_policy="Never"))
    assert pod["containers"][0]["imagePullPolicy"] == "Never"
    assert "imagePullPolicy" not in pod["initContainers"][0]


def test_drop_kinds() -> None:
    overlay = Overlay(drop_kinds=["Ingress"])
    assert dropped("Ingress", overlay)
    assert not dropped("Service", overlay)
    assert not dropped("Ingress", None)


@pytest.mark.parametrize(
    ("kind", "namespace"),
    [
        ("ConfigMap", "slot"),
        ("Deployment", "slot"),
        ("Namespace", None),
        ("ClusterIssuer", None),
        ("ClusterRole", None),
        ("StorageClass", None),
        ("PriorityClass", None),
        ("IngressClass", None),
        ("CustomResourceDefinition", None),
        ("ValidatingWebhookConfiguration", None),
        ("PersistentVolume", None),
    ],
)
def test_namespace_only_on_namespaced_kinds(kind: str, namespace: str | None) -> None:
    manifest: dict[str, Any] = {"apiVersion": "v1", "kind": kind, "metadata": {"name": "x"}}
    set_default_namespace(manifest, "slot")
    assert manifest["metadata"].get("namespace") == namespace


def test_explicit_namespace_is_kept() -> None:
    manifest: dict[str, Any] = {"kind": "ConfigMap", "metadata": {"name": "coredns", "namespace": "kube-system"}}
    set_default_namespace(manifest, "slot")
    assert manifest["metadata"]["namespace"] == "kube-system"
