"""The services.yaml reference for people, generated from the model (docs/services-yaml-reference.md).

Every key of services.yaml, of each built-in hook step's ``with:`` and every ``codex:*`` stack
config key, with its type, default and description, comes from the same source as validation and
the JSON Schema: the pydantic models (a field's docstring is its description) and
:data:`codex_stacks.stackconfig.CONFIG_KEYS`. ``codexctl schema --format markdown`` prints it;
a test keeps the checked-in page current.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

HEADER = """\
# `services.yaml` reference

<!-- Generated from the model by `codexctl schema --format markdown > docs/services-yaml-reference.md`;
     do not edit by hand (tests/config/test_reference_doc.py checks it is current). -->

Every key of `services.yaml`, with its type, its default and what it means, as the model that
validates the file defines them. How the file is read (templates, lazy evaluation, what an
item sees) is in [services-yaml.md](services-yaml.md); the same descriptions reach editors through
the JSON Schema (`codexctl schema`, `# yaml-language-server: $schema=…`).

Almost every value may be a template (`{{ … }}`, evaluated for the stack that uses it) instead of
the type shown; names (`project`, item and step names, `from`) are written out. Keys are camelCase.
"""


def _anchor(name: str) -> str:
    return name.lower()


def _type(schema: Mapping[str, Any]) -> str:
    """A field's type in words, with links to the sections of its models."""
    if "$ref" in schema:
        name = str(schema["$ref"]).rsplit("/", 1)[-1]
        return f"[{name}](#{_anchor(name)})"
    if "const" in schema:
        return f"`{json.dumps(schema['const'])}`"
    if "enum" in schema:
        return "one of " + ", ".join(f"`{value}`" for value in schema["enum"])
    for key in ("anyOf", "oneOf"):
        if key in schema:
            parts = [_type(part) for part in schema[key] if part.get("type") != "null"]
            return " or ".join(dict.fromkeys(parts)) or "null"
    kind = schema.get("type")
    if kind == "array":
        return f"list of {_type(schema.get('items') or {})}"
    if kind == "object":
        values = schema.get("additionalProperties")
        if isinstance(values, Mapping) and values:
            return f"map of {_type(values)}"
        patterns = schema.get("patternProperties")
        if isinstance(patterns, Mapping) and patterns:
            inner = next(iter(patterns.values()))
            return f"map of {_type(inner) if inner else 'any value'}"
        return "mapping"
    if kind == "string" and "pattern" in schema:
        return f"string (`{schema['pattern']}`)"
    return str(kind or "any value")


def _cell(text: str) -> str:
    return " ".join(text.replace("|", "\\|").split())


def _prose(text: str) -> str:
    """A description in a table cell: ``<N>`` would be read as an HTML tag."""
    return _cell(text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"))


def _default(schema: Mapping[str, Any], *, required: bool) -> str:
    if required:
        return "required"
    if "default" not in schema:
        return ""
    value = schema["default"]
    if value is None or value in ([], {}):
        return ""
    return f"`{json.dumps(value, ensure_ascii=False)}`"


def _table(schema: Mapping[str, Any]) -> list[str]:
    properties: Mapping[str, Any] = schema.get("properties") or {}
    required = set(schema.get("required") or [])
    lines = ["| key | type | default | description |", "|---|---|---|---|"]
    for key, field in properties.items():
        lines.append(
            f"| `{key}` | {_cell(_type(field))} | {_cell(_default(field, required=key in required))} "
            f"| {_prose(str(field.get('description', '')))} |"
        )
    return lines


def _models_in_order(schema: Mapping[str, Any]) -> list[str]:
    """The models a schema reaches, in the order a reader meets them (depth first)."""
    defs: Mapping[str, Any] = schema.get("$defs") or {}
    order: list[str] = []

    def visit(node: Any) -> None:
        if isinstance(node, Mapping):
            ref = node.get("$ref")
            if isinstance(ref, str):
                name = ref.rsplit("/", 1)[-1]
                if name in defs and name not in order:
                    order.append(name)
                    visit(defs[name])
            for value in node.values():
                visit(value)
        elif isinstance(node, list):
            for value in node:
                visit(value)

    visit({key: value for key, value in schema.items() if key != "$defs"})
    return order


def services_reference() -> str:
    """The whole reference page (Markdown)."""
    from codex_stacks.config.hooks import BUILTIN_HOOKS
    from codex_stacks.config.model import ServicesFile
    from codex_stacks.stackconfig import CONFIG_KEYS

    schema = ServicesFile.model_json_schema(by_alias=True, mode="validation")
    lines = [HEADER, "## The file", "", *_table(schema), ""]
    defs: Mapping[str, Any] = schema.get("$defs") or {}
    for name in _models_in_order(schema):
        model = defs[name]
        lines += [f"## {name}", ""]
        if model.get("description"):
            lines += [_prose(str(model["description"])), ""]
        lines += [*_table(model), ""]
    lines += [
        "## Built-in hook steps",
        "",
        "A step's `use:` names one of these; its `with:` takes the parameters below, checked when",
        "services.yaml loads.",
        "",
    ]
    for use, params in sorted(BUILTIN_HOOKS.items()):
        params_schema = params.model_json_schema(by_alias=True, mode="validation")
        lines += [f"### `{use}`", ""]
        if params_schema.get("description"):
            lines += [_prose(str(params_schema["description"])), ""]
        if params_schema.get("properties"):
            lines += [*_table(params_schema), ""]
        else:
            lines += ["No parameters.", ""]
    lines += [
        "## Stack config (`codex:*`)",
        "",
        "Set per stack in `stacks/Pulumi.<stack>.yaml` (or `pulumi config set`, `-c`); never declared in",
        "`Pulumi.yaml`, which may type or default only keys of its own project (docs/architecture.md).",
        "",
        "| key | default | secret | description |",
        "|---|---|---|---|",
    ]
    for key in CONFIG_KEYS:
        default = "" if key.default is None else f"`{json.dumps(key.default)}`"
        lines.append(f"| `{key.full}` | {default} | {'yes' if key.secret else ''} | {_prose(key.description)} |")
    lines.append("")
    return "\n".join(lines)
