"""Both examples register exactly what they did before services.yaml became structure-first.

``before/`` was recorded with the old two-pass dialect (see README.md here) from copies of the
examples at ``FIXED``; every stack of both examples, copied to the same place, must register the
same resources with the same inputs, parents, dependencies and options now (the hooks' guards
digest manifests that hold the project's absolute path, so the place matters). Differences made
on purpose after the migration are listed in ``INTENTIONAL``.
"""

from __future__ import annotations

import fcntl
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from codex_stacks.offline.runner import Secret, run_program
from codex_stacks.stackconfig import program_config, with_overrides

HERE = Path(__file__).parent
ROOT = HERE.parent.parent
CASES = sorted(HERE.glob("before/*.json"))
FIXED = Path("/tmp/codex-stacks-migration")
RECORDED_PROJECT = "codex"
"""The Pulumi project name in the recorded URNs: every repository's before each had its own."""
"""Where the examples were (and are) copied to be run: the recording's project_root."""
_ENV_PREFIXES = ("CODE_ROOT", "BASE_DOMAIN", "REGISTRY", "DATA_ROOT", "ALIMENTOR", "ISSUE", "PR_", "CODEX_WORKSPACE")

_ROLE = "the agent's Role names every resource, never RBAC or what limits the agent (docs/security.md)"
_LABELS = "Pod Security and containment labels on the namespace (docs/security.md)"
_POLICIES = "a slot's default-deny NetworkPolicies, in the agent's component (docs/security.md)"
_WAITS = "waits for the agent's component, which now holds the slot's NetworkPolicies"
_GUARD = "the rendered objects it guards changed (labels, Role, NetworkPolicies)"
_CLUSTER = "cluster-wide groups belong to the cluster stack alone (docs/security.md, 'The cluster stack')"
_NETWORK_POLICIES = (
    "codex-default-deny",
    "codex-allow-same-namespace",
    "codex-allow-dns",
    "codex-allow-ingress-controller",
    "codex-allow-agent-egress",
)
_SLOT_CASES = {
    "alimentor--ai-slot-2--normal.json": ("alimentor-dev-2", "base", ()),
    "alimentor--ai-slot-2--repair.json": ("alimentor-dev-2", "base", ()),
    "project-example--ai-slot-3--normal.json": (
        "project-example-dev-3",
        "namespace-and-config",
        ("codex-allow-internet-0",),
    ),
    "project-example--ai-slot-3--repair.json": (
        "project-example-dev-3",
        "namespace-and-config",
        ("codex-allow-internet-0",),
    ),
}
INTENTIONAL: dict[tuple[str, str], str] = {}
"""(case file, resource name) → why that registration differs from the recorded one on purpose."""
for _case, (_namespace, _owner, _extra) in _SLOT_CASES.items():
    INTENTIONAL[(_case, "codex-agent/role/codex-agent")] = _ROLE
    INTENTIONAL[(_case, f"{_owner}/namespace/{_namespace}")] = _LABELS
    INTENTIONAL[(_case, "codex/deployment/codex")] = _WAITS
    INTENTIONAL[(_case, "codex/hook/beforeApply/ensure-codex-secrets")] = _GUARD
    INTENTIONAL[(_case, "codex/hook/afterApply/reuse-dev-tls-secret")] = _GUARD
    INTENTIONAL[(_case, "hook/beforeAll/ensure-data-dirs")] = _GUARD
    for _policy in (*_NETWORK_POLICIES, *_extra):
        INTENTIONAL[(_case, f"codex-agent/networkpolicy/{_policy}")] = _POLICIES
for _case, _namespace in [
    ("alimentor--ai-staging--normal.json", "base/namespace/alimentor-staging"),
    ("project-example--ai-staging--normal.json", "namespace-and-config/namespace/project-example-staging"),
    ("project-example--dev--normal.json", "namespace-and-config/namespace/project-example-dev"),
]:
    INTENTIONAL[(_case, _namespace)] = _LABELS
    INTENTIONAL[(_case, "hook/beforeAll/ensure-data-dirs")] = _GUARD
INTENTIONAL[("project-example--ai-repair--repair.json", "codex-agent/role/codex-agent")] = _ROLE
INTENTIONAL[("project-example--ai-repair--repair.json", "codex/hook/beforeApply/ensure-codex-secrets")] = _GUARD
INTENTIONAL[("project-example--ai-repair--repair.json", "hook/beforeAll/ensure-data-dirs")] = _GUARD
for _case in ("project-example--ai-staging--normal.json", "project-example--dev--normal.json"):
    for _name in (
        "cluster-dns",
        "tls-issuer",
        "cluster-dns/configmap/kube-system/coredns",
        "tls-issuer/clusterissuer/letsencrypt",
    ):
        INTENTIONAL[(_case, _name)] = _CLUSTER
_REPAIR_STEPS = "stack steps run in repair mode only when marked repair: true (docs/repair.md)"
for _case in (
    "alimentor--ai-slot-2--repair.json",
    "project-example--ai-slot-3--repair.json",
    "project-example--ai-repair--repair.json",
):
    INTENTIONAL[(_case, "hook/beforeAll/ensure-data-dirs")] = _REPAIR_STEPS
INTENTIONAL[("project-example--ai-repair--repair.json", "namespace")] = (
    "the shared namespace no longer waits for a stack step the repair run leaves out"
)
_MOUNT = (
    "host mounts default to type: Directory, as upstream's (a missing checkout fails the pod, never an empty folder)"
)
_PULL_AND_MOUNT = (
    _MOUNT + "; the manifest's own imagePullPolicy (Always) is kept, the environment's fills only a missing one"
)
_MOUNT_GUARD = "the step's guard hashes the objects it runs around, and their host mounts now say type: Directory"
for _key, _reason in {
    ("alimentor--ai-slot-2--normal.json", "hook/beforeAll/ensure-data-dirs"): _MOUNT_GUARD,
    ("alimentor--ai-slot-2--repair.json", "hook/beforeAll/ensure-data-dirs"): _MOUNT_GUARD,
    ("alimentor--ai-staging--normal.json", "hook/beforeAll/ensure-data-dirs"): _MOUNT_GUARD,
    ("project-example--ai-repair--repair.json", "codex/deployment/codex"): _MOUNT,
    ("project-example--ai-repair--repair.json", "codex/hook/beforeApply/ensure-codex-secrets"): _MOUNT_GUARD,
    ("project-example--ai-repair--repair.json", "hook/beforeAll/ensure-data-dirs"): _MOUNT_GUARD,
    ("project-example--ai-slot-3--normal.json", "chat-backend/deployment/chat-backend"): _MOUNT,
    ("project-example--ai-slot-3--normal.json", "codex/deployment/codex"): _PULL_AND_MOUNT,
    ("project-example--ai-slot-3--normal.json", "django-backend/deployment/django-backend"): _MOUNT,
    ("project-example--ai-slot-3--normal.json", "web-frontend/deployment/web-frontend"): _MOUNT,
    ("project-example--ai-slot-3--normal.json", "codex/hook/beforeApply/ensure-codex-secrets"): _MOUNT_GUARD,
    ("project-example--ai-slot-3--normal.json", "codex/hook/afterApply/reuse-dev-tls-secret"): _MOUNT_GUARD,
    ("project-example--ai-slot-3--normal.json", "hook/beforeAll/ensure-data-dirs"): _MOUNT_GUARD,
    ("project-example--ai-slot-3--repair.json", "codex/deployment/codex"): _PULL_AND_MOUNT,
    ("project-example--ai-slot-3--repair.json", "codex/hook/beforeApply/ensure-codex-secrets"): _MOUNT_GUARD,
    ("project-example--ai-slot-3--repair.json", "codex/hook/afterApply/reuse-dev-tls-secret"): _MOUNT_GUARD,
    ("project-example--ai-slot-3--repair.json", "hook/beforeAll/ensure-data-dirs"): _MOUNT_GUARD,
    ("project-example--ai-staging--normal.json", "chat-backend/deployment/chat-backend"): _MOUNT,
    ("project-example--ai-staging--normal.json", "django-backend/deployment/django-backend"): _MOUNT,
    ("project-example--ai-staging--normal.json", "web-frontend/deployment/web-frontend"): _MOUNT,
    ("project-example--ai-staging--normal.json", "hook/beforeAll/ensure-data-dirs"): _MOUNT_GUARD,
    ("project-example--dev--normal.json", "chat-backend/deployment/chat-backend"): _MOUNT,
    ("project-example--dev--normal.json", "django-backend/deployment/django-backend"): _MOUNT,
    ("project-example--dev--normal.json", "web-frontend/deployment/web-frontend"): _MOUNT,
    ("project-example--dev--normal.json", "hook/beforeAll/ensure-data-dirs"): _MOUNT_GUARD,
}.items():
    INTENTIONAL[_key] = f"{INTENTIONAL[_key]}; {_reason}" if _key in INTENTIONAL else _reason
_STORE = "a normal run stores what a repair run without targets registers again (docs/repair.md)"
INTENTIONAL_OUTPUTS: dict[tuple[str, str], str] = {
    **{(_case.name, "repairStore"): _STORE for _case in CASES if "--normal" in _case.name},
    **{(_case.name, "podSecurity"): _LABELS + ", and why no stricter level" for _case in CASES},
    **{(_case, "repairTargets"): _POLICIES for _case in _SLOT_CASES},
    **{
        (_case, "repairTargets"): _REPAIR_STEPS
        for _case in (
            "alimentor--ai-staging--normal.json",
            "project-example--ai-staging--normal.json",
            "project-example--dev--normal.json",
            "project-example--ai-repair--repair.json",
        )
    },
    **{
        (_case, key): _CLUSTER
        for _case in ("project-example--ai-staging--normal.json", "project-example--dev--normal.json")
        for key in ("components", "skipped")
    },
}
"""(case file, stack output) → why that output differs on purpose."""


def _without_forcing(item: dict[str, Any]) -> dict[str, Any]:
    """A recorded registration without the patchForce annotation the old program put on every
    object: server-side apply forces only on an adopting up now (codex:adopt; docs/security-workflows.md)."""
    metadata = (item.get("inputs") or {}).get("metadata")
    annotations = metadata.get("annotations") if isinstance(metadata, dict) else None
    if isinstance(annotations, dict) and annotations.get("pulumi.com/patchForce") == "true":
        annotations = {key: value for key, value in annotations.items() if key != "pulumi.com/patchForce"}
        metadata = (
            {**metadata, "annotations": annotations}
            if annotations
            else {key: value for key, value in metadata.items() if key != "annotations"}
        )
        item = {**item, "inputs": {**item["inputs"], "metadata": metadata}}
    return item


def _name(urn: str) -> str:
    return urn.rsplit("::", 1)[-1]


def _plain(value: Any) -> Any:
    if isinstance(value, Secret):
        return {"__secret__": _plain(value.value)}
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


@pytest.fixture(scope="module")
def fixed_examples() -> Iterator[Path]:
    """The examples copied to ``FIXED``, held under a lock (other checkouts may run this too)."""
    FIXED.parent.mkdir(parents=True, exist_ok=True)
    with open(f"{FIXED}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        shutil.rmtree(FIXED, ignore_errors=True)
        for example in ("project-example", "alimentor"):
            shutil.copytree(
                ROOT / "examples" / example, FIXED / example, ignore=shutil.ignore_patterns(".data", ".github")
            )
        yield FIXED
        fcntl.flock(lock, fcntl.LOCK_UN)


def test_every_stack_of_both_examples_was_recorded() -> None:
    names = {path.name for path in CASES}
    assert len(names) == 8
    assert {"project-example--ai-slot-3--normal.json", "alimentor--ai-slot-2--repair.json"} <= names


@pytest.mark.parametrize("case", CASES, ids=[path.stem for path in CASES])
def test_registrations_are_unchanged(case: Path, fixed_examples: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for key in list(os.environ):
        if key.startswith(_ENV_PREFIXES):
            monkeypatch.delenv(key)
    before = json.loads(case.read_text(encoding="utf-8"))
    example = case.name.split("--", 1)[0]
    mode = before["mode"]
    # each example is a program folder of its own now (Pulumi.yaml, __main__.py, stacks/), run from
    # its copy; the recording was made when every repository's project was named "codex"
    folder = fixed_examples / example
    config = with_overrides(
        program_config(before["stack"], program_dir=folder),
        mode=None if mode == "normal" else mode,
        program_dir=folder,
    )
    run = run_program(before["stack"], config, program_dir=folder, project=RECORDED_PROJECT)
    now = {
        r.urn: {
            "type": r.type,
            "name": r.name,
            "urn": r.urn,
            "parent": r.parent,
            "inputs": _plain(r.inputs),
            "dependencies": sorted(r.dependencies),
            "retainOnDelete": r.retain_on_delete,
        }
        for r in run.registrations
    }
    recorded = {item["urn"]: _without_forcing(item) for item in before["registrations"]}
    expected_urns = {urn for urn in recorded if (case.name, _name(urn)) not in INTENTIONAL}
    actual_urns = {urn for urn in now if (case.name, _name(urn)) not in INTENTIONAL}
    assert actual_urns == expected_urns
    for urn in sorted(expected_urns):
        assert now[urn] == recorded[urn], urn
    outputs = _plain(run.outputs)
    for key in sorted(set(outputs) | set(before["outputs"])):
        if (case.name, key) not in INTENTIONAL_OUTPUTS:
            assert outputs.get(key) == before["outputs"].get(key), key
