"""The JSON Schema of services.yaml as written (with templates), generated from the model.

The model describes evaluated values; a file may put a template (``{{ … }}``) in almost any
value instead, so every value that is not already a free string also accepts a template here.
Names (``project``, item and step names, ``from``) stay plain: they are fixed for every stack.
"""

from __future__ import annotations

import copy
from typing import Any

from codex_stacks.config.model import ServicesFile

SCHEMA_ID = "https://codex-stacks.dev/schemas/services.schema.json"
TEMPLATE_REF = {"$ref": "#/$defs/Template"}
TEMPLATE = {
    "type": "string",
    "pattern": r"\{\{",
    "description": "A template: {{ expression }} in a value, evaluated for the stack that uses it "
    "(exactly one expression keeps its type).",
}
PLAIN_KEYS = frozenset({"project", "name", "from"})
_KEEP_OUTSIDE = ("description", "title", "default")


def _is_free_string(schema: dict[str, Any]) -> bool:
    return schema.get("type") == "string" and not ({"pattern", "enum", "const", "maxLength", "minLength"} & set(schema))


def _templated(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` or a template in its place."""
    if _is_free_string(schema) or schema == TEMPLATE_REF:
        return schema
    inner = {key: value for key, value in schema.items() if key not in _KEEP_OUTSIDE}
    outer = {key: schema[key] for key in _KEEP_OUTSIDE if key in schema}
    alternatives = inner["anyOf"] if set(inner) == {"anyOf"} else [inner]
    return {**outer, "anyOf": [*alternatives, TEMPLATE_REF]}


def _loosen(schema: Any, *, key: str | None = None) -> Any:
    if isinstance(schema, list):
        return [_loosen(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    result: dict[str, Any] = {}
    for name, value in schema.items():
        if name == "properties" and isinstance(value, dict):
            result[name] = {prop: _value(sub, key=prop) for prop, sub in value.items()}
        elif name in ("items", "additionalProperties") and isinstance(value, dict):
            result[name] = _value(value, key=None)
        else:
            result[name] = _loosen(value)
    return result


def _value(schema: dict[str, Any], *, key: str | None) -> dict[str, Any]:
    loosened = _loosen(schema)
    return loosened if key in PLAIN_KEYS else _templated(loosened)


def services_schema() -> dict[str, Any]:
    schema = copy.deepcopy(ServicesFile.model_json_schema(by_alias=True, mode="validation"))
    loosened = _loosen(schema)
    loosened.setdefault("$defs", {})["Template"] = copy.deepcopy(TEMPLATE)
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": SCHEMA_ID, **loosened}
