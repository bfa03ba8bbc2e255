"""Rendering a component's manifests into Kubernetes objects."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from difflib import SequenceMatcher
from pathlib import Path
from typing import Any

from codex_stacks.config.loader import read_text
from codex_stacks.config.model import ManifestRef
from codex_stacks.config.templating import OutsideValues, render_text, restore_outside
from codex_stacks.config.yamlio import load_documents
from codex_stacks.errors import CodexError, ConfigError, Location, PlanError


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
    in_file = file_lines(text, rendered.text)
    objects: list[KubeObject] = []
    try:
        for rendered_line, doc in load_documents(rendered.text, source=path):
            if doc is None:
                continue
            line = in_file(rendered_line)
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
    except ConfigError as exc:  # invalid YAML: located in the file, not in the rendered text
        if exc.location.line:
            exc.location = replace(exc.location, line=in_file(exc.location.line))
        raise
    return objects


MAPPED_LINES = 5000
"""Past this many lines a rendered manifest keeps its rendered line numbers (aligning costs more)."""


def file_lines(template: str, rendered: str) -> Callable[[int], int]:
    """Line ``n`` of the rendered text → the line of the template it came from.

    A Jinja comment, a ``{% if %}`` block or whitespace control removes lines as it renders, so a
    line counted in the rendered text is not the line a user edits. The lines both texts share
    (the ones without a template in them) are aligned (difflib); a line between two aligned runs
    counts on from the run before it, never past the run after it."""
    if template == rendered:
        return lambda line: line
    template_lines = template.splitlines()
    rendered_lines = rendered.splitlines()
    if not template_lines or max(len(template_lines), len(rendered_lines)) > MAPPED_LINES:
        return lambda line: line
    runs = [run for run in SequenceMatcher(None, template_lines, rendered_lines).get_matching_blocks() if run.size]
    if not runs:
        return lambda line: line

    def in_file(line: int) -> int:
        index = line - 1
        before: tuple[int, int] | None = None  # (template, rendered) index just past the last run before
        for start, rendered_start, size in runs:
            if rendered_start <= index < rendered_start + size:
                return start + index - rendered_start + 1
            if index < rendered_start:  # between runs: count on from the run before, up to this one
                counted = before[0] + index - before[1] if before else start - (rendered_start - index)
                return min(max(counted, before[0] if before else 0), start - 1 if before else start) + 1
            before = (start + size, rendered_start + size)
        assert before is not None
        return min(before[0] + index - before[1], len(template_lines) - 1) + 1

    return in_file
