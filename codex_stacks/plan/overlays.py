"""Per-environment overlays of a service's objects (docs/services-yaml.md, "What becomes what").

The rules follow upstream codexctl's, so an imported project deploys what it deployed there: a
source host mount is ``type: Directory`` unless it says otherwise (a missing checkout fails the
pod instead of being created empty); an ``imagePullPolicy`` the manifest writes is kept (the
environment's fills only a missing one); and a service's image must reach a workload: one named
like the service, or the one ``workload:`` names.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from typing import Any

from codex_stacks.config.model import HostMount, Overlay, PvcMount
from codex_stacks.errors import Location, PlanError
from codex_stacks.plan.kinds import WORKLOAD_KINDS, is_namespaced, pod_spec

HOST_PATH_TYPE = "Directory"
"""A host mount's default type: the folder must exist (upstream's default too)."""


def set_default_namespace(manifest: dict[str, Any], namespace: str) -> None:
    """Namespaced objects without a namespace get the stack's; cluster-scoped ones get none."""
    metadata = manifest.setdefault("metadata", {})
    if is_namespaced(str(manifest.get("kind"))):
        if not metadata.get("namespace"):
            metadata["namespace"] = namespace
    else:
        metadata.pop("namespace", None)


def _named_list(owner: dict[str, Any], field: str) -> list[Any] | None:
    """``owner[field]`` as the list to add to, made when missing or null; ``None`` when the
    manifest wrote something else there, which the plan's pod shape check names at its line."""
    items = owner.get(field)
    if items is None:
        items = owner[field] = []
    return items if isinstance(items, list) else None


def _replace_named(items: list[Any] | None, new: dict[str, Any], *, key: str = "name") -> None:
    if items is None:
        return
    for index, item in enumerate(items):
        if isinstance(item, dict) and item.get(key) == new[key]:
            items[index] = new
            return
    items.append(new)


def _volume(mount: HostMount | PvcMount) -> dict[str, Any]:
    if isinstance(mount, HostMount):
        host_path: dict[str, Any] = {"path": mount.host_path, "type": mount.type or HOST_PATH_TYPE}
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
    """The service's workload (named like the service, or ``workload``) gets image, pull policy and mounts.

    The first container gets the image; init containers that used the first container's
    image get it too (a migration step runs the same build). Those containers also get the
    environment's pull policy where they have none, and the overlay's mounts, replacing
    same-named volumes/mounts.
    """
    if not is_target(manifest, service):
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
        if pull_policy and (image or container is main) and not container.get("imagePullPolicy"):
            container["imagePullPolicy"] = pull_policy
    mounts: Iterable[HostMount | PvcMount] = [*overlay.host_mounts, *overlay.pvc_mounts] if overlay else []
    for mount in mounts:
        _replace_named(_named_list(spec, "volumes"), _volume(mount))
        for container in targets:
            _replace_named(_named_list(container, "volumeMounts"), _volume_mount(mount))
    return result


def is_target(manifest: Mapping[str, Any], workload: str) -> bool:
    """Whether ``manifest`` is the workload named ``workload`` (the one a service's image goes to)."""
    metadata = manifest.get("metadata")
    return manifest.get("kind") in WORKLOAD_KINDS and isinstance(metadata, dict) and metadata.get("name") == workload


def check_image_target(
    manifests: Iterable[Mapping[str, Any]], *, service: str, workload: str | None, where: Location
) -> None:
    """A service with an image must have the workload it goes to among its objects: an image
    that reaches nothing would deploy the manifest's own image silently (upstream's quiet miss)."""
    target = workload or service
    if any(is_target(manifest, target) for manifest in manifests):
        return
    kinds = ", ".join(sorted(WORKLOAD_KINDS))
    if workload:
        message = f"service {service}: workload {workload!r} is not among its objects ({kinds})"
        hint = "workload: names the Deployment (or other workload) of the service's manifests that runs its image"
    else:
        message = (
            f"service {service}: its image goes to no workload: none of its objects ({kinds}) is named {service!r}"
        )
        hint = "name the workload like the service, or say which one with workload:, or remove image:"
    raise PlanError(message, location=where, hint=hint)


def dropped(kind: str, overlay: Overlay | None) -> bool:
    return overlay is not None and kind in overlay.drop_kinds
