"""A service's image, the agent's own RBAC, the one-owner rule and the cluster stack, hook steps
(overlays.py, agent.py, containment.py, hooks.py), each error whole; the table's conventions are
those of test_error_messages.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.plan.test_error_messages import (
    BASE,
    CM,
    DEPLOYMENT,
    NS,
    OBJ_SERVICES,
    RBAC,
    WEB,
    case,
    check_plan_error,
    edited,
    meta,
    obj_case,
)

WORKLOADS = "CronJob, DaemonSet, Deployment, Job, ReplicaSet, StatefulSet"
IMAGES = [
    case(
        "<root>/services.yaml:14: services[0].image: service web: its image goes to no workload: none of its objects "
        f"({WORKLOADS}) is named 'web'\n"
        "  hint: name the workload like the service, or say which one with workload:, or remove image:",
        id="image-reaches-no-workload",
        services=WEB,
        files={"ns.yaml": NS, "web.yaml": DEPLOYMENT.format(name="api")},
    ),
    case(
        "<root>/services.yaml:15: services[0].image: service web: workload 'worker' is not among its objects "
        f"({WORKLOADS})\n"
        "  hint: workload: names the Deployment (or other workload) of the service's manifests that runs its image",
        id="image-workload-missing",
        services=edited("    image:", "    workload: worker\n    image:", WEB),
        files={"ns.yaml": NS, "web.yaml": DEPLOYMENT.format(name="web")},
    ),
]


SHIPPED = edited(
    "services: []\n", "services:\n  - name: codex\n    manifests:\n      - path: codex.yaml\ncodex:\n  rbac: none\n"
)
"""BASE with the agent's service ``codex`` (manifest codex.yaml) shipping the agent's RBAC itself."""
SA = "---\napiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: agent\n"
AGENT_AND_ACCOUNT = DEPLOYMENT.format(name="codex") + SA
"""codex.yaml of the shipped-RBAC cases: the agent's Deployment and its ServiceAccount (lines 1-19)."""
"""Lines 14-18 after DEPLOYMENT: the ServiceAccount ``agent``."""
AGENT = [
    case(
        "<root>/services.yaml:12: services[0].manifests: the agent's service 'codex' has no Deployment\n"
        "  hint: codex.service names it",
        id="agent-without-deployment",
        services=SHIPPED,
        files={"ns.yaml": NS, "codex.yaml": CM},
    ),
    case(
        "<root>/codex.yaml:1: the agent's ServiceAccount 'agent' (serviceAccountName of Deployment/demo-dev/codex) "
        "is not in the repair set, so a repair run could not start the agent\n"
        "  hint: ship it in a repair.infrastructure group or in the agent's service, or use codex.rbac: builtin",
        id="agent-account-outside-the-repair-set",
        services=SHIPPED,
        files={"ns.yaml": NS, "codex.yaml": DEPLOYMENT.format(name="codex")},
    ),
    case(
        "<root>/codex.yaml:20: ClusterRoleBinding/agent-all gives the agent rights across the cluster",
        id="agent-cluster-role-binding",
        services=SHIPPED,
        files={
            "ns.yaml": NS,
            "codex.yaml": AGENT_AND_ACCOUNT
            + f"---\napiVersion: {RBAC}\nkind: ClusterRoleBinding\nmetadata:\n  name: agent-all\n"
            "roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}\n"
            "subjects: [{kind: ServiceAccount, name: agent, namespace: demo-dev}]\n",
        },
    ),
    case(
        "<root>/codex.yaml:20: RoleBinding/demo-dev/agent binds the agent to Role 'ghost', which the project does "
        "not define, so its rights cannot be checked",
        id="agent-bound-to-an-unknown-role",
        services=SHIPPED,
        files={
            "ns.yaml": NS,
            "codex.yaml": AGENT_AND_ACCOUNT + f"---\napiVersion: {RBAC}\nkind: RoleBinding\nmetadata:\n  name: agent\n"
            "roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: ghost}\n"
            "subjects: [{kind: ServiceAccount, name: agent}]\n",
        },
    ),
    case(
        "\n".join(
            f"<root>/codex.yaml:27: Role/demo-dev/agent (bound to the agent by agent) grants {what}\n"
            "  hint: the agent may not change what limits it (docs/security.md)"
            for what in ["verb 'escalate'", "a wildcard API group or resource", "writes to networkpolicies"]
        ),
        id="agent-role-grants-too-much",
        services=SHIPPED,
        files={
            "ns.yaml": NS,
            "codex.yaml": AGENT_AND_ACCOUNT + f"---\napiVersion: {RBAC}\nkind: RoleBinding\nmetadata:\n  name: agent\n"
            "roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: agent}\n"
            "subjects: [{kind: ServiceAccount, name: agent}]\n"
            f"---\napiVersion: {RBAC}\nkind: Role\nmetadata:\n  name: agent\nrules:\n"
            "  - {apiGroups: [''], resources: ['*'], verbs: [get, escalate]}\n"
            "  - {apiGroups: [networking.k8s.io], resources: [networkpolicies], verbs: [create]}\n",
        },
    ),
    case(
        "<root>/codex.yaml:15: ServiceAccount/demo-dev/codex-sa is defined twice: in codex (codex.yaml:15) and in "
        "codex-agent (built in)\n"
        "  hint: the project ships the agent's RBAC itself: set codex.rbac: none in services.yaml",
        id="agent-rbac-shipped-twice",
        services=SHIPPED.replace("  rbac: none\n", "  rbac: builtin\n"),
        files={
            "ns.yaml": NS,
            "codex.yaml": DEPLOYMENT.format(name="codex") + SA.replace("name: agent", "name: codex-sa"),
        },
    ),
]


# ---------------------------------------------------------------------- one owner, the cluster stack (containment.py)

CLUSTER = """\
project: demo
maxSlots: 1
environments:
  dev: {}
  cluster: {scope: cluster}
infrastructure:
  - name: base
    when: "{{ env != 'cluster' }}"
    manifests:
      - path: ns.yaml
  - name: dns
    when: "{{ env == 'cluster' }}"
    manifests:
      - path: cr.yaml
services: []
"""
"""Group ``base`` everywhere but the cluster stack, group ``dns`` (cr.yaml) only there."""
READER = meta("ClusterRole", "reader", api=RBAC)
OWNERS = [
    case(
        "<root>/services.yaml:6: environments.cluster.from: environment 'cluster': a scope: cluster environment "
        "neither inherits nor is inherited",
        id="cluster-environment-inherits",
        services=edited("  ai: {}", "  ai: {}\n  cluster: {scope: cluster, from: dev}"),
    ),
    case(
        "<root>/services.yaml:3: environments: only one environment may have scope: cluster, not c1, c2",
        id="two-cluster-environments",
        services=edited("  ai: {}", "  ai: {}\n  c1: {scope: cluster}\n  c2: {scope: cluster}"),
    ),
    obj_case(
        READER,
        "<root>/obj.yaml:1: ClusterRole/reader of base is cluster-scoped, outside namespace demo-dev of stack dev\n"
        "  hint: add an environment with scope: cluster (e.g. 'cluster') and move the group there: its stack owns "
        "every object outside the project's namespaces",
        id="cluster-scoped-object-without-a-cluster-environment",
    ),
    case(
        "<root>/obj.yaml:1: ConfigMap/shared/c of base is in namespace shared, outside namespace demo-dev of stack "
        "dev\n"
        "  hint: move group 'base' to environment 'cluster' (scope: cluster), e.g. when: \"{{ env == 'cluster' }}\"; "
        "its stack owns every object outside the project's namespaces",
        id="object-of-another-namespace",
        services=edited("  dev: {}", "  dev: {}\n  cluster: {scope: cluster}", OBJ_SERVICES),
        files={"ns.yaml": NS, "obj.yaml": meta("ConfigMap", "c", "  namespace: shared\n")},
    ),
    case(
        "<root>/services.yaml:11: infrastructure[1].name: component name 'codex-slot-claims' is reserved for what "
        "codex stacks generates\n"
        "  hint: rename that infrastructure group or service",
        id="reserved-component-name",
        services=edited("name: dns", "name: codex-slot-claims", CLUSTER),
        files={"ns.yaml": NS, "cr.yaml": READER},
        stack="cluster",
    ),
    case(
        "<root>/cr.yaml:1: ValidatingAdmissionPolicy/codex-agent-containment-demo of dns has the name of an object "
        "codex stacks generates\n"
        "  hint: rename it",
        id="generated-object-name",
        services=CLUSTER,
        files={
            "ns.yaml": NS,
            "cr.yaml": meta(
                "ValidatingAdmissionPolicy", "codex-agent-containment-demo", api="admissionregistration.k8s.io/v1"
            ),
        },
        stack="cluster",
    ),
    case(
        "<root>/cr.yaml:1: ConfigMap/codex-system/c of dns would land in codex-system, the cluster stack's own "
        "namespace: the cluster stack owns only objects outside the project's namespaces\n"
        "  hint: keep group 'dns' out of environment 'cluster', e.g. when: \"{{ env != 'cluster' }}\"",
        id="object-in-the-cluster-stacks-namespace",
        services=CLUSTER,
        files={"ns.yaml": NS, "cr.yaml": CM},
        stack="cluster",
    ),
    case(
        "codex:mode: stack cluster is the cluster stack: it has no agent and no repair mode\n"
        "  hint: run it with codex:mode=normal",
        id="cluster-stack-in-repair-mode",
        services=CLUSTER,
        files={"ns.yaml": NS, "cr.yaml": READER},
        stack="cluster",
        mode="repair",
    ),
    case(
        "<root>/ns.yaml:1: cannot list the host folders of stack dev for the agent containment policy: a manifest "
        "document must be a mapping (a Kubernetes object), not list\n"
        "  hint: fix stack dev first: `codexctl validate --stack dev`",
        id="another-stack-does-not-plan",
        services=CLUSTER,
        files={"ns.yaml": "- a\n", "cr.yaml": READER},
        stack="cluster",
    ),
    case(
        "<root>/services.yaml:2: maxSlots: maxSlots is 0 (no limit), but the containment policy must list every "
        "slot's folders\n"
        "  hint: set maxSlots to the number of slots the cluster may run",
        id="max-slots-0-with-an-agent",
        services=edited(
            "services: []\n",
            "services:\n  - name: codex\n    when: \"{{ env == 'ai' }}\"\n    manifests:\n      - path: codex.yaml\n",
            edited("  dev: {}", "  dev: {}\n  ai: {}", CLUSTER.replace("maxSlots: 1", "maxSlots: 0")),
        ),
        files={"ns.yaml": NS, "cr.yaml": READER, "codex.yaml": DEPLOYMENT.format(name="codex")},
        stack="cluster",
    ),
]

# ---------------------------------------------------------------------------------------------- hook steps (hooks.py)


def hook(use: str, params: str) -> str:
    """BASE with one stack step ``step`` (line 13) of ``use`` with ``params`` (line 15)."""
    return BASE + f"hooks:\n  beforeAll:\n    - name: step\n      use: {use}\n      with: {params}\n"


HOOKS = [
    case(
        "<root>/services.yaml:14: hooks.beforeAll[1]: hook step name 'nap' is used twice in beforeAll\n"
        "  hint: step names name resources: make them unique within a stage",
        id="step-name-twice",
        services=BASE + "hooks:\n  beforeAll:\n"
        "    - {name: nap, use: sleep, with: {seconds: 1}}\n    - {name: nap, use: sleep, with: {seconds: 2}}\n",
    ),
    case(
        "<root>/services.yaml:12: infrastructure[0].hooks.afterApply[0].with: "
        "kubectl.wait does not know kind 'Widget'\n"
        "  hint: give apiVersion and plural for it",
        id="wait-for-an-unknown-kind",
        services=edited(
            "      - path: ns.yaml\n",
            "      - path: ns.yaml\n    hooks:\n      afterApply:\n"
            "        - {name: wait, use: kubectl.wait, with: {kind: Widget, name: w}}\n",
        ),
    ),
    case(
        "<root>/services.yaml:15: hooks.beforeAll[0].with: data root '/' is not allowed\n"
        "  hint: dataPaths.root must be an absolute folder other than /",
        id="data-dirs-root-slash",
        services=hook("codex.ensure-data-dirs", "{root: /}"),
    ),
    case(
        "<root>/services.yaml:15: hooks.beforeAll[0].with: data root 'data' is not allowed\n"
        "  hint: dataPaths.root must be an absolute folder other than /",
        id="data-dirs-root-relative",
        services=hook("codex.ensure-data-dirs", "{root: data}"),
    ),
    case(
        "<root>/services.yaml:15: hooks.beforeAll[0].with: data folder '/srv/d/pg' leaves '/srv/d/dev'\n"
        "  hint: dirs are plain names such as postgres or redis",
        id="data-dirs-leave-the-stacks-folder",
        services=hook("codex.ensure-data-dirs", "{root: /srv/d, dirs: [../pg]}"),
    ),
    case(
        "<root>/services.yaml:15: hooks.beforeAll[0].with: codex.reuse-dev-tls-secret needs a slot to name the secret\n"
        "  hint: set secretName, or use the step only in slot stacks (when: \"{{ env == 'ai' }}\")",
        id="tls-secret-outside-a-slot",
        services=hook("codex.reuse-dev-tls-secret", "{sourceNamespace: staging}"),
    ),
]


@pytest.mark.parametrize(("services", "files", "stack", "config", "expected"), [*IMAGES, *AGENT, *OWNERS, *HOOKS])
def test_plan_errors(
    tmp_path: Path, services: str, files: dict[str, str], stack: str, config: dict[str, object], expected: str
) -> None:
    check_plan_error(tmp_path, services, files, stack, config, expected)
