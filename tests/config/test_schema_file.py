"""The JSON Schema checked in for editors is the one the model generates today."""

from __future__ import annotations

import json

from codex_stacks.config.schema import services_schema
from tests.conftest import REPO_ROOT

SCHEMA_FILE = REPO_ROOT / "schemas" / "services.schema.json"


def test_checked_in_schema_is_up_to_date() -> None:
    checked_in = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    assert checked_in == services_schema(), "run: codexctl schema --out schemas/services.schema.json"
