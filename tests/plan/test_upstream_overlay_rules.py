"""Overlay rules kept as upstream codexctl had them, so an imported project deploys the same:
host mounts are type Directory by default, a manifest's imagePullPolicy is kept, and a
service's image must reach a workload (named like the service, or by workload:)."""

from __future__ import annotations

from pathlib import Path

import pytest

from codex_stacks.config.model import Overlay
from codex_stacks.errors import CodexError
from codex_stacks.plan import PlanRequest, build_plan
from codex_stacks.plan.overlays import apply_service_overlay

DEPLOYMENT = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
spec:
  selector: {{matchLabels: {{app: x}}}}
  template:
    metadata: {{labels: {{app: x}}}}
    spec:
      containers:
        - name: main
          image: placeholder:1
{policy}"""


def project(tmp_path: Path, *, deployment: str, service: str = "api", extra: str = "", policy: str = "") -> Path:
    (tmp_path / "deploy.yaml").write_text(
        DEPLOYMENT.format(name=deployment, policy=f"          imagePullPolicy: {policy}\n" if policy else ""),
        encoding="utf-8",
    )
    (tmp_path / "services.yaml").write_text(
        f"""project: shop
environments:
  dev: {{imagePullPolicy: IfNotPresent}}
services:
  - name: {service}
    manifests: [{{path: deploy.yaml}}]
    image: {{repository: reg/shop/api, tagTemplate: "1.0"}}
{extra}""",
        encoding="utf-8",
    )
    return tmp_path


def container(tmp_path: Path) -> dict[str, object]:
    plan = build_plan(PlanRequest(stack="dev", project_dir=tmp_path))
    deployment = next(obj for obj in plan.objects if obj.kind == "Deployment")
    return deployment.manifest["spec"]["template"]["spec"]["containers"][0]  # type: ignore[no-any-return]


def test_a_host_mount_without_a_type_must_find_a_folder() -> None:
    overlay = Overlay.model_validate(
        {
            "hostMounts": [
                {"name": "src", "hostPath": "/srv/src", "mountPath": "/app"},
                {"name": "sock", "hostPath": "/var/run/docker.sock", "mountPath": "/sock", "type": "Socket"},
            ]
        }
    )
    manifest = {
        "kind": "Deployment",
        "metadata": {"name": "api"},
        "spec": {"template": {"spec": {"containers": [{"name": "c"}]}}},
    }
    pod = apply_service_overlay(manifest, service="api", image=None, overlay=overlay, pull_policy=None)["spec"][
        "template"
    ]["spec"]
    assert pod["volumes"] == [
        {"name": "src", "hostPath": {"path": "/srv/src", "type": "Directory"}},
        {"name": "sock", "hostPath": {"path": "/var/run/docker.sock", "type": "Socket"}},
    ]


def test_the_manifest_pull_policy_is_kept_and_a_missing_one_filled(tmp_path: Path) -> None:
    kept = container(project(tmp_path / "kept", deployment="api", policy="Always"))
    filled = container(project(tmp_path / "filled", deployment="api"))
    assert kept["imagePullPolicy"] == "Always"
    assert filled["imagePullPolicy"] == "IfNotPresent"
    assert kept["image"] == filled["image"] == "reg/shop/api:1.0"


@pytest.fixture(autouse=True)
def _folders(tmp_path: Path) -> None:
    for name in ("kept", "filled", "named", "missing", "none"):
        (tmp_path / name).mkdir()


def test_an_image_that_reaches_no_workload_is_an_error_naming_the_service(tmp_path: Path) -> None:
    folder = project(tmp_path / "none", deployment="api-server")
    with pytest.raises(CodexError) as caught:
        build_plan(PlanRequest(stack="dev", project_dir=folder))
    text = str(caught.value)
    assert "service api" in text
    assert "services[0].image" in text
    assert "workload:" in text


def test_workload_names_the_one_that_gets_the_image(tmp_path: Path) -> None:
    folder = project(tmp_path / "named", deployment="api-server", extra="    workload: api-server\n")
    assert container(folder)["image"] == "reg/shop/api:1.0"


def test_workload_naming_nothing_is_an_error(tmp_path: Path) -> None:
    folder = project(tmp_path / "missing", deployment="api", extra="    workload: worker\n")
    with pytest.raises(CodexError, match="workload 'worker' is not among its objects"):
        build_plan(PlanRequest(stack="dev", project_dir=folder))
