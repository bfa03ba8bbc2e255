"""Evaluating a section of services.yaml (codex_stacks/config/settings.py), where a fresh
sampled mutation run (tools/mutation.py config --sample 60 --seed 29) found behaviour no
in-process test held."""

from __future__ import annotations

import pytest

from codex_stacks.errors import CodexError, CombinedError
from tests.config.conftest import load


def test_a_required_key_whose_template_fails_is_reported_once() -> None:
    """dataPaths.root is required: its failed template is the problem, not a missing key."""
    with pytest.raises(CodexError) as info:
        load("project: demo\ndataPaths:\n  root: '{{ nowhere }}'\n")
    error = info.value
    found = error.problems if isinstance(error, CombinedError) else [error]
    assert [(p.message, p.location.path, p.location.line) for p in found] == [
        ("undefined template variable: 'nowhere' is undefined", "dataPaths.root", 3)
    ]
