"""Offline validation of Kubernetes objects against the official JSON schemas."""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from codex_stacks.errors import CodexError, Location

DEFAULT_KUBERNETES_VERSION = "1.33"
_VERSION_RE = re.compile(r"^v?(\d+)\.(\d+)(?:\.\d+)?$")


@dataclass(frozen=True, slots=True)
class SchemaProblem:
    """One object that does not match its schema: what is wrong, and at which field."""

    message: str
    path: tuple[str | int, ...] = field(default=())
    """Key path of the offending field inside the object (empty: the object itself)."""
    line_path: tuple[str | int, ...] | None = None
    """Where its line is, when that is deeper than ``path`` (an unknown field inside ``path``)."""


class NoSchemaError(Exception):
    """No schema ships for this kind (a custom resource): only its structure was checked."""


class UnsupportedVersionError(CodexError):
    """No schemas ship for this Kubernetes version (or it is not a version at all)."""


def _parse(version: str) -> tuple[int, int] | None:
    match = _VERSION_RE.match(version.strip())
    return (int(match.group(1)), int(match.group(2))) if match else None


@lru_cache(maxsize=1)
def _schema_versions() -> dict[tuple[int, int], str]:
    """(major, minor) → the name the bundled schemas use for it (``1.33.0``)."""
    import kubernetes_validate.utils as kv

    found: dict[tuple[int, int], str] = {}
    for name in kv.all_versions():
        parsed = _parse(name)
        if parsed is not None:
            found[parsed] = name
    return dict(sorted(found.items()))


def supported_versions() -> list[str]:
    """The Kubernetes versions schemas ship for, oldest first (``1.25``, …)."""
    return [f"{major}.{minor}" for major, minor in _schema_versions()]


def schema_version(version: str) -> str:
    """``1.33``, ``v1.33`` or ``1.33.2`` → ``1.33``; UnsupportedVersionError when no schemas ship for it."""
    supported = supported_versions()
    available = f"{supported[0]} to {supported[-1]}" if supported else "none"
    parsed = _parse(version)
    if parsed is None:
        raise UnsupportedVersionError(
            f"{version!r} is not a Kubernetes version",
            location=Location(path="--kubernetes-version"),
            hint=f"give major.minor, e.g. {DEFAULT_KUBERNETES_VERSION} (available {available})",
        )
    if parsed not in _schema_versions():
        raise UnsupportedVersionError(
            f"no schemas for Kubernetes {parsed[0]}.{parsed[1]}",
            location=Location(path="--kubernetes-version"),
            hint=f"available {available}",
        )
    return f"{parsed[0]}.{parsed[1]}"


def _schema_dir(version: str) -> str:
    parsed = _parse(schema_version(version))
    assert parsed is not None  # schema_version accepted it
    return f"kubernetes-json-schema/v{_schema_versions()[parsed]}-local-strict"


@lru_cache(maxsize=4)
def _definitions(version: str) -> Any:
    import kubernetes_validate.utils as kv

    return kv.schema_contents(f"{_schema_dir(version)}/_definitions.json", version)


@lru_cache(maxsize=4)
def _built_in(version: str) -> dict[str, dict[str, set[str]]]:
    """Built-in API groups of a version: group → version → kinds."""
    groups: dict[str, dict[str, set[str]]] = {}
    for definition in (_definitions(version).get("$defs") or {}).values():
        if isinstance(definition, Mapping):
            for gvk in definition.get("x-kubernetes-group-version-kind") or []:
                groups.setdefault(gvk["group"], {}).setdefault(gvk["version"], set()).add(gvk["kind"])
    return groups


def _split(api_version: str) -> tuple[str, str]:
    group, _, version = api_version.rpartition("/")
    return group, version


def _unknown_kind(version: str, api_version: str, kind: str) -> str | None:
    """Why a built-in group does not have this kind at this version, or None (custom resource)."""
    group, group_version = _split(api_version)
    built_in = _built_in(version)
    if group not in built_in and "." in group:
        return None  # custom resource groups always have a dot; no schema ships for them
    versions = built_in.get(group, {})
    if kind in versions.get(group_version, set()):
        return None
    elsewhere = sorted(f"{group}/{v}" if group else v for v, kinds in versions.items() if kind in kinds)
    if elsewhere:
        return f"{api_version} {kind} does not exist in Kubernetes {version}; use {' or '.join(elsewhere)}"
    if not versions:
        return f"{api_version} is not an API version of Kubernetes {version}"
    known = sorted(set().union(*versions.values()))
    close = difflib.get_close_matches(kind, known, n=1, cutoff=0.6)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return f"{api_version} has no kind {kind!r} in Kubernetes {version}{hint}"


@lru_cache(maxsize=256)
def _validator(version: str, api_version: str, kind: str) -> Any:
    import jsonschema
    import kubernetes_validate.utils as kv
    from referencing import Registry, Resource

    group, group_version = _split(api_version)
    if group not in _built_in(version) and "." in group:
        raise NoSchemaError(f"no schema for {api_version} {kind}")
    file_group = f"{group.split('.')[0]}-{group_version}" if group else group_version
    try:
        schema = kv.schema_contents(f"{_schema_dir(version)}/{kind.lower()}-{file_group}.json", version)
    except FileNotFoundError:
        return None  # a built-in group without this kind: _unknown_kind says why
    registry: Registry[Any] = Resource.from_contents(_definitions(version)) @ (
        Resource.from_contents(schema) @ Registry()
    )
    return jsonschema.validators.Draft202012Validator(schema, registry=registry)


def check_object(manifest: Mapping[str, Any], *, version: str = DEFAULT_KUBERNETES_VERSION) -> list[SchemaProblem]:
    """Problems of one object (strict: unknown fields are problems).

    NoSchemaError only for custom resources; a built-in kind missing from this Kubernetes
    version is a problem; UnsupportedVersionError when no schemas ship for ``version``.
    """
    version = schema_version(version)
    api_version, kind = str(manifest["apiVersion"]), str(manifest["kind"])
    validator = _validator(version, api_version, kind)
    unknown = _unknown_kind(version, api_version, kind)
    if unknown is not None or validator is None:
        return [SchemaProblem(unknown or f"no schema for {api_version} {kind} in Kubernetes {version}", ("kind",))]
    problems = []
    for error in sorted(validator.iter_errors(dict(manifest)), key=lambda e: [str(p) for p in e.absolute_path]):
        path = tuple(error.absolute_path)
        line_path = None
        if error.validator == "additionalProperties" and isinstance(error.instance, Mapping):
            extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
            line_path = path + tuple(extra[:1])  # the line of the (first) unknown field
        problems.append(SchemaProblem(_describe(error), path, line_path))
    return problems


def _describe(error: Any) -> str:
    """The schema error without the offending value: it may be a secret (a misplaced stringData)."""
    validator, expected = error.validator, error.validator_value
    if validator == "type":
        return f"must be of type {' or '.join(expected) if isinstance(expected, list) else expected}"
    if validator == "additionalProperties":
        extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
        return f"unknown field{'s' if len(extra) > 1 else ''} {', '.join(map(repr, extra))}"
    if validator == "required":
        return str(error.message).split(" is a required")[0] + " is required"
    if validator == "enum":
        return f"must be one of {', '.join(map(str, expected))}"
    return f"does not match the schema ({validator}: {expected})"
