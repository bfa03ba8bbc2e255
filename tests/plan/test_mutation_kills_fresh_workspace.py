"""``codex.workspace.source: pvc`` (docs/services-yaml.md, "The agent's workspace"): the claim
takes the workspace's mount path in the agent's container, replacing what the project mounted
there, because the API server refuses a container with two volume mounts at one path
(kubernetes/kubernetes, pkg/apis/core/validation, ValidateVolumeMounts: mountPath "must be unique").

The example project's slot overlay mounts its host checkout ``code-src`` at /workspace.

Written against a mutant of codex_stacks/plan/workspace.py that lived in a fresh sample (seed 29,
issue #19).
"""

from __future__ import annotations

from pathlib import Path

from codex_stacks.plan import build_plan
from codex_stacks.stackconfig import stack_request

HOST_PATH = '  workspace:\n    source: hostPath\n    codeRoot: "{{ code_root }}"\n'  # the example's own
PVC = (
    "  workspace:\n    source: pvc\n    mountPath: /workspace\n    pvc:\n      claimName: agent-code\n      size: 5Gi\n"
    "      repositoryUrl: https://github.com/acme/shop.git\n"
)


def test_the_claim_replaces_the_project_s_own_mount_at_the_workspace_path(example_copy: Path) -> None:
    services = example_copy / "services.yaml"
    text = services.read_text(encoding="utf-8")
    assert HOST_PATH in text
    assert "mountPath: /workspace" in text  # the overlay's hostMount of the slot's checkout
    services.write_text(text.replace(HOST_PATH, PVC, 1), encoding="utf-8")
    plan = build_plan(stack_request("ai-slot-3", project_dir=example_copy))
    (deployment,) = [obj.manifest for obj in plan.component("codex").objects if obj.kind == "Deployment"]
    agent = deployment["spec"]["template"]["spec"]["containers"][0]
    at_workspace = [mount for mount in agent["volumeMounts"] if mount["mountPath"] == "/workspace"]
    assert at_workspace == [{"name": "codex-workspace", "mountPath": "/workspace"}]
