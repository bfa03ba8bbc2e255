"""One Kubernetes object → one custom resource of the kubernetes provider, registered by type token.

The object is registered as ``kubernetes:<apiVersion>:<kind>`` with every top-level field of the
manifest — what the SDK's typed classes (``pulumi_kubernetes.apps.v1.Deployment`` …) send too —
through the stack's explicit provider, so the provider plugin's version is the provider
resource's. The typed classes are not used: importing them costs more than the rest of a
preview (``make bench``), and what they add is kept or not needed here — a Secret's ``data`` and
``stringData`` are secret inputs and secret outputs as the typed ``Secret`` makes them; their
aliases name API versions (``extensions/v1beta1`` …) that no supported cluster serves.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi

ADOPT_ANNOTATION = "pulumi.com/patchForce"
"""With server-side apply, forces ownership of fields another manager (kubectl, the old tool) set."""
SECRET_FIELDS = ("data", "stringData")
"""A Secret's fields the typed ``pulumi_kubernetes.core.v1.Secret`` keeps secret, in and out."""


def type_token(api_version: str, kind: str) -> str:
    """The provider's type of a kind: ``kubernetes:<group>/<version>:<kind>``, the core group
    (``apiVersion: v1``) named ``core`` as the provider's schema names it."""
    group_version = api_version if "/" in api_version else f"core/{api_version}"
    return f"kubernetes:{group_version}:{kind}"


class KubernetesObject(pulumi.CustomResource):
    """A custom resource with every top-level field (the SDK's CustomResource keeps only spec)."""

    def __init__(self, resource_name: str, manifest: Mapping[str, Any], opts: pulumi.ResourceOptions) -> None:
        token = type_token(str(manifest["apiVersion"]), str(manifest["kind"]))
        props = dict(manifest)
        props.setdefault("status", None)
        super().__init__(token, resource_name, props, opts)


def _secret_fields(manifest: dict[str, Any], opts: pulumi.ResourceOptions) -> pulumi.ResourceOptions:
    """A Secret's data as secret inputs, and its outputs of the same name secret too."""
    if manifest.get("kind") != "Secret":
        return opts
    for key in SECRET_FIELDS:
        if manifest.get(key) is not None:
            manifest[key] = pulumi.Output.secret(manifest[key])
    return pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(additional_secret_outputs=list(SECRET_FIELDS)))


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
    """Register one object; ``adopt`` forces server-side apply conflicts (only on the up that
    takes over the old tool's objects)."""
    body = with_adoption(manifest) if adopt else dict(manifest)
    opts = _secret_fields(body, opts)
    return KubernetesObject(name, body, opts)
