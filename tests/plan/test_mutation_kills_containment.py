"""Where the containment and stack errors point (docs/security.md, docs/services-yaml.md): the
file, line and key path a user opens to fix them, and the hint.

Written against mutants of codex_stacks/plan/containment.py and target.py that lived (issue #19).
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from codex_stacks.errors import CodexError, PlanError
from codex_stacks.plan import PlanRequest, build_plan
from tests.conftest import MakeProject

NS_YAML = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {{ namespace }}\n"
AGENT_YAML = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: codex
spec:
  selector: {matchLabels: {app: codex}}
  template:
    metadata: {labels: {app: codex}}
    spec:
      containers:
        - {name: agent, image: codex}
"""


def slot_project(make_project: MakeProject, extra: str) -> Path:
    services = textwrap.dedent("""\
        project: demo
        maxSlots: 2
        environments: {ai: {}, dev: {}}
        infrastructure:
          - name: base
            manifests: [{path: ns.yaml}, {path: extra.yaml}]
        services:
          - name: codex
            manifests: [{path: codex.yaml}]
        """)
    return make_project(services, {"ns.yaml": NS_YAML, "extra.yaml": extra, "codex.yaml": AGENT_YAML})


def test_a_project_object_named_like_a_generated_network_policy(make_project: MakeProject) -> None:
    extra = (
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n---\n"
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: codex-default-deny\n"
        "spec:\n  podSelector: {}\n"
    )
    root = slot_project(make_project, extra)
    with pytest.raises(PlanError) as caught:
        build_plan(PlanRequest(stack="ai-slot-1", project_dir=root))
    assert caught.value.message == (
        "NetworkPolicy/demo-ai-1/codex-default-deny of base has the name of an object codex stacks generates"
    )
    assert caught.value.hint == "rename it"
    assert (caught.value.location.file.name, caught.value.location.line) == ("extra.yaml", 6)  # type: ignore[union-attr]


def test_a_cluster_object_in_a_namespace_stack_points_at_its_line(make_project: MakeProject) -> None:
    extra = (
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n---\n"
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: reader\nrules: []\n"
    )
    root = slot_project(make_project, extra)
    with pytest.raises(PlanError, match="ClusterRole/reader of base is cluster-scoped") as caught:
        build_plan(PlanRequest(stack="dev", project_dir=root))
    assert (caught.value.location.file.name, caught.value.location.line) == ("extra.yaml", 6)  # type: ignore[union-attr]


def test_a_cluster_environment_that_inherits_is_named_at_its_from_key(make_project: MakeProject) -> None:
    root = make_project("project: demo\nenvironments:\n  a: {}\n  b: {from: a, scope: cluster}\n")
    with pytest.raises(CodexError, match="neither inherits nor is inherited") as caught:
        build_plan(PlanRequest(stack="a", project_dir=root))
    assert caught.value.location.path == "environments.b.from"
    assert caught.value.location.line == 4


def test_slots_as_the_cluster_environment_are_named_at_the_scope_key(make_project: MakeProject) -> None:
    root = make_project("project: demo\nenvironments:\n  dev: {}\n  ai:\n    scope: cluster\n")
    with pytest.raises(PlanError, match="cannot have scope: cluster") as caught:
        build_plan(PlanRequest(stack="ai-slot-1", project_dir=root))
    assert caught.value.location.path == "environments.ai.scope"
    assert caught.value.location.line == 5


def test_a_slot_above_max_slots_names_the_setting(make_project: MakeProject) -> None:
    root = make_project("project: demo\nmaxSlots: 2\nenvironments:\n  ai: {}\n")
    with pytest.raises(PlanError, match="slot 3 is out of range") as caught:
        build_plan(PlanRequest(stack="ai-slot-3", project_dir=root))
    assert caught.value.location.file == root / "services.yaml"
    assert caught.value.location.path == "maxSlots"
    assert caught.value.hint == "use a slot from 1 to 2, or raise maxSlots"
