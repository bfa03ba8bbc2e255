"""Where a Kubernetes object keeps the pods it runs: the facts the Pod Security level, the
agent containment policy and its host folders are computed from."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

POD_SPEC_PATHS: Mapping[str, tuple[str, ...]] = {
    "Pod": ("spec",),
    "ReplicationController": ("spec", "template", "spec"),
    "Deployment": ("spec", "template", "spec"),
    "StatefulSet": ("spec", "template", "spec"),
    "DaemonSet": ("spec", "template", "spec"),
    "ReplicaSet": ("spec", "template", "spec"),
    "Job": ("spec", "template", "spec"),
    "CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
}
"""Every built-in kind that runs pods, and where its pod spec is."""

CONTAINER_LISTS = ("containers", "initContainers", "ephemeralContainers")


def _at(node: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        if not isinstance(node, Mapping):
            return None
        node = node.get(key)
    return node


def pod_spec(manifest: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The pod spec of a Pod or of a workload's pod template, or None."""
    path = POD_SPEC_PATHS.get(str(manifest.get("kind")))
    spec = _at(manifest, path) if path else None
    return spec if isinstance(spec, Mapping) else None


def pod_metadata(manifest: Mapping[str, Any]) -> Mapping[str, Any]:
    """The metadata of the pods it runs (the Pod's own, or the template's)."""
    path = POD_SPEC_PATHS.get(str(manifest.get("kind")))
    if path is None:
        return {}
    metadata = _at(manifest, (*path[:-1], "metadata"))
    return metadata if isinstance(metadata, Mapping) else {}


def containers(spec: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    """Containers, init containers and ephemeral containers alike."""
    for key in CONTAINER_LISTS:
        items = spec.get(key)
        if isinstance(items, list):
            yield from (item for item in items if isinstance(item, Mapping))


def host_paths(spec: Mapping[str, Any]) -> list[str]:
    """The ``hostPath`` paths of the spec's volumes, in order."""
    volumes = spec.get("volumes")
    paths = []
    for volume in volumes if isinstance(volumes, list) else []:
        host_path = volume.get("hostPath") if isinstance(volume, Mapping) else None
        if isinstance(host_path, Mapping) and isinstance(host_path.get("path"), str):
            paths.append(str(host_path["path"]))
    return paths
