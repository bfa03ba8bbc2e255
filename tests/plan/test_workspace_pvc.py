"""``codex.workspace.source: pvc``: the agent's Deployment clones the repository into a claim,
with the token only as a secretKeyRef (docs/services-yaml.md, "The agent's workspace")."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import yaml

from codex_stacks.plan import build_plan
from codex_stacks.stackconfig import stack_request

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "project-example"
PVC = (
    "  workspace:\n    source: pvc\n    mountPath: /workspace\n    pvc:\n      claimName: agent-code\n      size: 5Gi\n"
    "      repositoryUrl: https://github.com/acme/shop.git\n"
    "      token: {name: github-secret, key: CODEX_GH_PAT}\n"
)


def agent_objects(tmp_path: Path, workspace: str) -> list[dict[str, Any]]:
    project = tmp_path / "p"
    shutil.copytree(EXAMPLE, project, ignore=shutil.ignore_patterns(".data", ".github"))
    services = project / "services.yaml"
    text = services.read_text()
    own = '  workspace:\n    source: hostPath\n    codeRoot: "{{ code_root }}"\n'  # the example's own
    assert own in text
    services.write_text(text.replace(own, workspace, 1))
    plan = build_plan(stack_request("ai-slot-3", project_dir=project))
    [codex] = [c for c in plan.components if c.name == "codex"]
    return [dict(o.manifest) for o in codex.objects]


def test_the_claim_and_the_clone_init_container(tmp_path: Path) -> None:
    objects = agent_objects(tmp_path, PVC)
    [claim] = [o for o in objects if o["kind"] == "PersistentVolumeClaim"]
    assert claim["metadata"] == {
        "name": "agent-code",
        "namespace": "project-example-dev-3",
        "labels": {"app.kubernetes.io/managed-by": "codex-stacks"},
    }
    assert claim["spec"]["resources"] == {"requests": {"storage": "5Gi"}}
    [deployment] = [o for o in objects if o["kind"] == "Deployment"]
    pod = deployment["spec"]["template"]["spec"]
    [init] = [c for c in pod["initContainers"] if c["name"] == "workspace-clone"]
    agent = pod["containers"][0]
    assert init["image"] == agent["image"]  # the agent's own image has git
    assert {"name": "codex-workspace", "persistentVolumeClaim": {"claimName": "agent-code"}} in pod["volumes"]
    assert {"name": "codex-workspace", "mountPath": "/workspace"} in agent["volumeMounts"]
    assert {"name": "codex-workspace", "mountPath": "/workspace"} in init["volumeMounts"]
    token = next(e for e in init["env"] if e["name"] == "CODEX_GIT_TOKEN")
    assert token == {
        "name": "CODEX_GIT_TOKEN",
        "valueFrom": {"secretKeyRef": {"name": "github-secret", "key": "CODEX_GH_PAT"}},
    }
    text = yaml.safe_dump(deployment)
    assert "https://github.com/acme/shop.git" in text
    assert "x-access-token:" not in text  # the token is never put into a URL


def test_no_workspace_source_changes_nothing(tmp_path: Path) -> None:
    objects = agent_objects(tmp_path, "")
    assert not [o for o in objects if o["kind"] == "PersistentVolumeClaim"]
    [deployment] = [o for o in objects if o["kind"] == "Deployment"]
    names = [c["name"] for c in deployment["spec"]["template"]["spec"].get("initContainers") or []]
    assert "workspace-clone" not in names
