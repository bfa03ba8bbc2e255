"""The clone init container of a ``pvc`` workspace gets exactly the environment its script reads
(docs/services-yaml.md, "The agent's workspace"): where to clone, what, and the token as a
secretKeyRef (a fresh mutation sample of plan, seed 41, found the values unread)."""

from __future__ import annotations

from pathlib import Path

from tests.plan.test_workspace_pvc import PVC, agent_objects


def test_the_clone_gets_the_workspace_the_repository_and_the_token(tmp_path: Path) -> None:
    [deployment] = [o for o in agent_objects(tmp_path, PVC) if o["kind"] == "Deployment"]
    [init] = [c for c in deployment["spec"]["template"]["spec"]["initContainers"] if c["name"] == "workspace-clone"]
    assert init["env"] == [
        {"name": "CODEX_WORKSPACE", "value": "/workspace"},
        {"name": "CODEX_REPOSITORY_URL", "value": "https://github.com/acme/shop.git"},
        {"name": "CODEX_GIT_TOKEN", "valueFrom": {"secretKeyRef": {"name": "github-secret", "key": "CODEX_GH_PAT"}}},
    ]
