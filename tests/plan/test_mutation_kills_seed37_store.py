"""A repair run without targets and without a usable store (docs/repair.md): the refusal says
why and gives the command that works instead, the targeted repair.

Written against a mutant of codex_stacks/plan/store.py that lived in a fresh sample (seed 37,
issue #19).
"""

from __future__ import annotations

import pytest

from codex_stacks.errors import PlanError
from codex_stacks.plan.store import load


def test_a_missing_store_is_refused_with_the_targeted_repair_command() -> None:
    with pytest.raises(PlanError) as caught:
        load("", stack="ai-slot-3", namespace="demo-ai-3")
    assert str(caught.value) == (
        "the registrations stored by the last normal run cannot be used: stack ai-slot-3 has no repairStore "
        "output (no normal run since repair learned to store)\n"
        "  hint: run the repair with the repair set's targets instead: pulumi up -s <stack> -c codex:mode=repair "
        "$(codexctl repair-targets -s <stack> | sed 's/^/--target /')"
    )
