"""The agent's credentials end to end in the examples: every credential Secret the codex
Deployment refers to is written by ``codex.ensure-codex-secrets`` before the Deployment,
from the variables the workflows' ``ci up`` steps map from secrets."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from codex_stacks.plan import PlanRequest, build_plan
from codex_stacks.plan.hooks import CODEX_SECRETS

ROOT = Path(__file__).resolve().parents[2]
AGENT_SECRETS = {"openai-secret", "github-secret", "context7-secret"}
"""The Secrets of EnsureCodexSecretsParams' defaults: the ones no manifest may create itself."""

CASES = [
    ("project-example", "ai-slot-3", "normal"),
    ("project-example", "ai-slot-3", "repair"),
    ("project-example", "ai-repair", "repair"),
    ("alimentor", "ai-slot-3", "normal"),
    ("alimentor", "ai-slot-3", "repair"),
]


def referenced_secrets(manifest: Any) -> dict[str, set[str]]:
    """Secret name → keys the manifest reads (``secretKeyRef``); an ``envFrom`` ref reads any key."""
    found: dict[str, set[str]] = {}

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("secretKeyRef"), dict):
                ref = node["secretKeyRef"]
                found.setdefault(str(ref["name"]), set()).add(str(ref["key"]))
            if isinstance(node.get("secretRef"), dict):
                found.setdefault(str(node["secretRef"]["name"]), set())
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(manifest)
    return found


@pytest.mark.parametrize(("example", "stack", "mode"), CASES, ids=["-".join(case) for case in CASES])
def test_every_agent_secret_the_codex_deployment_reads_is_written_by_the_hook_first(
    example: str, stack: str, mode: str
) -> None:
    plan = build_plan(PlanRequest(stack=stack, project_dir=ROOT / "examples" / example, mode=mode))
    [deployment] = [o for o in plan.component("codex").objects if o.kind == "Deployment"]
    wanted = {name: keys for name, keys in referenced_secrets(deployment.manifest).items() if name in AGENT_SECRETS}
    assert wanted, "the example's agent reads its credentials from the hook's Secrets"
    assert not [o for o in plan.objects if o.kind == "Secret" and o.manifest["metadata"]["name"] in AGENT_SECRETS]
    hooks = [h for h in plan.hooks if h.action == "codex.ensure-codex-secrets"]
    assert hooks, f"{example}: the codex Deployment reads {sorted(wanted)} but no step creates them"
    [hook] = hooks
    # before the Deployment: a beforeApply step of the agent's component, or a stack-wide beforeAll
    assert (hook.stage, hook.component) in {("beforeApply", "codex"), ("beforeAll", None)}
    assert hook.params["namespace"] == plan.target.namespace
    written = {item["name"]: item for item in hook.params["secrets"]}
    for name, keys in wanted.items():
        assert name in written
        assert keys <= {written[name]["key"]}, (name, keys, written[name]["key"])
    # the variables the hook reads on the runner: what the workflows map from secrets
    assert {env for item in written.values() for env in item["env"]} >= {names[0] for *_, names in CODEX_SECRETS}
