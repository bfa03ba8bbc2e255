"""What ``codex.ensure-codex-secrets`` says about a credential it has no value for
(providers/codex_secrets.py): a warning naming where to set it, in state and log."""

from __future__ import annotations

from typing import Any

import pytest

from codex_stacks.components.hooks.providers.codex_secrets import EnsureCodexSecretsProvider
from tests.hooks.helpers import step_props
from tests.support.kube_double import KubeDouble


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        pytest.param([], "no value for Secret github-secret (set codex:githubToken); not created", id="config-only"),
        pytest.param(
            ["CODEX_GH_PAT"],
            "no value for Secret github-secret (set codex:githubToken, CODEX_GH_PAT); not created",
            id="config-or-one-variable",
        ),
        pytest.param(
            ["CODEX_GH_PAT", "GITHUB_TOKEN"],
            "no value for Secret github-secret (set codex:githubToken, CODEX_GH_PAT, GITHUB_TOKEN); not created",
            id="config-or-variables-in-order",
        ),
    ],
)
def test_a_secret_without_a_value_is_a_warning_naming_where_to_set_it(
    kube: KubeDouble,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
    env: list[str],
    expected: str,
) -> None:
    monkeypatch.setenv("CODEX_GH_PAT", "")  # a workflow maps an unset secret to an empty value
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    item: dict[str, Any] = {"name": "github-secret", "key": "CODEX_GH_PAT", "config": "githubToken", "env": env}
    props = step_props(
        "codex.ensure-codex-secrets", {"namespace": "alimentor-dev-3", "secrets": [item]}, stage="beforeApply"
    )
    created = EnsureCodexSecretsProvider().create(props)
    assert created.outs["warnings"] == [expected]
    assert capfd.readouterr().err == f"warning: hook codex/beforeApply/step: {expected}\n"
    assert kube.count("POST") == 0
