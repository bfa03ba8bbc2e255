"""Which items a stack leaves out and why (docs/services-yaml.md, ``when:`` and
``slotBootstrapInfra``): a ``when:`` that renders blank is named as empty, and a slot
environment's bootstrap list naming a group that does not exist is one located error.

Written against mutants of codex_stacks/plan/build.py that lived in a fresh sample (seed 31,
issue #19).
"""

from __future__ import annotations

import pytest

from codex_stacks.errors import ConfigError
from codex_stacks.plan import PlanRequest, build_plan
from tests.conftest import MakeProject

CONFIGMAP = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n"


def test_a_when_that_renders_blank_is_reported_as_empty(make_project: MakeProject) -> None:
    services = """\
project: demo
environments:
  dev: {}
infrastructure:
  - name: base
    manifests: [{path: base.yaml}]
  - name: extras
    when: "{{ '  ' }}"
    manifests: [{path: extras.yaml}]
services:
  - name: web
    when: "{{ '' }}"
    manifests: [{path: web.yaml}]
"""
    files = {
        name: CONFIGMAP.format(name=name.removesuffix(".yaml")) for name in ("base.yaml", "extras.yaml", "web.yaml")
    }
    plan = build_plan(PlanRequest(stack="dev", project_dir=make_project(services, files)))
    reasons = {(item.kind, item.name): item.reason for item in plan.skipped}
    assert reasons == {
        ("InfrastructureGroup", "extras"): "when: is 'empty' for this stack",
        ("ServiceComponent", "web"): "when: is 'empty' for this stack",
    }


SLOT_SERVICES = """\
project: demo
maxSlots: 2
environments:
  dev: {}
  ai:
    slotBootstrapInfra: [base, databases]
infrastructure:
  - name: base
    manifests: [{path: base.yaml}]
"""


def test_a_slot_bootstrap_list_naming_an_unknown_group_is_one_located_error(make_project: MakeProject) -> None:
    root = make_project(SLOT_SERVICES, {"base.yaml": CONFIGMAP.format(name="base")})
    with pytest.raises(ConfigError) as caught:
        build_plan(PlanRequest(stack="ai-slot-1", project_dir=root))
    error = caught.value
    assert error.message == "environments.ai.slotBootstrapInfra names unknown infrastructure group 'databases'"
    # services.yaml line 6 holds the list; 'databases' is its second entry
    assert error.location.file is not None
    assert error.location.file.name == "services.yaml"
    assert error.location.line == 6
    assert error.location.path == "environments.ai.slotBootstrapInfra[1]"
    assert "Traceback" not in str(error)
