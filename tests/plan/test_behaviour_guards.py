"""Behaviours of the plan that a user relies on, each with an expectation written out by hand.

Guards for issue #19's mutation audit: the default repair set when a broken group comes first,
the apply order inside a component (what a workload mounts or reads comes before it), and a plan
that is the same in every process. The fixtures are dialect-neutral: no ``{% %}`` in
services.yaml, ``{{ }}`` only inside quoted scalars.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from codex_stacks.plan import PlanRequest, build_plan
from tests.conftest import MakeProject

NAMESPACE = """\
apiVersion: v1
kind: Namespace
metadata:
  name: "{{ namespace }}"
"""

BROKEN_FIRST = """\
project: demo
maxSlots: 3
namespace:
  patterns:
    ai: "demo-ai-{{ slot }}"
environments:
  ai: {}
infrastructure:
  - name: broken
    manifests:
      - path: broken.yaml
  - name: base
    manifests:
      - path: ns.yaml
services: []
"""


def test_default_repair_set_is_the_namespace_group_even_when_a_broken_group_comes_first(
    make_project: MakeProject,
) -> None:
    """README, "Repairing a broken slot": by default the repair set holds the group with the
    Namespace; a group that cannot render (listed before it) must not empty that set."""
    root = make_project(BROKEN_FIRST, {"ns.yaml": NAMESPACE, "broken.yaml": 'data: "{{ no_such_variable }}"\n'})
    plan = build_plan(PlanRequest(stack="ai-slot-1", project_dir=root, mode="repair"))
    assert [component.name for component in plan.components] == ["base"]
    assert [(obj.kind, obj.name) for obj in plan.objects] == [("Namespace", "demo-ai-1")]
    assert {(item.name, item.reason) for item in plan.skipped} == {("broken", "not in the repair set")}


ONE_GROUP = """\
project: demo
maxSlots: 3
namespace:
  patterns:
    ai: "demo-ai-{{ slot }}"
environments:
  ai: {}
infrastructure:
  - name: base
    manifests:
      - path: ns.yaml
  - name: app
    manifests:
      - path: app.yaml
services: []
"""

APP_IN_FILE_ORDER = """\
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: web
spec:
  rules: []
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      serviceAccountName: web
      containers:
        - name: web
          image: web:1
          envFrom: [{configMapRef: {name: web}}, {secretRef: {name: web}}]
          volumeMounts: [{name: data, mountPath: /data}]
      volumes: [{name: data, persistentVolumeClaim: {claimName: web-data}}]
---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector: {app: web}
  ports: [{port: 80}]
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: web-data
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 1Gi}}
---
apiVersion: v1
kind: Secret
metadata:
  name: web
stringData: {KEY: value}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: web
data: {A: b}
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: web
"""

MUST_PRECEDE = {
    # what a Deployment's pods mount, read or run as exists before the Deployment
    ("PersistentVolumeClaim", "Deployment"),
    ("ConfigMap", "Deployment"),
    ("Secret", "Deployment"),
    ("ServiceAccount", "Deployment"),
    # the Service an Ingress routes to exists before the Ingress
    ("Service", "Ingress"),
}
"""Kubernetes refuses nothing here, but a pod that starts before its claim, config or account
fails (FailedMount, CreateContainerConfigError, ServiceAccount not found); written out by hand."""


def test_what_a_workload_mounts_and_reads_is_applied_before_it(make_project: MakeProject) -> None:
    root = make_project(ONE_GROUP, {"ns.yaml": NAMESPACE, "app.yaml": APP_IN_FILE_ORDER})
    app = build_plan(PlanRequest(stack="ai-slot-1", project_dir=root)).component("app")
    order = [obj.kind for obj in app.objects]
    assert sorted(order) == sorted(
        ["Ingress", "Deployment", "Service", "PersistentVolumeClaim", "Secret", "ConfigMap", "ServiceAccount"]
    )
    for first, then in MUST_PRECEDE:
        assert order.index(first) < order.index(then), f"{first} must come before {then}: {order}"


PLAN_SUMMARY = """
import json, sys
from pathlib import Path
from codex_stacks.plan import PlanRequest, build_plan
plan = build_plan(PlanRequest(stack="ai-slot-2", project_dir=Path(sys.argv[1])))
print(json.dumps([[c.name, [[o.key, o.manifest] for o in c.objects]] for c in plan.components], sort_keys=True))
"""


def test_the_plan_is_the_same_in_every_process(make_project: MakeProject) -> None:
    """A process with another hash seed than this one (set and dict orders differ between them)
    plans the same objects in the same order: a second run in one process could not show that."""
    root = make_project(ONE_GROUP, {"ns.yaml": NAMESPACE, "app.yaml": APP_IN_FILE_ORDER})
    seed = "2" if os.environ.get("PYTHONHASHSEED") == "1" else "1"
    done = subprocess.run(
        [sys.executable, "-c", PLAN_SUMMARY, str(root)],
        env={**os.environ, "PYTHONHASHSEED": seed},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    plan = build_plan(PlanRequest(stack="ai-slot-2", project_dir=root))
    here = [[c.name, [[o.key, o.manifest] for o in c.objects]] for c in plan.components]
    assert json.loads(done.stdout) == json.loads(json.dumps(here, sort_keys=True))
    assert [name for name, _ in here] == ["base", "app"]
