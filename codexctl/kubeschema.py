"""Offline validation of Kubernetes objects against the official JSON schemas."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

DEFAULT_KUBERNETES_VERSION = "1.33"


@dataclass(frozen=True, slots=True)
class SchemaProblem:
    """One object that does not match its schema (``message`` says where in the object)."""

    message: str


class NoSchemaError(Exception):
    """No schema ships for this kind (a custom resource): only its structure was checked."""


@lru_cache(maxsize=256)
def _validator(version: str, api_version: str, kind: str) -> Any:
    import jsonschema
    import kubernetes_validate.utils as kv
    from referencing import Registry, Resource

    available = [v for v in kv.all_versions() if kv.major_minor(v) <= kv.major_minor(version)]
    if not available:
        raise NoSchemaError(f"no schemas for Kubernetes {version}")
    schema_dir = f"v{available[-1]}-local-strict"
    group_version = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
    try:
        schema = kv.schema_contents(f"kubernetes-json-schema/{schema_dir}/{kind.lower()}-{group_version}.json", version)
    except FileNotFoundError:
        raise NoSchemaError(f"no schema for {api_version} {kind}") from None
    definitions = kv.schema_contents(f"kubernetes-json-schema/{schema_dir}/_definitions.json", version)
    registry: Registry[Any] = Resource.from_contents(definitions) @ (Resource.from_contents(schema) @ Registry())
    return jsonschema.validators.Draft202012Validator(schema, registry=registry)


def check_object(manifest: Mapping[str, Any], *, version: str = DEFAULT_KUBERNETES_VERSION) -> list[SchemaProblem]:
    """Problems of one object (strict: unknown fields are problems); NoSchemaError for custom kinds."""
    validator = _validator(version, str(manifest["apiVersion"]), str(manifest["kind"]))
    problems = []
    for error in sorted(validator.iter_errors(dict(manifest)), key=lambda e: list(e.absolute_path)):
        where = ".".join(str(part) for part in error.absolute_path) or "(top level)"
        problems.append(SchemaProblem(f"{where}: {_describe(error)}"))
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
