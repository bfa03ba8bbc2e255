"""Rendering a component's manifests into Kubernetes objects."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from codex_stacks.config.loader import read_text
from codex_stacks.config.model import ManifestRef
from codex_stacks.config.templating import OutsideValues, render_text, restore_outside
from codex_stacks.config.yamlio import load_documents
from codex_stacks.errors import CodexError, Location, PlanError


@dataclass(frozen=True, slots=True)
class KubeObject:
    """One rendered Kubernetes object and where it came from."""

    manifest: Mapping[str, Any]
    source: Path
    line: int
    secret_paths: tuple[str, ...] = ()
    """Fields holding a declared secret variable's value (``data.password``): masked in previews,
    secret in Pulumi state."""

    @property
    def api_version(self) -> str:
        return str(self.manifest["apiVersion"])

    @property
    def kind(self) -> str:
        return str(self.manifest["kind"])

    @property
    def name(self) -> str:
        return str(self.manifest["metadata"]["name"])

    @property
    def namespace(self) -> str | None:
        value = self.manifest.get("metadata", {}).get("namespace")
        return str(value) if value else None

    @property
    def key(self) -> str:
        """``Kind/namespace/name`` (or ``Kind/name`` when cluster-scoped): unique in a stack."""
        return "/".join(part for part in (self.kind, self.namespace, self.name) if part)


def manifest_path(project_dir: Path, ref: ManifestRef, *, where: str) -> Path:
    """The manifest file, which must stay inside the project folder."""
    root = project_dir.resolve()
    try:
        path = (root / ref.path).resolve()
    except (OSError, RuntimeError):  # a link loop (RuntimeError before Python 3.13), a name too long
        raise PlanError(
            f"manifest path {ref.path!r} cannot be resolved (a symbolic link loop?)", location=Location(path=where)
        ) from None
    if not path.is_relative_to(root):
        raise PlanError(
            f"manifest path {ref.path!r} leaves the project folder",
            location=Location(path=where),
            hint="manifest paths are relative to the folder of services.yaml",
        )
    return path


def _check_object(doc: Any, *, source: Path, line: int) -> dict[str, Any]:
    where = Location(file=source, line=line)
    if not isinstance(doc, dict):
        raise PlanError(
            f"a manifest document must be a mapping (a Kubernetes object), not {type(doc).__name__}",
            location=where,
        )
    for key in ("apiVersion", "kind"):
        if not isinstance(doc.get(key), str) or not doc[key]:
            raise PlanError(f"the object has no {key!r}", location=where)
    metadata = doc.get("metadata")
    if not isinstance(metadata, dict) or not isinstance(metadata.get("name"), str) or not metadata["name"]:
        raise PlanError(
            f"the {doc['kind']} has no metadata.name",
            location=where,
            hint="generateName is not supported: Pulumi needs a stable name per object",
        )
    return doc


def render_manifest(
    path: Path,
    scope: Mapping[str, Any],
    *,
    where: str,
    known: OutsideValues | None = None,
    root: Path | None = None,
) -> list[KubeObject]:
    """Every non-empty document of a manifest template, checked to be a Kubernetes object.

    Outside values (``env_or()``, ``codex:vars``) come back into the parsed documents as exactly
    their text (see codex_stacks/config/templating.py), so they can never add structure."""
    try:
        text = read_text(path, root=root)
    except PlanError:
        raise
    except CodexError as exc:  # a ConfigError: re-raise with the key path that named the file
        raise PlanError(
            exc.message,
            location=Location(file=path, line=exc.location.line, path=where),
            hint=exc.hint or "check the manifests[].path entry",
        ) from None
    rendered = render_text(text, scope, source=path, known=known or OutsideValues())
    objects: list[KubeObject] = []
    for line, doc in load_documents(rendered.text, source=path):
        if doc is None:
            continue
        secret_paths: list[str] = []
        restored = restore_outside(doc, rendered.outside, secret_paths)
        objects.append(
            KubeObject(
                manifest=_check_object(restored, source=path, line=line),
                source=path,
                line=line,
                secret_paths=tuple(secret_paths),
            )
        )
    return objects
