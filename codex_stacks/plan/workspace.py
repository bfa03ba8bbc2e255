"""The agent's workspace on a PersistentVolumeClaim (``codex.workspace.source: pvc``).

For clusters whose nodes do not share the runner's disk: the agent's service gets the claim,
and its Deployment an init container that clones the repository into it when the workspace is
empty (a later pod keeps the agent's work). The token reaches the init container only as a
``secretKeyRef`` and git reads it through a credential helper, so it is in no argument, URL,
``.git/config`` or the pod's spec (docs/services-yaml.md, "The agent's workspace").
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from codex_stacks.config.model import Workspace
from codex_stacks.plan.kube_rules import pod_shape_issues
from codex_stacks.plan.objects import KubeObject

VOLUME = "codex-workspace"
INIT_CONTAINER = "workspace-clone"
TOKEN_VARIABLE = "CODEX_GIT_TOKEN"
BRANCH_VARIABLE = "CODEX_BRANCH"
CLONE_SCRIPT = (
    'set -eu; dir="$CODEX_WORKSPACE"; branch="${CODEX_BRANCH:-}"; '
    'if [ -d "$dir/.git" ]; then echo "workspace: $dir already holds a working copy; kept"; exit 0; fi; '
    'tmp="$dir/.codex-clone"; rm -rf "$tmp"; '
    "git -c credential.helper= "
    '-c "credential.helper=!f() { test \\"\\$1\\" = get && echo username=x-access-token '
    '&& echo \\"password=\\${CODEX_GIT_TOKEN:-}\\"; }; f" '
    'clone --quiet "$CODEX_REPOSITORY_URL" "$tmp"; '
    'if [ -n "$branch" ]; then '
    'if git -C "$tmp" rev-parse --verify --quiet "refs/remotes/origin/$branch" >/dev/null; then '
    'git -C "$tmp" checkout --quiet -B "$branch" "refs/remotes/origin/$branch"; '
    'echo "workspace: $branch checked out at its tip"; '
    'else git -C "$tmp" checkout --quiet -b "$branch"; '
    'echo "workspace: $branch is not on the remote yet: started from the default branch"; fi; fi; '
    'for entry in "$tmp"/* "$tmp"/.[!.]* "$tmp"/..?*; do [ -e "$entry" ] && mv "$entry" "$dir/"; done; '
    'rmdir "$tmp"'
)
"""Clone into a folder inside the claim, then move it into place: a PVC's root is never empty
(``lost+found`` on ext4), so ``git clone`` cannot write there directly. With ``CODEX_BRANCH``
(``codex:branch``, set by ``ci up --issue/--pr``) the working copy is on the issue's branch — its
tip when the remote has it (the commits delivered before, and anyone else's) — else on the
default branch. A claim that already holds a working copy is the agent's: it is kept, and no git
command runs in it here (its ``.git/config`` is the agent's to write, the token is not)."""


def workspace_objects(
    workspace: Workspace, objects: list[KubeObject], *, deployment: str | None, branch: str | None = None
) -> list[KubeObject]:
    """``objects`` of the agent's service with the claim added and the Deployment mounting it;
    ``branch``: the one the clone checks out (:data:`CLONE_SCRIPT`)."""
    if workspace.source != "pvc" or workspace.pvc is None or deployment is None:
        return objects
    pvc = workspace.pvc
    result: list[KubeObject] = []
    for obj in objects:
        if obj.kind != "Deployment" or obj.name != deployment or pod_shape_issues(obj.manifest):
            result.append(obj)  # a malformed pod template is left as it is, for the plan to refuse at its line
            continue
        manifest = copy.deepcopy(dict(obj.manifest))
        spec = manifest.setdefault("spec", {}).setdefault("template", {}).setdefault("spec", {})
        containers: list[dict[str, Any]] = spec.get("containers") or []
        volumes = [v for v in spec.get("volumes") or [] if v.get("name") != VOLUME]
        volumes.append({"name": VOLUME, "persistentVolumeClaim": {"claimName": pvc.claim_name}})
        spec["volumes"] = volumes
        mount = {"name": VOLUME, "mountPath": workspace.mount_path}
        if containers:
            first = containers[0]
            first["volumeMounts"] = [
                m for m in first.get("volumeMounts") or [] if m.get("mountPath") != workspace.mount_path
            ] + [mount]
        env: list[dict[str, Any]] = [
            {"name": "CODEX_WORKSPACE", "value": workspace.mount_path},
            {"name": "CODEX_REPOSITORY_URL", "value": pvc.repository_url},
        ]
        if branch:
            env.append({"name": BRANCH_VARIABLE, "value": branch})
        if pvc.token is not None:
            env.append(
                {
                    "name": TOKEN_VARIABLE,
                    "valueFrom": {"secretKeyRef": {"name": pvc.token.name, "key": pvc.token.key}},
                }
            )
        init: dict[str, Any] = {
            "name": INIT_CONTAINER,
            "image": pvc.image or (containers[0].get("image") if containers else "") or "",
            "command": ["sh", "-c", CLONE_SCRIPT],
            "env": env,
            "volumeMounts": [mount],
        }
        security = containers[0].get("securityContext") if containers else None
        if security:
            init["securityContext"] = copy.deepcopy(security)
        spec["initContainers"] = [c for c in spec.get("initContainers") or [] if c.get("name") != INIT_CONTAINER] + [
            init
        ]
        result.append(KubeObject(manifest=manifest, source=obj.source, line=obj.line, secret_paths=obj.secret_paths))
    claim: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": pvc.claim_name, "labels": {"app.kubernetes.io/managed-by": "codex-stacks"}},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": pvc.size}}},
    }
    if pvc.storage_class is not None:
        claim["spec"]["storageClassName"] = pvc.storage_class
    result.append(KubeObject(manifest=claim, source=Path(__file__), line=0))
    return result
