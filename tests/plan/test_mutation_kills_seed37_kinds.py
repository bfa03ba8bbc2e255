"""A workload whose pod template is not the shape Kubernetes' schema asks for (README, "Bad
input"): ``spec``, ``spec.template`` and the pod spec are mappings, a CronJob's ``jobTemplate``
too, and the containers, init containers, volumes and volume mounts are lists of mappings. The
plan reads and edits them (a service's image, the agent's workspace, the agent's NetworkPolicy
selector), so a stranger's manifest that breaks this is one error at the field's line, never a
traceback — for any service and for the agent's Deployment with a ``pvc`` workspace alike.

Written against a mutant of codex_stacks/plan/kinds.py (``pod_spec``) that lived in a fresh
sample (seed 37, issue #19); the tracebacks it pointed to were real.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from codex_stacks.errors import CodexError
from codex_stacks.plan import PlanRequest, build_plan
from tests.conftest import MakeProject

SERVICES = """\
project: demo
environments:
  dev: {}
codex:
  service: agent
WORKSPACE
services:
  - name: NAME
    image: {repository: registry.example/NAME, tagTemplate: "1"}
    manifests: [{path: app.yaml}]
"""
WORKSPACE = """\
  workspace:
    source: pvc
    mountPath: /workspace
    pvc: {claimName: agent-code, size: 1Gi, repositoryUrl: "https://github.com/acme/shop.git"}
"""
HEAD = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: NAME\n"

# (what follows metadata, the line of the field, the field, what Kubernetes' schema wants, what it is)
CASES = [
    pytest.param("spec: [replicas]\n", 5, "spec", "a mapping, not a list", id="spec-list"),
    pytest.param("spec: text\n", 5, "spec", "a mapping, not a string", id="spec-string"),
    pytest.param("spec:\n  template: [1]\n", 6, "spec.template", "a mapping, not a list", id="template-list"),
    pytest.param(
        "spec:\n  template:\n    spec: [a, b]\n", 7, "spec.template.spec", "a mapping, not a list", id="pod-spec-list"
    ),
    pytest.param(
        "spec:\n  template:\n    spec: text\n", 7, "spec.template.spec", "a mapping, not a string", id="pod-spec-string"
    ),
    pytest.param(
        "spec:\n  template:\n    spec:\n      containers: web\n",
        8,
        "spec.template.spec.containers",
        "a list of mappings, not a string",
        id="containers-string",
    ),
    pytest.param(
        "spec:\n  template:\n    spec:\n      containers: [web]\n",
        8,
        "spec.template.spec.containers",
        "a list of mappings, not a list holding a string",
        id="containers-of-strings",
    ),
    pytest.param(
        "spec:\n  template:\n    spec:\n      containers: [{name: web, image: web}]\n      volumes: data\n",
        9,
        "spec.template.spec.volumes",
        "a list of mappings, not a string",
        id="volumes-string",
    ),
    pytest.param(
        "spec:\n  template:\n    spec:\n      containers:\n"
        "        - name: web\n          image: web\n          volumeMounts: [/data]\n",
        11,
        "spec.template.spec.containers.0.volumeMounts",
        "a list of mappings, not a list holding a string",
        id="volume-mounts-of-strings",
    ),
]


@pytest.mark.parametrize("agent", [False, True], ids=["service", "agent-with-pvc-workspace"])
@pytest.mark.parametrize(("body", "line", "field", "wanted"), CASES)
def test_a_malformed_pod_template_is_one_error_at_its_line(
    make_project: MakeProject, agent: bool, body: str, line: int, field: str, wanted: str
) -> None:
    name = "agent" if agent else "web"
    services = SERVICES.replace("WORKSPACE\n", WORKSPACE if agent else "").replace("NAME", name)
    root = make_project(services, {"app.yaml": HEAD.replace("NAME", name) + body})
    with pytest.raises(CodexError) as caught:
        build_plan(PlanRequest(stack="dev", project_dir=root))
    assert str(caught.value) == f"{root / 'app.yaml'}:{line}: Deployment/demo-dev/{name}: {field}: must be {wanted}"


def test_a_cronjobs_job_template_that_is_not_a_mapping_is_refused_at_its_line(make_project: MakeProject) -> None:
    services = (
        "project: demo\nenvironments:\n  dev: {}\ninfrastructure:\n  - name: jobs\n    manifests: [{path: jobs.yaml}]\n"
    )
    cronjob = (
        "apiVersion: batch/v1\nkind: CronJob\nmetadata:\n  name: nightly\n"
        "spec:\n  schedule: '0 3 * * *'\n  jobTemplate: [run]\n"
    )
    root: Path = make_project(services, {"jobs.yaml": cronjob})
    with pytest.raises(CodexError) as caught:
        build_plan(PlanRequest(stack="dev", project_dir=root))
    assert str(caught.value) == (
        f"{root / 'jobs.yaml'}:7: CronJob/demo-dev/nightly: spec.jobTemplate: must be a mapping, not a list"
    )
