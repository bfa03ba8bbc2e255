"""The Pod Security level a stack's namespace enforces (docs/security.md): the legacy AppArmor
annotation set to ``runtime/default`` is allowed by baseline (kubernetes.io Pod Security
Standards, "AppArmor": the annotation may be undefined, ``runtime/default`` or ``localhost/*``),
so a pod that is otherwise restricted keeps its namespace at ``restricted``.

Written against a mutant of codex_stacks/plan/podsecurity.py that lived in a fresh sample (seed
31, issue #19).
"""

from __future__ import annotations

from codex_stacks.plan import PlanRequest, build_plan
from tests.conftest import MakeProject

ENFORCE = "pod-security.kubernetes.io/enforce"
SERVICES = """\
project: demo
environments:
  staging: {}
infrastructure:
  - name: base
    manifests: [{path: ns.yaml}]
  - name: web
    manifests: [{path: web.yaml}]
"""
NAMESPACE = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {{ namespace }}\n"
WEB = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata:
      labels: {app: web}
      annotations: {container.apparmor.security.beta.kubernetes.io/web: PROFILE}
    spec:
      securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}
      containers:
        - name: web
          image: web
          securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}
"""


def enforced(make_project: MakeProject, profile: str) -> str:
    root = make_project(SERVICES, {"ns.yaml": NAMESPACE, "web.yaml": WEB.replace("PROFILE", profile)})
    plan = build_plan(PlanRequest(stack="staging", project_dir=root))
    (namespace,) = [obj for obj in plan.objects if obj.kind == "Namespace"]
    return str(namespace.manifest["metadata"]["labels"][ENFORCE])


def test_the_runtime_default_apparmor_annotation_keeps_the_namespace_restricted(make_project: MakeProject) -> None:
    assert enforced(make_project, "runtime/default") == "restricted"
    # any other value is outside baseline, so the namespace must let privileged pods run
    assert enforced(make_project, "unconfined") == "privileged"
    assert enforced(make_project, "RUNTIME/DEFAULT") == "privileged"
