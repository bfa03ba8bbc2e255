"""What the program registers, checked against expectations built independently of its code.

URNs are built here from Pulumi's documented format, not by the code under test:
``urn:pulumi:<stack>::<project>::<qualified type>::<name>``, where the qualified type is the
chain of parent types joined by ``$`` with the root ``pulumi:pulumi:Stack`` left out
(pulumi/pulumi, sdk/go/common/resource/urn/urn.go: "urn:pulumi:<Stack>::<Project>::<Qualified$Type$Name>::<Name>",
TypeDelimiter "$"). The project is the ``name`` of Pulumi.yaml; type tokens are the ones the
README and the Kubernetes provider document (``kubernetes:<group>/<version>:<Kind>``,
``pulumi-python:dynamic/codex-hooks:<Action>``, ``pulumi:providers:kubernetes``).

Guards for issue #19's mutation audit: a Deployment waits for its claim, a namespace group that
is not listed first, stringData of a Secret on the generic path, repairTargets with the afterAll
steps, and the agent's Role as the API server evaluates it. Fixtures are dialect-neutral.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from codex_stacks.offline.runner import ProgramRun, Registration, Secret, run_program
from codex_stacks.offline.targets import repair_targets
from tests.conftest import EXAMPLE, REPO_ROOT, MakeProject
from tests.support.kube_double import KubeDouble

PROJECT = yaml.safe_load((REPO_ROOT / "Pulumi.yaml").read_text(encoding="utf-8"))["name"]
GROUP = "codex:stack:InfrastructureGroup"
SERVICE = "codex:stack:ServiceComponent"
AGENT = "codex:stack:CodexAgent"
SLEEP = "pulumi-python:dynamic/codex-hooks:Sleep"
PROVIDER = "pulumi:providers:kubernetes"


def urn(stack: str, *types: str, name: str) -> str:
    """Pulumi's URN of a resource whose parents (below the root stack) have ``types[:-1]``."""
    return f"urn:pulumi:{stack}::{PROJECT}::{'$'.join(types)}::{name}"


def registered(run: ProgramRun, name: str) -> Registration:
    found = [r for r in run.registrations if r.name == name]
    assert len(found) == 1, f"{name}: {len(found)} registrations"
    return found[0]


NAMESPACE = """\
apiVersion: v1
kind: Namespace
metadata:
  name: "{{ namespace }}"
"""


def services(infrastructure: str, hooks: str = "") -> str:
    return f"""\
project: demo
maxSlots: 3
namespace:
  patterns:
    ai: "demo-ai-{{{{ slot }}}}"
environments:
  ai: {{}}
{hooks}infrastructure:
{infrastructure}services: []
"""


# --------------------------------------------------------------------------- dependencies


CLAIM_AND_DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: postgres
spec:
  selector: {matchLabels: {app: postgres}}
  template:
    metadata: {labels: {app: postgres}}
    spec:
      containers: [{name: postgres, image: "postgres:16", volumeMounts: [{name: data, mountPath: /var/lib/postgresql}]}]
      volumes: [{name: data, persistentVolumeClaim: {claimName: pgdata}}]
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: pgdata
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 1Gi}}
"""


def test_a_deployment_waits_for_the_claim_it_mounts(make_project: MakeProject) -> None:
    """The engine creates a resource after its dependencies: the Deployment must depend on the
    PersistentVolumeClaim it mounts, or its pod starts before the claim exists (FailedMount)."""
    root = make_project(
        services("  - name: base\n    manifests:\n      - path: ns.yaml\n      - path: db.yaml\n"),
        {"ns.yaml": NAMESPACE, "db.yaml": CLAIM_AND_DEPLOYMENT},
    )
    run = run_program("ai-slot-1", {"codex:projectDir": str(root)})
    claim = urn(
        "ai-slot-1", GROUP, "kubernetes:core/v1:PersistentVolumeClaim", name="base/persistentvolumeclaim/pgdata"
    )
    deployment = registered(run, "base/deployment/postgres")
    assert deployment.urn == urn("ai-slot-1", GROUP, "kubernetes:apps/v1:Deployment", name="base/deployment/postgres")
    assert claim in deployment.dependencies
    assert deployment.urn not in registered(run, "base/persistentvolumeclaim/pgdata").dependencies


def test_the_group_holding_the_namespace_may_come_after_others_in_the_file(make_project: MakeProject) -> None:
    """services.yaml lists groups in any order: the group that holds the Namespace is deployed
    first anyway, and the others wait for the namespace."""
    config_map = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  a: b\n"
    root = make_project(
        services(
            "  - name: data\n    manifests:\n      - path: cm.yaml\n"
            "  - name: base\n    manifests:\n      - path: ns.yaml\n"
        ),
        {"ns.yaml": NAMESPACE, "cm.yaml": config_map},
    )
    run = run_program("ai-slot-2", {"codex:projectDir": str(root)})
    namespace = urn("ai-slot-2", GROUP, "kubernetes:core/v1:Namespace", name="base/namespace/demo-ai-2")
    assert registered(run, "base/namespace/demo-ai-2").urn == namespace
    assert namespace in registered(run, "data/configmap/settings").dependencies
    assert run.outputs["namespace"] == "demo-ai-2"


# --------------------------------------------------------------------------- secrets


def test_a_secret_with_any_fields_keeps_its_data_secret_in_and_out(make_project: MakeProject) -> None:
    """A Secret with a field the typed SDK class has no parameter for (here ``status``) is still
    registered as a Secret whose stringData is a secret input and a secret output, never plain
    text in the state."""
    secret = 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  PASSWORD: "canary-9d2e"\nstatus: {}\n'
    root = make_project(
        services("  - name: base\n    manifests:\n      - path: ns.yaml\n      - path: secret.yaml\n"),
        {"ns.yaml": NAMESPACE, "secret.yaml": secret},
    )
    run = run_program("ai-slot-1", {"codex:projectDir": str(root)})
    registration = registered(run, "base/secret/db")
    assert registration.type == "kubernetes:core/v1:Secret"
    assert registration.inputs["stringData"] == Secret({"PASSWORD": "canary-9d2e"})
    assert {"data", "stringData"} <= set(registration.additional_secret_outputs)
    plain = {key: value for key, value in registration.inputs.items() if key != "stringData"}
    assert "canary-9d2e" not in repr(plain)


# --------------------------------------------------------------------------- repairTargets


HOOKS = """\
hooks:
  beforeAll:
    - name: prepare
      use: sleep
      repair: true
      with:
        seconds: 0.01
  afterAll:
    - name: settle
      use: sleep
      with:
        seconds: 0.01
"""

TWO_GROUPS = """\
  - name: base
    manifests:
      - path: ns.yaml
    hooks:
      afterApply:
        - name: wait
          use: sleep
          with:
            seconds: 0.01
  - name: data
    manifests:
      - path: cm.yaml
"""


@cache
def hooked_project(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "services.yaml").write_text(services(TWO_GROUPS, HOOKS), encoding="utf-8")
    (folder / "ns.yaml").write_text(NAMESPACE, encoding="utf-8")
    (folder / "cm.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  a: b\n")
    return folder


def expected_repair_targets(stack: str, slot: int) -> list[str]:
    """By hand: the repair set of this project is the group holding the Namespace (README,
    "Repairing a broken slot"), with its objects and steps, the stack steps marked ``repair: true``
    (prepare, not settle) and the provider."""
    return sorted(
        [
            urn(stack, PROVIDER, name="kubernetes"),
            urn(stack, SLEEP, name="hook/beforeAll/prepare"),
            urn(stack, GROUP, name="base"),
            urn(stack, GROUP, "kubernetes:core/v1:Namespace", name=f"base/namespace/demo-ai-{slot}"),
            urn(stack, GROUP, SLEEP, name="base/hook/afterApply/wait"),
        ]
    )


@pytest.mark.parametrize("mode", ["normal", "repair"])
def test_repair_targets_output_is_the_repair_set_with_its_stack_steps(tmp_path: Path, mode: str) -> None:
    project = hooked_project(tmp_path / "project")
    run = run_program("ai-slot-1", {"codex:projectDir": str(project), "codex:mode": mode})
    assert run.outputs["repairTargets"] == expected_repair_targets("ai-slot-1", 1)


def test_the_repair_targets_command_gives_pulumis_urns(tmp_path: Path) -> None:
    project = hooked_project(tmp_path / "project")
    assert repair_targets("ai-slot-1", project_dir=project) == expected_repair_targets("ai-slot-1", 1)


def test_repair_targets_are_the_same_in_every_process(tmp_path: Path) -> None:
    """The console script, in a process with another hash seed than this one (set and dict orders
    differ between them), prints the URNs built by hand (a second run in one process could not
    show that)."""
    project = hooked_project(tmp_path / "project")
    codexctl = Path(sys.executable).with_name("codexctl")
    seed = "2" if os.environ.get("PYTHONHASHSEED") == "1" else "1"
    done = subprocess.run(
        [str(codexctl), "repair-targets", "--stack", "ai-slot-2", "--project-dir", str(project)],
        env={**os.environ, "PYTHONHASHSEED": seed},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    expected = expected_repair_targets("ai-slot-2", 2)
    assert done.stdout.split() == expected
    assert repair_targets("ai-slot-2", project_dir=project) == expected


def test_urns_of_the_example_are_pulumis() -> None:
    """A few resources of the example, one of each nesting, built by hand."""
    run = run_program("ai-slot-3", {"codex:projectDir": str(EXAMPLE)})
    urns = {r.urn for r in run.registrations}
    stack = "ai-slot-3"
    assert {
        urn(stack, PROVIDER, name="kubernetes"),
        urn(stack, SERVICE, name="chat-backend"),
        urn(stack, SERVICE, "kubernetes:apps/v1:Deployment", name="chat-backend/deployment/chat-backend"),
        urn(stack, AGENT, "kubernetes:rbac.authorization.k8s.io/v1:Role", name="codex-agent/role/codex-agent"),
        urn(
            stack,
            SERVICE,
            "pulumi-python:dynamic/codex-hooks:EnsureCodexSecrets",
            name="codex/hook/beforeApply/ensure-codex-secrets",
        ),
        urn(stack, "pulumi-python:dynamic/codex-hooks:EnsureDataDirs", name="hook/beforeAll/ensure-data-dirs"),
    } <= urns
    assert len(urns) == len(run.registrations)  # unique


# --------------------------------------------------------------------------- the agent's Role


def _status(kube: KubeDouble, token: str, method: str, path: str, body: dict[str, Any] | None = None) -> int:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        kube.url + path,
        data=data,
        method=method,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


NS = "project-example-dev-3"
PROBES: list[tuple[str, str, dict[str, Any] | None, bool, bool]] = [
    # method, path, body, allowed in normal mode, allowed in repair mode (docs/security.md: namespace-scoped
    # only; repair adds Services, Secrets, claims, Ingresses …; never RBAC or NetworkPolicies)
    ("GET", f"/api/v1/namespaces/{NS}/pods", None, True, True),
    ("GET", f"/api/v1/namespaces/{NS}/pods/codex-1/log", None, True, True),
    ("POST", f"/api/v1/namespaces/{NS}/pods/codex-1/exec", None, True, True),
    ("PATCH", f"/apis/apps/v1/namespaces/{NS}/deployments/web", {}, True, True),
    ("GET", f"/api/v1/namespaces/{NS}/secrets", None, True, True),
    ("POST", f"/api/v1/namespaces/{NS}/secrets", {"metadata": {"name": "s"}}, False, True),
    ("GET", "/api/v1/namespaces/kube-system/secrets", None, False, False),
    ("GET", "/api/v1/namespaces/default/pods", None, False, False),
    ("DELETE", f"/api/v1/namespaces/{NS}", None, False, False),
    ("GET", "/api/v1/nodes", None, False, False),
    ("GET", "/apis/rbac.authorization.k8s.io/v1/clusterroles", None, False, False),
    ("POST", f"/apis/rbac.authorization.k8s.io/v1/namespaces/{NS}/roles", {"metadata": {"name": "r"}}, False, False),
    ("POST", f"/apis/networking.k8s.io/v1/namespaces/{NS}/networkpolicies", {"metadata": {"name": "n"}}, False, False),
    ("POST", f"/apis/policy/v1/namespaces/{NS}/poddisruptionbudgets", {"metadata": {"name": "p"}}, False, True),
]


@pytest.mark.parametrize("mode", ["normal", "repair"])
def test_the_agents_role_as_the_api_server_evaluates_it(mode: str) -> None:
    """The Role the program registers, bound to codex-sa in the Kubernetes API double, whose RBAC
    evaluation follows the API server's: what the agent may and may not do."""
    run = run_program("ai-slot-3", {"codex:projectDir": str(EXAMPLE), "codex:mode": mode})
    role = registered(run, "codex-agent/role/codex-agent").inputs
    binding = registered(run, "codex-agent/rolebinding/codex-agent").inputs
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "codex-sa", "namespace": NS}]
    with KubeDouble(namespaces=(NS,)) as kube:
        token = kube.service_account(NS, "codex-sa")
        kube.bind(f"system:serviceaccount:{NS}:codex-sa", [dict(rule) for rule in role["rules"]], namespace=NS)
        for method, path, body, normal, repair in PROBES:
            allowed = normal if mode == "normal" else repair
            status = _status(kube, token, method, path, body)
            assert (status != 403) == allowed, f"{mode}: {method} {path} answered {status}"
