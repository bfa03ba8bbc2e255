"""What a plan leaves out and why, name filters (``--only-services`` … ``--skip-infra``), and
``dependsOn`` errors, as ``codexctl render``/``targets`` show them (docs/services-yaml.md).

Written against mutants of codex_stacks/plan/build.py and filters.py that lived (issue #19).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from codex_stacks.errors import CodexError, PlanError
from codex_stacks.plan import PlanRequest, build_plan
from codex_stacks.plan.filters import NameFilters
from tests.conftest import MakeProject

SERVICES = """\
project: demo
maxSlots: 3
environments:
  dev: {}
infrastructure:
  - name: base
    manifests: [{path: ns.yaml}]
  - name: extras
    manifests: [{path: extras.yaml}]
services:
  - name: web
    manifests: [{path: web.yaml}]
  - name: worker
    manifests: [{path: worker.yaml}]
"""
FILES = {
    "ns.yaml": "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {{ namespace }}\n",
    "extras.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extras\n",
    "web.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\n",
    "worker.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: worker\n",
}


def plan(root: Path, mode: str = "normal", **filters: str):  # type: ignore[no-untyped-def]
    return build_plan(
        PlanRequest(stack="dev", project_dir=root, mode=mode, filters=NameFilters.parse(**filters) if filters else None)
    )


def skipped(result) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {item.name: item.reason for item in result.skipped}


def test_skip_infra_leaves_the_group_out(make_project: MakeProject) -> None:
    result = plan(make_project(SERVICES, FILES), skip_infra="Extras ")
    assert [component.name for component in result.components] == ["base", "web", "worker"]
    assert skipped(result) == {"extras": "left out by --skip-infra"}


def test_skip_services_says_which_option_left_a_service_out(make_project: MakeProject) -> None:
    result = plan(make_project(SERVICES, FILES), skip_services="worker")
    assert skipped(result) == {"worker": "left out by --skip-services"}
    result = plan(make_project(SERVICES, FILES), only_services="worker")
    assert skipped(result) == {"web": "left out by --only-services"}


def test_a_repair_run_says_a_service_is_not_in_the_repair_set(make_project: MakeProject) -> None:
    root = make_project(SERVICES + "repair:\n  services: [web]\n", FILES)
    result = plan(root, mode="repair")
    assert skipped(result)["worker"] == "not in the repair set"


def test_an_unknown_name_in_a_filter_is_refused_with_a_suggestion(make_project: MakeProject) -> None:
    with pytest.raises(PlanError) as caught:
        plan(make_project(SERVICES, FILES), only_services="wrker")
    assert caught.value.message == "--only-services: services.yaml has no services item named 'wrker'"
    assert caught.value.hint == "did you mean 'worker'?"


def test_a_filter_on_an_empty_section_says_it_is_empty(make_project: MakeProject) -> None:
    root = make_project(SERVICES.split("services:")[0] + "services: []\n", FILES)
    with pytest.raises(PlanError) as caught:
        plan(root, only_services="web")
    assert caught.value.hint == "services: none"


def test_an_unknown_dependency_gets_a_suggestion(make_project: MakeProject) -> None:
    root = make_project(
        SERVICES.replace(
            "    manifests: [{path: web.yaml}]", "    dependsOn: [bse]\n    manifests: [{path: web.yaml}]"
        ),
        FILES,
    )
    with pytest.raises(CodexError) as caught:
        plan(root)
    assert caught.value.message == "web: dependsOn names unknown item 'bse'"
    assert caught.value.hint == "did you mean 'base'?"
    assert caught.value.location.path == "services[0].dependsOn[0]"


def test_a_dependency_cycle_says_how_to_break_it(make_project: MakeProject) -> None:
    root = make_project(
        SERVICES.replace(
            "    manifests: [{path: web.yaml}]", "    dependsOn: [worker]\n    manifests: [{path: web.yaml}]"
        ).replace("    manifests: [{path: worker.yaml}]", "    dependsOn: [web]\n    manifests: [{path: worker.yaml}]"),
        FILES,
    )
    with pytest.raises(CodexError) as caught:
        plan(root)
    assert caught.value.message == "dependsOn forms a cycle: web -> worker -> web"
    assert caught.value.hint == "remove one of these dependsOn entries"
