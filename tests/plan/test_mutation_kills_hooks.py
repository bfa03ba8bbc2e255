"""Hook steps as planned for a stack (docs/services-yaml-reference.md): where a bad step's error points, the data
folders a step given its own ``root`` makes, and the inputs its resource records.

Written against mutants of codex_stacks/plan/hooks.py that lived (issue #19).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from codex_stacks.errors import PlanError
from codex_stacks.plan import PlanRequest, build_plan
from tests.conftest import MakeProject

SERVICES = """\
project: demo
maxSlots: 3
namespace:
  patterns:
    ai: "{{ project }}-ai-{{ slot }}"
dataPaths:
  root: /srv/demo-data
environments:
  dev: {}
  ai: {}
infrastructure:
  - name: base
    manifests: [{path: ns.yaml}]
services:
  - name: web
    manifests: [{path: web.yaml}]
"""
FILES = {
    "ns.yaml": "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {{ namespace }}\n",
    "web.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\n",
}


def project(make_project: MakeProject, *, stack_hooks: str = "", web_hooks: str = "") -> Path:
    services = SERVICES + stack_hooks
    if web_hooks:
        services = services.replace(
            "    manifests: [{path: web.yaml}]\n", "    manifests: [{path: web.yaml}]\n" + web_hooks
        )
    return make_project(services, FILES)


def plan(root: Path, stack: str = "dev"):  # type: ignore[no-untyped-def]
    return build_plan(PlanRequest(stack=stack, project_dir=root))


def test_a_wait_for_an_unknown_kind_points_at_the_steps_parameters(make_project: MakeProject) -> None:
    hooks = "hooks:\n  afterAll:\n    - name: ready\n      use: kubectl.wait\n      with: {kind: Widget, name: w}\n"
    with pytest.raises(PlanError) as caught:
        plan(project(make_project, stack_hooks=hooks))
    assert caught.value.message == "kubectl.wait does not know kind 'Widget'"
    assert caught.value.location.path == "hooks.afterAll[0].with"
    assert caught.value.hint == "give apiVersion and plural for it"


def test_a_tls_step_outside_a_slot_points_at_its_component_and_says_what_to_do(make_project: MakeProject) -> None:
    hooks = (
        "    hooks:\n      afterApply:\n        - name: tls\n          use: codex.reuse-dev-tls-secret\n"
        "          with: {sourceNamespace: demo-staging}\n"
    )
    with pytest.raises(PlanError) as caught:
        plan(project(make_project, web_hooks=hooks))
    assert caught.value.message == "codex.reuse-dev-tls-secret needs a slot to name the secret"
    assert caught.value.location.path == "services[0].hooks.afterApply[0].with"
    assert caught.value.location.file is not None
    assert caught.value.location.file.name == "services.yaml"
    assert caught.value.location.line is not None
    assert caught.value.hint is not None
    assert "secretName" in caught.value.hint


@pytest.mark.parametrize(
    ("stack", "env_dir"),
    [("ai-slot-2", "/srv/elsewhere/slots/2"), ("dev", "/srv/elsewhere/dev")],
)
def test_a_data_dirs_step_with_its_own_root_makes_the_folders_under_it(
    make_project: MakeProject, stack: str, env_dir: str
) -> None:
    """docs/services-yaml-reference.md: ``with.root`` replaces dataPaths.root; the stack's folder is <root>/slots/<slot>
    in a slot, <root>/<env> otherwise."""
    hooks = (
        "hooks:\n  beforeAll:\n    - name: dirs\n      use: codex.ensure-data-dirs\n"
        "      with: {root: /srv/elsewhere, dirs: [postgres]}\n"
    )
    (step,) = plan(project(make_project, stack_hooks=hooks), stack).hooks
    assert step.params["root"] == "/srv/elsewhere"
    assert step.params["env_dir"] == env_dir
    assert step.params["paths"] == [f"{env_dir}/postgres"]


def test_a_data_dirs_step_without_a_root_uses_the_stacks_own_data_folder(make_project: MakeProject) -> None:
    """dataPaths.envDir is the stack's folder when it is set (not <root>/<env>)."""
    services = SERVICES.replace("  root: /srv/demo-data\n", "  root: /srv/demo-data\n  envDir: /srv/demo-data/mine\n")
    services += (
        "hooks:\n  beforeAll:\n    - name: dirs\n      use: codex.ensure-data-dirs\n      with: {dirs: [redis]}\n"
    )
    (step,) = plan(make_project(services, FILES)).hooks
    assert step.params["env_dir"] == "/srv/demo-data/mine"
    assert step.params["paths"] == ["/srv/demo-data/mine/redis"]


def test_the_steps_resource_records_that_it_runs_on_every_up(make_project: MakeProject) -> None:
    """What ``pulumi preview --diff`` and ``stack export`` show of the step resource."""
    hooks = (
        "hooks:\n  beforeAll:\n    - name: secrets\n      use: codex.ensure-codex-secrets\n"
        "    - name: pause\n      use: sleep\n      with: {seconds: 1}\n"
    )
    secrets, pause = plan(project(make_project, stack_hooks=hooks)).hooks
    assert secrets.inputs()["always"] is True
    assert pause.inputs()["always"] is False
