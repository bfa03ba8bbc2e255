"""The JSON Schema of services.yaml, generated from the model (never written by hand)."""

from __future__ import annotations

from typing import Any

from codex_stacks.config.model import ServicesFile

SCHEMA_ID = "https://codex-stacks.dev/schemas/services.schema.json"


def services_schema() -> dict[str, Any]:
    schema = ServicesFile.model_json_schema(by_alias=True, mode="validation")
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": SCHEMA_ID, **schema}
