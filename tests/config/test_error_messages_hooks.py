"""Every error of a hook step (codex_stacks/config/hooks.py) printed whole, as ``codexctl
validate`` shows it: the step's action, the built-in's name and its ``with:`` parameters (each
bound just inside and just over), and durations."""

from __future__ import annotations

import pytest

from tests.config.error_messages import problems_of

HEAD = "project: demo\nenvironments:\n  dev: {}\nhooks:\n  beforeAll:\n    - name: step\n"
"""A stack step whose other keys follow on line 7 on."""
AT = "services.yaml:6: hooks.beforeAll[0]"
BUILTINS = (
    "codex.check-dev-host-ports, codex.ensure-codex-secrets, codex.ensure-data-dirs, codex.reuse-dev-tls-secret, "
    "github.comment, kubectl.wait, preflight, sleep"
)
DURATION = "is not a duration (use e.g. 30s, 5m, 1h30m)"


def step(*lines: str) -> str:
    return HEAD + "".join(f"      {line}\n" for line in lines)


CASES = [
    pytest.param(step("run: echo hi"), "no problem", id="run-step"),
    pytest.param(
        step("timeout: 5m"),
        f"{AT}: a hook step needs exactly one of 'use' (a built-in) or 'run' (a bash script)",
        id="no-action",
    ),
    pytest.param(
        step("run: echo hi", "use: sleep"),
        f"{AT}: a hook step needs exactly one of 'use' (a built-in) or 'run' (a bash script)",
        id="two-actions",
    ),
    pytest.param(step("use: slep"), f"{AT}: unknown hook 'slep'; built-ins: {BUILTINS}", id="unknown-built-in"),
    pytest.param(
        step("run: echo hi", "with: {a: 1}"),
        f"{AT}: 'with' is for built-ins; a run: step takes its values from 'env'",
        id="with-on-run",
    ),
    pytest.param(step("use: sleep", "with: {seconds: 3600}"), "no problem", id="sleep-at-the-bound"),
    pytest.param(
        step("use: sleep", "with: {seconds: 3601}"),
        f"{AT}: bad parameters for sleep: with.seconds: Input should be less than or equal to 3600",
        id="sleep-one-over",
    ),
    pytest.param(
        step("use: sleep", "with: {seconds: -1}"),
        f"{AT}: bad parameters for sleep: with.seconds: Input should be greater than or equal to 0",
        id="sleep-negative",
    ),
    pytest.param(
        step("use: sleep", "with: {secs: 3}"),
        f"{AT}: bad parameters for sleep: with.seconds: Field required; "
        "with.secs: Extra inputs are not permitted (did you mean 'seconds'?)",
        id="with-typo",
    ),
    pytest.param(
        step("use: kubectl.wait", "with: {kind: Deployment, name: api, poll_interval: 5}"),
        f"{AT}: bad parameters for kubectl.wait: with.poll_interval: Extra inputs are not permitted "
        "(did you mean 'pollInterval'?)",
        id="with-snake-case",
    ),
    pytest.param(
        step("use: preflight", "with: {colour: red}"),
        f"{AT}: bad parameters for preflight: with.colour: Extra inputs are not permitted",
        id="with-unknown-far",
    ),
    pytest.param(
        step("use: kubectl.wait", "with: {kind: Deployment, name: api, pollInterval: 60}"), "no problem", id="poll-60"
    ),
    pytest.param(
        step("use: kubectl.wait", "with: {kind: Deployment, name: api, pollInterval: 60.5}"),
        f"{AT}: bad parameters for kubectl.wait: with.pollInterval: Input should be less than or equal to 60",
        id="poll-over-60",
    ),
    pytest.param(
        step("use: kubectl.wait", "with: {kind: deployment, name: api, timeout: soon}"),
        f"{AT}: bad parameters for kubectl.wait: with.kind: String should match pattern '^[A-Z][A-Za-z0-9]*$'; "
        f"with.timeout: 'soon' {DURATION}",
        id="wait-kind-and-timeout",
    ),
    pytest.param(
        step("use: codex.check-dev-host-ports", "with: {ports: [1, 65535]}"), "no problem", id="ports-at-the-bounds"
    ),
    pytest.param(
        step("use: codex.check-dev-host-ports", "with: {ports: [0, 65536]}"),
        f"{AT}: bad parameters for codex.check-dev-host-ports: with.ports.0: Input should be greater than or equal "
        "to 1; with.ports.1: Input should be less than or equal to 65535",
        id="ports-over-the-bounds",
    ),
    pytest.param(
        step("use: github.comment", "with: {repository: a/b, number: 0, body: hi}"),
        f"{AT}: bad parameters for github.comment: with.number: Input should be greater than 0",
        id="comment-number-zero",
    ),
    pytest.param(
        step("timeout: soon", "run: echo hi"),
        f"services.yaml:7: hooks.beforeAll[0].timeout: 'soon' {DURATION}",
        id="timeout-word",
    ),
    pytest.param(
        step("timeout: ''", "run: echo hi"),
        f"services.yaml:7: hooks.beforeAll[0].timeout: '' {DURATION}",
        id="timeout-empty",
    ),
    pytest.param(
        step("timeout: -5", "run: echo hi"),
        "services.yaml:7: hooks.beforeAll[0].timeout: a duration cannot be negative",
        id="timeout-negative",
    ),
    pytest.param(step("timeout: 1h30m", "run: echo hi"), "no problem", id="timeout-hours-and-minutes"),
    pytest.param(
        HEAD.replace("name: step", "name: " + "s" * 63) + "      run: echo hi\n", "no problem", id="name-63-chars"
    ),
    pytest.param(
        HEAD.replace("name: step", "name: " + "s" * 64) + "      run: echo hi\n",
        "services.yaml:6: hooks.beforeAll[0].name: String should have at most 63 characters",
        id="name-64-chars",
    ),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_what_validate_prints(text: str, expected: str) -> None:
    assert problems_of(text) == expected
