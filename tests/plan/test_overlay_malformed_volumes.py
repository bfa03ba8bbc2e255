"""An overlay's mounts on a manifest whose ``volumes``/``volumeMounts`` is not a list.

The overlay adds its host and PVC mounts to the service's workload. A manifest may write those
fields empty (``volumes:`` is null in YAML, which Kubernetes reads as no volumes) or as something
that is not a list at all (a stranger's manifest, a typo). Empty gets the overlay's mounts as if
the field were missing; anything else is the manifest's error, named at its line by the plan's
pod shape check — never a Python traceback from the overlay.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from codex_stacks.errors import CodexError
from codex_stacks.plan import PlanRequest, build_plan
from tests.plan.test_overlay_guards import SERVICES as ONE_SERVICE

SERVICES = ONE_SERVICE + (
    "    overlays:\n      dev:\n        hostMounts: [{name: src, hostPath: /src, mountPath: /app}]\n"
)


def deployment(volumes: str, mounts: str) -> str:
    # ``volumes`` is on line 10 and the container (with its mounts) on line 11.
    return f"""\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
spec:
  selector: {{matchLabels: {{app: x}}}}
  template:
    metadata: {{labels: {{app: x}}}}
    spec:
      volumes: {volumes}
      containers: [{{name: main, image: "placeholder:1", volumeMounts: {mounts}}}]
"""


def pod_spec(tmp_path: Path, volumes: str, mounts: str) -> dict[str, Any]:
    (tmp_path / "deploy.yaml").write_text(deployment(volumes, mounts), encoding="utf-8")
    (tmp_path / "services.yaml").write_text(SERVICES, encoding="utf-8")
    plan = build_plan(PlanRequest(stack="dev", project_dir=tmp_path))
    [workload] = [obj for obj in plan.objects if obj.kind == "Deployment"]
    spec: dict[str, Any] = workload.manifest["spec"]["template"]["spec"]
    return spec


SOURCE_VOLUME = {"name": "src", "hostPath": {"path": "/src", "type": "Directory"}}
SOURCE_MOUNT = {"name": "src", "mountPath": "/app"}
OWN_MOUNT = {"name": "a", "mountPath": "/a"}
OWN_MOUNTS = "[{name: a, mountPath: /a}]"


@pytest.mark.parametrize(
    ("volumes", "mounts", "expected_volumes", "expected_mounts"),
    [
        pytest.param("null", "null", [SOURCE_VOLUME], [SOURCE_MOUNT], id="both null"),
        pytest.param("null", OWN_MOUNTS, [SOURCE_VOLUME], [OWN_MOUNT, SOURCE_MOUNT], id="volumes null"),
        pytest.param("[]", "null", [SOURCE_VOLUME], [SOURCE_MOUNT], id="mounts null"),
    ],
)
def test_an_empty_field_gets_the_overlays_mounts(
    tmp_path: Path, volumes: str, mounts: str, expected_volumes: list[Any], expected_mounts: list[Any]
) -> None:
    spec = pod_spec(tmp_path, volumes, mounts)
    assert spec["volumes"] == expected_volumes
    assert spec["containers"][0]["volumeMounts"] == expected_mounts


VOLUMES_ERROR = (
    "{file}:10: Deployment/shop-dev/api: spec.template.spec.volumes: must be a list of mappings, not a string"
)
MOUNTS_ERROR = (
    "{file}:11: Deployment/shop-dev/api: spec.template.spec.containers.0.volumeMounts: "
    "must be a list of mappings, not a string"
)


@pytest.mark.parametrize(
    ("volumes", "mounts", "expected"),
    [
        pytest.param('"oops"', OWN_MOUNTS, [VOLUMES_ERROR], id="volumes a string"),
        pytest.param("[]", '"bad"', [MOUNTS_ERROR], id="volumeMounts a string"),
        pytest.param("null", '"bad"', [MOUNTS_ERROR], id="volumeMounts a string, volumes null"),
        pytest.param('"oops"', '"bad"', [VOLUMES_ERROR, MOUNTS_ERROR], id="both strings"),
    ],
)
def test_a_field_that_is_not_a_list_is_the_manifests_error_at_its_line(
    tmp_path: Path, volumes: str, mounts: str, expected: list[str]
) -> None:
    with pytest.raises(CodexError) as caught:
        pod_spec(tmp_path, volumes, mounts)
    file = tmp_path / "deploy.yaml"
    assert str(caught.value).splitlines() == [line.format(file=file) for line in expected]
