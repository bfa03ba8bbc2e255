"""The one error of the lazily computed template names (codex_stacks/config/scope.py), printed
whole: a value that needs itself, named with the chain of names that leads back to it."""

from __future__ import annotations

import pytest

from tests.config.error_messages import problems_of

CASES = [
    pytest.param(
        "project: demo\nvars:\n  a: '{{ namespace }}'\nnamespace:\n  patterns:\n    dev: 'x{{ a }}'\n"
        "environments:\n  dev: {}\n",
        "services.yaml:3: vars.a: namespace is defined in terms of itself (namespace -> a -> namespace)",
        id="namespace-through-a-var",
    ),
    pytest.param(
        "project: demo\nvars:\n  a: '{{ b }}'\n  b: '{{ namespace }}'\nnamespace:\n  patterns:\n    dev: '{{ a }}'\n"
        "environments:\n  dev: {}\n",
        "services.yaml:3: vars.a: undefined template variable: 'b' is undefined\n"
        "  hint: known variables: base_domain, env, env_or, mode, namespace, project, project_root, registry, slot, "
        "storage, vars, versions",
        id="a-var-sees-only-the-earlier-ones",
    ),
    pytest.param(
        "project: demo\nvars:\n  a: '{{ namespace }}'\n  b: '{{ a }}-x'\nnamespace:\n  patterns:\n    dev: '{{ b }}'\n"
        "environments:\n  dev: {}\n",
        "services.yaml:3: vars.a: namespace is defined in terms of itself (namespace -> b -> a -> namespace)",
        id="longer-chain",
    ),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_what_validate_prints(text: str, expected: str) -> None:
    assert problems_of(text) == expected
