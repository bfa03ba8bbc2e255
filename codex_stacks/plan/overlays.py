"""Per-environment overlays of a service's objects (SPEC §4.2)."""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import Any

from codex_stacks.config.model import HostMount, Overlay, PvcMount
from codex_stacks.plan.kinds import WORKLOAD_KINDS, is_namespaced, pod_spec


def set_default_namespace(manifest: dict[str, Any], namespace: str) -> None:
    """Namespaced objects without a namespace get the stack's; cluster-scoped ones get none."""
    metadata = manifest.setdefault("metadata", {})
    if is_namespaced(str(manifest.get("kind"))):
        if not metadata.get("namespace"):
            metadata["namespace"] = namespace
    else:
        metadata.pop("namespace", None)


def _replace_named(items: list[dict[str, Any]], new: dict[str, Any], *, key: str = "name") -> None:
    for index, item in enumerate(items):
        if isinstance(item, dict) and item.get(key) == new[key]:
            items[index] = new
            return
    items.append(new)


def _volume(mount: HostMount | PvcMount) -> dict[str, Any]:
    if isinstance(mount, HostMount):
        host_path: dict[str, Any] = {"path": mount.host_path}
        if mount.type:
            host_path["type"] = mount.type
        return {"name": mount.name, "hostPath": host_path}
    claim: dict[str, Any] = {"claimName": mount.claim_name}
    if mount.read_only:
        claim["readOnly"] = True
    return {"name": mount.name, "persistentVolumeClaim": claim}


def _volume_mount(mount: HostMount | PvcMount) -> dict[str, Any]:
    result: dict[str, Any] = {"name": mount.name, "mountPath": mount.mount_path}
    if isinstance(mount, PvcMount) and mount.sub_path:
        result["subPath"] = mount.sub_path
    if mount.read_only:
        result["readOnly"] = True
    return result


def apply_service_overlay(
    manifest: dict[str, Any],
    *,
    service: str,
    image: str | None,
    overlay: Overlay | None,
    pull_policy: str | None,
) -> dict[str, Any]:
    """The service's workload (same name as the service) gets image, pull policy and mounts.

    The first container gets the image; init containers that used the first container's
    image get it too (a migration step runs the same build). Those containers also get the
    environment's pull policy and the overlay's mounts, replacing same-named volumes/mounts.
    """
    if manifest.get("kind") not in WORKLOAD_KINDS or manifest.get("metadata", {}).get("name") != service:
        return manifest
    result = copy.deepcopy(manifest)
    spec = pod_spec(result)
    if spec is None:
        return result
    containers = [c for c in spec.get("containers") or [] if isinstance(c, dict)]
    if not containers:
        return result
    main = containers[0]
    original_image = main.get("image")
    targets = [main] + [
        c
        for c in spec.get("initContainers") or []
        if isinstance(c, dict) and original_image is not None and c.get("image") == original_image
    ]
    for container in targets:
        if image:
            container["image"] = image
        if pull_policy and (image or container is main):
            container["imagePullPolicy"] = pull_policy
    mounts: Iterable[HostMount | PvcMount] = [*overlay.host_mounts, *overlay.pvc_mounts] if overlay else []
    for mount in mounts:
        volumes = spec.setdefault("volumes", [])
        _replace_named(volumes, _volume(mount))
        for container in targets:
            _replace_named(container.setdefault("volumeMounts", []), _volume_mount(mount))
    return result


def dropped(kind: str, overlay: Overlay | None) -> bool:
    return overlay is not None and kind in overlay.drop_kinds
