"""A ``codex:vars`` value nested in a mapping or a list is named by its whole path when it is
spliced into a manifest's YAML (``vars.db.host``, ``vars.hosts[1]``), never by its value (a fresh
mutation sample of config, seed 53, found the nested names unread)."""

from __future__ import annotations

from typing import Any

import pytest

from codex_stacks.errors import CombinedError
from codex_stacks.plan import PlanRequest
from codex_stacks.plan.check import check_everything
from tests.config.error_messages import ONE_MANIFEST, project, shown

PLANTED = "x\n  planted: yes"
"""A value that would add a key if spliced into YAML."""


@pytest.mark.parametrize(
    ("values", "expression", "origin"),
    [
        ({"db": {"host": PLANTED}}, "vars.db.host", "vars.db.host"),
        ({"hosts": ["a", PLANTED]}, "vars.hosts[1]", "vars.hosts[1]"),
        ({"deep": {"list": [{"name": PLANTED}]}}, "vars.deep.list[0].name", "vars.deep.list[0].name"),
    ],
)
def test_a_nested_var_is_named_by_its_path(values: dict[str, Any], expression: str, origin: str) -> None:
    manifest = f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\ndata:\n  v: {{{{ 'v-' ~ {expression} }}}}\n"
    folder = project(ONE_MANIFEST, {"cm.yaml": manifest})
    found = check_everything(PlanRequest(stack="dev", project_dir=folder, vars=values))
    text = shown(found[0] if len(found) == 1 else CombinedError(found), folder)
    assert text == (
        f"cm.yaml:6: the value of {origin} is used inside a larger expression here, where its text could "
        "change the YAML of this manifest\n"
        f"  hint: output it on its own, e.g. key: {{{{ {origin} }}}}, or give it to a filter that makes it safe "
        "(| quote)"
    )
    assert "planted" not in text
