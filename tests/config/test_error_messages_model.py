"""Every error of the services.yaml model's own checks (codex_stacks/config/model.py) printed
whole, as ``codexctl validate`` shows it; each bound (a length, a count) just inside and just over.
Environment names are in test_error_messages_loader.py, which checks them at load time."""

from __future__ import annotations

import pytest

from tests.config.error_messages import problems_of

HEAD = "project: demo\nenvironments:\n  dev: {}\n"
"""Every case's keys start on line 4."""
BRANCH_RULE = (
    "letters, digits, '.', '_', '-' and '/' only, no '..', '//', leading '/', '-' or '.', nor a trailing '/', "
    "'.' or '.lock'"
)
URL_RULE = "the repository URL must be https://host/owner/name(.git), without credentials"


def pvc(url: str) -> str:
    return HEAD + f"codex:\n  workspace:\n    source: pvc\n    pvc:\n      repositoryUrl: {url}\n"


CASES = [
    pytest.param(
        HEAD + "codex:\n  timeouts:\n    exec: soon\n",
        "services.yaml:6: codex.timeouts.exec: 'soon' is not a duration (use e.g. 30s, 5m, 1h30m)",
        id="timeout",
    ),
    pytest.param(
        HEAD + "codex:\n  mcp:\n    servers:\n      - {name: a, type: stdio, command: x, env: {TOKEN: {}}}\n",
        "services.yaml:7: codex.mcp.servers[0].env.TOKEN: give exactly one of 'envRef' or 'value'",
        id="env-source-none",
    ),
    pytest.param(
        HEAD + "codex:\n  mcp:\n    servers:\n      - name: a\n        type: stdio\n",
        "services.yaml:7: codex.mcp.servers[0]: an MCP server of type 'stdio' needs command",
        id="mcp-stdio",
    ),
    pytest.param(
        HEAD + "codex:\n  mcp:\n    servers:\n      - name: a\n        type: cluster\n",
        "services.yaml:7: codex.mcp.servers[0]: an MCP server of type 'cluster' needs service, port",
        id="mcp-cluster",
    ),
    pytest.param(
        HEAD + "codex:\n  mcp:\n    servers:\n      - {name: a, type: http, url: u}\n"
        "      - {name: b, type: http, url: u}\n      - {name: a, type: http, url: u}\n",
        "services.yaml:5: codex.mcp: MCP server names must be unique; repeated: a",
        id="mcp-names-twice",
    ),
    pytest.param(
        HEAD + "codex:\n  models: [a, b]\n",
        "services.yaml:4: codex: model 'gpt-5-codex' must be one of models (a, b)",
        id="model-not-in-models",
    ),
    pytest.param(HEAD + "codex:\n  model: a\n  models: [a, " + "m" * 100 + "]\n", "no problem", id="model-100"),
    pytest.param(
        HEAD + "codex:\n  model: a\n  models: [a, " + "m" * 101 + "]\n",
        "services.yaml:6: codex.models[1]: String should have at most 100 characters",
        id="model-101",
    ),
    pytest.param(
        HEAD + "codex:\n  delivery:\n    branch: codex/work\n",
        "services.yaml:6: codex.delivery.branch: the branch pattern must hold {issue} exactly once, "
        "e.g. codex/issue-{issue}",
        id="branch-without-issue",
    ),
    pytest.param(
        HEAD + "codex:\n  delivery:\n    branch: '{issue}/{issue}'\n",
        "services.yaml:6: codex.delivery.branch: the branch pattern must hold {issue} exactly once, "
        "e.g. codex/issue-{issue}",
        id="branch-issue-twice",
    ),
    pytest.param(
        HEAD + "codex:\n  delivery:\n    branch: codex/..{issue}\n",
        f"services.yaml:6: codex.delivery.branch: 'codex/..{{issue}}' is not a usable branch name: {BRANCH_RULE}",
        id="branch-dots",
    ),
    pytest.param(
        HEAD + "codex:\n  delivery:\n    branch: " + "b" * 199 + "{issue}\n", "no problem", id="branch-200-chars"
    ),
    pytest.param(
        HEAD + "codex:\n  delivery:\n    branch: " + "b" * 200 + "{issue}\n",
        f"services.yaml:6: codex.delivery.branch: '{'b' * 200}{{issue}}' is not a usable branch name: {BRANCH_RULE}",
        id="branch-201-chars",
    ),
    pytest.param(
        pvc("http://github.com/a/b.git"),
        f"services.yaml:8: codex.workspace.pvc.repositoryUrl: {URL_RULE}",
        id="repository-http",
    ),
    pytest.param(
        pvc("https://bot:s3cret@github.com/a/b.git"),
        f"services.yaml:8: codex.workspace.pvc.repositoryUrl: {URL_RULE}",
        id="repository-credentials-not-shown",
    ),
    pytest.param(pvc("https://h/" + "r" * 490), "no problem", id="repository-500-chars"),
    pytest.param(
        pvc("https://h/" + "r" * 491),
        f"services.yaml:8: codex.workspace.pvc.repositoryUrl: {URL_RULE}",
        id="repository-501-chars",
    ),
    pytest.param(
        HEAD + "codex:\n  workspace:\n    source: hostPath\n    codeRoot: work\n",
        "services.yaml:7: codex.workspace.codeRoot: codeRoot 'work' must be an absolute folder other than /",
        id="code-root-relative",
    ),
    pytest.param(
        HEAD + "codex:\n  workspace:\n    source: hostPath\n    codeRoot: //\n",
        "services.yaml:7: codex.workspace.codeRoot: codeRoot '//' must be an absolute folder other than /",
        id="code-root-is-root",
    ),
    pytest.param(
        HEAD + "codex:\n  workspace:\n    source: hostPath\n",
        "services.yaml:5: codex.workspace: source hostPath needs codeRoot",
        id="host-path-without-root",
    ),
    pytest.param(
        HEAD + "codex:\n  workspace:\n    source: pvc\n",
        "services.yaml:5: codex.workspace: source pvc needs pvc: {repositoryUrl: …}",
        id="pvc-without-pvc",
    ),
    pytest.param(
        HEAD + "security:\n  runners:\n    - {kind: User, name: ci, namespace: ci}\n",
        "services.yaml:6: security.runners[0]: a ServiceAccount subject needs its namespace; users and groups "
        "have none",
        id="user-with-namespace",
    ),
    pytest.param(
        HEAD + "security:\n  runners:\n    - {kind: ServiceAccount, name: ci}\n",
        "services.yaml:6: security.runners[0]: a ServiceAccount subject needs its namespace; users and groups "
        "have none",
        id="service-account-without-namespace",
    ),
    pytest.param(
        HEAD + "security:\n  networkPolicy:\n    apiServer: [10.0.0.1/32, 10.0.0.300/32]\n",
        "services.yaml:6: security.networkPolicy.apiServer: '10.0.0.300/32' is not a CIDR such as 10.0.0.1/32",
        id="cidr",
    ),
    pytest.param(
        HEAD + 'services:\n  - name: api\n    manifests:\n      - path: "deploy/a\\0.yaml"\n',
        "services.yaml:7: services[0].manifests[0].path: a file path cannot hold a NUL character (\\0)",
        id="manifest-path-nul",
    ),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_what_validate_prints(text: str, expected: str) -> None:
    assert problems_of(text) == expected
