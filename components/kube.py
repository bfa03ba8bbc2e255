"""One Kubernetes object → one pulumi_kubernetes resource of its own typed class."""

from __future__ import annotations

import importlib
import inspect
import re
from collections.abc import Mapping
from functools import cache
from typing import Any

import pulumi

_CORE_GROUPS = {"": "core", "apps": "apps", "batch": "batch", "policy": "policy", "autoscaling": "autoscaling"}
_CAMEL_RE = re.compile(r"(?<!^)(?=[A-Z])")
ADOPT_ANNOTATION = "pulumi.com/patchForce"
"""With server-side apply, forces ownership of fields another manager (kubectl, the old tool) set."""


def _module_for(api_version: str) -> str | None:
    group, _, version = api_version.rpartition("/")
    if group in _CORE_GROUPS:
        package = _CORE_GROUPS[group]
    elif group.endswith(".k8s.io"):
        package = group.split(".")[0]
    else:
        return None
    return f"pulumi_kubernetes.{package}.{version}"


@cache
def typed_class(api_version: str, kind: str) -> type[pulumi.CustomResource] | None:
    """The SDK's class for a built-in kind (``apps/v1`` Deployment → ``apps.v1.Deployment``)."""
    module_name = _module_for(api_version)
    if module_name is None:
        return None
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        return None
    cls = getattr(module, kind, None)
    return cls if isinstance(cls, type) and issubclass(cls, pulumi.CustomResource) else None


@cache
def _fields(cls: type[pulumi.CustomResource]) -> frozenset[str]:
    init = getattr(cls, "_internal_init")  # noqa: B009  (generated per class, not in the type stubs)
    return frozenset(inspect.signature(init).parameters) - {
        "__self__",
        "__props__",
        "resource_name",
        "opts",
    }  # type: ignore[attr-defined]


def snake(name: str) -> str:
    return _CAMEL_RE.sub("_", name).lower()


class GenericObject(pulumi.CustomResource):
    """A custom resource with every top-level field (the SDK's CustomResource keeps only spec)."""

    def __init__(self, resource_name: str, manifest: Mapping[str, Any], opts: pulumi.ResourceOptions) -> None:
        token = f"kubernetes:{manifest['apiVersion']}:{manifest['kind']}"
        props = dict(manifest)
        props.setdefault("status", None)
        super().__init__(token, resource_name, props, opts)


def _secret_fields(manifest: dict[str, Any]) -> dict[str, Any]:
    if manifest.get("kind") == "Secret":
        for key in ("data", "stringData"):
            if manifest.get(key) is not None:
                manifest[key] = pulumi.Output.secret(manifest[key])
    return manifest


def with_adoption(manifest: Mapping[str, Any]) -> dict[str, Any]:
    """The manifest with the annotation that lets the first ``up`` adopt existing objects."""
    result = dict(manifest)
    metadata = dict(result.get("metadata") or {})
    metadata["annotations"] = {**(metadata.get("annotations") or {}), ADOPT_ANNOTATION: "true"}
    result["metadata"] = metadata
    return result


def kube_resource(
    name: str, manifest: Mapping[str, Any], opts: pulumi.ResourceOptions, *, adopt: bool = False
) -> pulumi.CustomResource:
    """Register one object, typed when the SDK knows its kind, generic otherwise; ``adopt`` forces
    server-side apply conflicts (only on the up that takes over the old tool's objects)."""
    body = _secret_fields(with_adoption(manifest) if adopt else dict(manifest))
    cls = typed_class(str(body["apiVersion"]), str(body["kind"]))
    if cls is not None:
        kwargs = {snake(key): value for key, value in body.items()}
        accepted = _fields(cls)  # type: ignore[arg-type]
        if set(kwargs) <= accepted:
            return cls(name, opts=opts, **kwargs)  # type: ignore[call-arg]
    return GenericObject(name, body, opts)
