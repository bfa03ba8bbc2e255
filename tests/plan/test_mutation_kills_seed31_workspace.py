"""The agent's workspace on a claim (docs/services-yaml.md, "The agent's workspace"): a Deployment
that already carries an init container of the workspace's name gets exactly one clone step, the
plan's, after the Deployment's other init containers.

Written against a mutant of codex_stacks/plan/workspace.py that lived in the seed-31 sample (issue #19).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from codex_stacks.config.model import Workspace
from codex_stacks.plan.objects import KubeObject
from codex_stacks.plan.workspace import workspace_objects


def test_an_existing_clone_init_container_is_replaced_not_doubled() -> None:
    deployment: dict[str, Any] = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "codex", "namespace": "demo-ai-1"},
        "spec": {
            "template": {
                "spec": {
                    "initContainers": [
                        {"name": "migrate", "image": "busybox"},
                        # e.g. left in a manifest copied from a rendered plan
                        {"name": "workspace-clone", "image": "evil/image", "command": ["sh", "-c", "true"]},
                    ],
                    "containers": [{"name": "codex", "image": "codex"}],
                }
            }
        },
    }
    workspace = Workspace.model_validate(
        {"source": "pvc", "pvc": {"repositoryUrl": "https://github.com/acme/shop.git"}}
    )
    objects = workspace_objects(
        workspace, [KubeObject(manifest=deployment, source=Path("/p/codex.yaml"), line=1)], deployment="codex"
    )
    (result,) = [obj for obj in objects if obj.kind == "Deployment"]
    init = result.manifest["spec"]["template"]["spec"]["initContainers"]
    # Kubernetes refuses two containers of one name in a pod; the stranger's one must be gone
    assert [container["name"] for container in init] == ["migrate", "workspace-clone"]
    assert init[1]["image"] != "evil/image"
