"""Top-level ``vars`` (codex_stacks/config/settings.py, docs/services-yaml.md), where a sixth
sampled mutation run (tools/mutation.py config --sample 60 --seed 43 --recheck) found that no
test held the rule "a var sees only the vars above it" for an item of a list: each item of a
var's list is evaluated with the same names as the var itself."""

from __future__ import annotations

from tests.config.error_messages import problems_of

KNOWN = (
    "  hint: known variables: base_domain, env, env_or, mode, namespace, project, project_root, "
    "registry, slot, storage, vars, versions"
)
TAIL = "namespace:\n  patterns:\n    dev: '{{ a[1] }}'\nenvironments:\n  dev: {}\n"
"""The namespace pattern reads the list's second item, so the item is evaluated."""


def test_an_item_of_a_vars_list_cannot_see_a_var_below_it() -> None:
    text = "project: demo\nvars:\n  a:\n    - plain\n    - '{{ b }}'\n  b: later\n" + TAIL
    assert problems_of(text) == f"services.yaml:5: vars.a[1]: undefined template variable: 'b' is undefined\n{KNOWN}"


def test_an_item_of_a_vars_list_cannot_see_its_own_var() -> None:
    text = "project: demo\nvars:\n  a:\n    - plain\n    - '{{ a }}'\n" + TAIL
    assert problems_of(text) == f"services.yaml:5: vars.a[1]: undefined template variable: 'a' is undefined\n{KNOWN}"


def test_an_item_of_a_vars_list_sees_the_vars_above_it() -> None:
    text = "project: demo\nvars:\n  b: early\n  a:\n    - plain\n    - '{{ b }}-x'\n" + TAIL
    assert problems_of(text) == "no problem"
