"""A service's ``overlays`` as every stack reads it, the line of a top-level list, and a secret
kept secret through ``slug``.

Found by a fresh mutation sample of config (seed 61): ``overlays: 5`` (or a list, or empty) was
dropped without a word, and an overlay for an environment the file does not define (a typo of
``stage``) was only refused by ``codexctl validate`` — preview and up deployed without the mounts.
A top-level list was blamed on line 1 whatever line it starts on, and a secret passed through
``| slug`` lost its mark (its manifest field was no longer recorded as secret).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from codex_stacks.errors import CodexError
from codex_stacks.plan import PlanRequest, build_plan
from tests.config.error_messages import problems_of, project, shown

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
spec:
  selector: {matchLabels: {app: x}}
  template:
    metadata: {labels: {app: x}}
    spec:
      containers: [{name: main, image: "placeholder:1"}]
"""

HEAD = """\
project: shop
environments:
  dev: {}
  stage: {}
services:
  - name: api
    manifests: [{path: deploy.yaml}]
"""
"""The service's ``overlays`` goes on line 8."""


def plan_error(services: str, stack: str = "dev") -> str:
    folder = project(services, {"deploy.yaml": DEPLOYMENT})
    with pytest.raises(CodexError) as caught:
        build_plan(PlanRequest(stack=stack, project_dir=folder))
    return shown(caught.value, folder)


def pod_spec(services: str, stack: str = "dev") -> dict[str, Any]:
    folder = project(services, {"deploy.yaml": DEPLOYMENT})
    plan = build_plan(PlanRequest(stack=stack, project_dir=folder))
    [workload] = [obj for obj in plan.objects if obj.kind == "Deployment"]
    spec: dict[str, Any] = workload.manifest["spec"]["template"]["spec"]
    return spec


@pytest.mark.parametrize(
    ("overlays", "expected"),
    [
        pytest.param(
            "5",
            "services.yaml:8: services[0].overlays: must be a mapping of environment names to overlays, not a number",
            id="number",
        ),
        pytest.param(
            "[dev]",
            "services.yaml:8: services[0].overlays: must be a mapping of environment names to overlays, not a list",
            id="list",
        ),
        pytest.param(
            "plain text",
            "services.yaml:8: services[0].overlays: must be a mapping of environment names to overlays, not a string",
            id="string",
        ),
        pytest.param(
            "{staging: {}}",
            "services.yaml:8: services[0].overlays.staging: api: overlays names unknown environment 'staging'\n"
            "  hint: known environments: dev, stage",
            id="unknown environment",
        ),
    ],
)
@pytest.mark.parametrize("stack", ["dev", "stage"])
def test_an_overlays_value_no_stack_can_use_stops_every_stack(overlays: str, expected: str, stack: str) -> None:
    assert plan_error(HEAD + f"    overlays: {overlays}\n", stack) == expected


def test_a_typo_among_the_environments_is_named_with_the_others() -> None:
    services = HEAD + "    overlays:\n      dev: {}\n      prod: {}\n      stag: {}\n"
    assert plan_error(services) == (
        "services.yaml:10: services[0].overlays.prod: api: overlays names unknown environment 'prod'\n"
        "  hint: known environments: dev, stage\n"
        "services.yaml:11: services[0].overlays.stag: api: overlays names unknown environment 'stag'\n"
        "  hint: known environments: dev, stage"
    )


SOURCE_MOUNT = "{hostMounts: [{name: src, hostPath: /src, mountPath: /app}]}"


def test_each_stack_gets_its_own_environments_overlay_only() -> None:
    """The other environment's overlay is not even evaluated: its template would fail here."""
    services = HEAD + f"    overlays:\n      dev: {SOURCE_MOUNT}\n      stage: {{hostMounts: '{{{{ nothing }}}}'}}\n"
    assert pod_spec(services, "dev")["volumes"] == [{"name": "src", "hostPath": {"path": "/src", "type": "Directory"}}]
    assert "volumes" not in pod_spec(HEAD + f"    overlays:\n      stage: {SOURCE_MOUNT}\n", "dev")


def test_overlays_written_as_one_template_still_apply() -> None:
    mount = "{'name': 'src', 'hostPath': '/src', 'mountPath': '/app'}"
    value = f"\"{{{{ {{'dev': {{'hostMounts': [{mount}]}}}} }}}}\""
    spec = pod_spec(HEAD + f"    overlays: {value}\n")
    assert spec["containers"][0]["volumeMounts"] == [{"name": "src", "mountPath": "/app"}]


@pytest.mark.parametrize("overlays", ["", "{}", "{stage: {}}"])
def test_an_empty_overlays_or_one_for_other_environments_adds_nothing(overlays: str) -> None:
    spec = pod_spec(HEAD + f"    overlays: {overlays}\n")
    assert "volumes" not in spec
    assert "volumeMounts" not in spec["containers"][0]


def test_a_template_for_overlays_that_gives_no_mapping_is_refused() -> None:
    assert plan_error(HEAD + '    overlays: "{{ 1 }}"\n') == (
        "services.yaml:8: services[0].overlays: Input should be a valid dictionary"
    )


@pytest.mark.parametrize(
    ("text", "line"),
    [
        pytest.param("- project\n- demo\n", 1, id="first line"),
        pytest.param("# a comment\n\n- project\n- demo\n", 3, id="after a comment"),
        pytest.param("---\n# explained\n- project\n", 3, id="after a document start"),
    ],
)
def test_a_top_level_list_is_blamed_on_the_line_it_starts(text: str, line: int) -> None:
    folder = project(text)
    with pytest.raises(CodexError) as caught:
        build_plan(PlanRequest(stack="dev", project_dir=folder))
    assert shown(caught.value, folder) == f"services.yaml:{line}: the top level must be a mapping of keys, not a list"


def test_a_slugged_secret_keeps_its_field_secret(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DB_PASSWORD", "Canary PW 7731")
    services = (
        "project: shop\nenvVars:\n  DB_PASSWORD: {secret: true}\nenvironments:\n  dev: {}\n"
        "infrastructure:\n  - name: base\n    manifests: [{path: cm.yaml}]\n"
    )
    config_map = (
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n"
        "data:\n  plain: {{ env_or('DB_PASSWORD') }}\n  slugged: {{ env_or('DB_PASSWORD') | slug }}\n"
    )
    folder = project(services, {"cm.yaml": config_map})
    plan = build_plan(PlanRequest(stack="dev", project_dir=folder))
    [obj] = [obj for obj in plan.objects if obj.kind == "ConfigMap" and obj.name == "x"]
    assert obj.manifest["data"] == {"plain": "Canary PW 7731", "slugged": "canary-pw-7731"}
    assert sorted(obj.secret_paths) == ["data.plain", "data.slugged"]


def test_an_overlay_in_a_file_without_environments_says_so() -> None:
    text = "project: demo\nservices:\n  - name: api\n    overlays: {dev: {}}\n"
    assert problems_of(text) == (
        "services.yaml:4: services[0].overlays.dev: api: overlays names unknown environment 'dev'\n"
        "  hint: the file defines no environments"
    )
