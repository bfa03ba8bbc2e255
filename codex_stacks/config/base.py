"""The base of every services.yaml model: camelCase keys, unknown keys forbidden, immutable."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel


class Model(BaseModel):
    """A services.yaml mapping: keys are camelCase, unknown keys are errors."""

    model_config = ConfigDict(
        extra="forbid",
        alias_generator=to_camel,
        # Python code may build models by field name (Overlay(drop_kinds=…)); files may not:
        # the loader validates documents with by_alias=True, by_name=False (validate_document).
        populate_by_name=True,
        frozen=True,
        str_strip_whitespace=False,
        # a field's docstring is its description in the JSON Schema (codexctl schema) and in
        # docs/services-yaml-reference.md: every key says what it is where an editor shows it
        use_attribute_docstrings=True,
    )
