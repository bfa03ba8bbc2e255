"""The repair store (docs/repair.md): a store written in a format this version does not know is
refused with a message that names that format, so the user sees which release wrote it.

Written against a mutant of codex_stacks/plan/store.py that lived in a fresh sample (seed 29,
issue #19).
"""

from __future__ import annotations

import json

import pytest

from codex_stacks.errors import PlanError
from codex_stacks.plan.store import load


def test_a_store_of_an_unknown_format_is_refused_naming_that_format() -> None:
    # what a later release might write: the same envelope keys, a format name this one never wrote
    text = json.dumps({"format": "codex-stacks/repair-store/7", "stack": "dev", "sha256": "0" * 64, "plan": ""})
    with pytest.raises(PlanError) as caught:
        load(text, stack="dev", namespace="demo-dev")
    assert caught.value.message == (
        "the registrations stored by the last normal run cannot be used: unknown format 'codex-stacks/repair-store/7'"
    )
