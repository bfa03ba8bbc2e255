"""What a fresh mutation sample of config (seed 71, after the template budget's tables) found
unread, each as ``codexctl validate`` prints it."""

from __future__ import annotations

import pytest

from tests.config.error_messages import problems_of

HEAD = "project: demo\nenvironments:\n  dev: {}\n"
KNOWN = "base_domain, env, env_or, mode, namespace, project, project_root, registry, slot, storage, vars, versions"
BRANCH_RULE = (
    "letters, digits, '.', '_', '-' and '/' only, no '..', '//', leading '/', '-' or '.', nor a trailing '/', "
    "'.' or '.lock'"
)
FORTY = "a" * 40
UNDEFINED_B = f"undefined template variable: 'b' is undefined\n  hint: known variables: {KNOWN}"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            HEAD + "vars:\n  a: {x: '{{ b }}'}\n  b: 1\n",
            f"services.yaml:5: vars.a.x: {UNDEFINED_B}",
            id="a later var is hidden inside an earlier one's mapping too",
        ),
        pytest.param(
            HEAD + "vars:\n  a: ['{{ b }}']\n  b: 1\n",
            f"services.yaml:5: vars.a[0]: {UNDEFINED_B}",
            id="and inside its list",
        ),
        pytest.param(HEAD + "vars:\n  b: 1\n  a: {x: '{{ b }}'}\n", "no problem", id="an earlier var is seen"),
        pytest.param(
            HEAD + "!!null " + "a" * 50 + ": 1\n",
            f"services.yaml:4: the key '{FORTY}' reads as null, not as a name\n"
            f"  hint: quote it to use it as a name: '{FORTY}':",
            id="a long null key is cut to 40 characters",
        ),
        pytest.param(HEAD + "envVars:\n  V:\n", "no problem", id="an env var declared with nothing"),
        pytest.param(
            HEAD + "codex:\n  workspace:\n    source: hostPath\n    codeRoot: /X\n", "no problem", id="code root /X"
        ),
        pytest.param(
            HEAD + "codex:\n  delivery:\n    branch: -x{issue}\n",
            f"services.yaml:6: codex.delivery.branch: '-x{{issue}}' is not a usable branch name: {BRANCH_RULE}",
            id="a branch starting with -",
        ),
    ],
)
def test_what_validate_prints(text: str, expected: str) -> None:
    assert problems_of(text) == expected
