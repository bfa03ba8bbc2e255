"""What a user sees of the overlays' rules: the whole error when an image reaches no workload,
and a cluster-scoped object rendered without the namespace its manifest gave it.

Found by ``make mutation`` (mutants of codex_stacks/plan/overlays.py that the suite let live):
the hint lines of both image errors, the list of workload kinds in their message, and the
namespace a cluster-scoped object keeps.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from codex_stacks.errors import CodexError
from codex_stacks.plan import PlanRequest, build_plan

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api-server
spec:
  selector: {matchLabels: {app: x}}
  template:
    metadata: {labels: {app: x}}
    spec:
      containers: [{name: main, image: "placeholder:1"}]
"""

SERVICES = """\
project: shop
environments:
  dev: {}
services:
  - name: api
    manifests: [{path: deploy.yaml}]
    image: {repository: reg/shop/api, tagTemplate: "1.0"}
"""

WORKLOAD_KINDS = "CronJob, DaemonSet, Deployment, Job, ReplicaSet, StatefulSet"
"""The workload kinds of Kubernetes that run a pod template, sorted (apps/v1 and batch/v1)."""


def image_error(folder: Path, extra: str = "") -> str:
    folder.mkdir()
    (folder / "deploy.yaml").write_text(DEPLOYMENT, encoding="utf-8")
    (folder / "services.yaml").write_text(SERVICES + extra, encoding="utf-8")
    with pytest.raises(CodexError) as caught:
        build_plan(PlanRequest(stack="dev", project_dir=folder))
    return str(caught.value)


def test_an_image_for_no_workload_is_shown_with_the_kinds_and_what_to_do(tmp_path: Path) -> None:
    text = image_error(tmp_path / "p")
    assert text == (
        f"{tmp_path / 'p' / 'services.yaml'}:7: services[0].image: service api: its image goes to no "
        f"workload: none of its objects ({WORKLOAD_KINDS}) is named 'api'\n"
        "  hint: name the workload like the service, or say which one with workload:, or remove image:"
    )


def test_a_workload_naming_nothing_is_shown_with_the_kinds_and_what_to_do(tmp_path: Path) -> None:
    text = image_error(tmp_path / "p", "    workload: worker\n")
    assert text == (
        f"{tmp_path / 'p' / 'services.yaml'}:7: services[0].image: service api: workload 'worker' is not "
        f"among its objects ({WORKLOAD_KINDS})\n"
        "  hint: workload: names the Deployment (or other workload) of the service's manifests that runs its image"
    )


CLUSTER_ROLE = """\
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: reader
  namespace: somewhere
rules: []
"""


def test_a_cluster_scoped_object_is_rendered_without_a_namespace(tmp_path: Path) -> None:
    """A ClusterRole lives outside namespaces: the ``namespace`` its manifest names is dropped
    (the cluster stack, the one stack that may hold cluster-scoped objects, docs/security.md)."""
    (tmp_path / "role.yaml").write_text(CLUSTER_ROLE, encoding="utf-8")
    (tmp_path / "services.yaml").write_text(
        "project: shop\nenvironments:\n  cluster: {scope: cluster}\ninfrastructure:\n  - name: rbac\n"
        "    manifests: [{path: role.yaml}]\nservices: []\n",
        encoding="utf-8",
    )
    plan = build_plan(PlanRequest(stack="cluster", project_dir=tmp_path))
    [role] = [obj for obj in plan.objects if obj.kind == "ClusterRole" and obj.name == "reader"]
    assert role.manifest["metadata"] == {"name": "reader"}
