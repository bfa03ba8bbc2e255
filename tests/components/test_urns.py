"""URNs, and the repair set's ``--target`` list, built here the way Pulumi's engine builds them.

The construction below is this test's own, written from pulumi/pulumi
``sdk/go/common/resource/urn/urn.go`` (``New``): a resource's URN is
``urn:pulumi:<stack>::<project>::<type>::<name>``, where ``<type>`` is the parent's qualified type,
``$``, then the resource's own type, except when the parent is the root stack
(``pulumi:pulumi:Stack``, ``tokens.RootStackType``) or there is no parent: then it is the type
alone. The root stack itself is named ``<project>-<stack>`` (the SDKs' root resource). Each
registration's expected URN is built from its own type and name and its parent's *expected*
qualified type, so the code that makes URNs is never consulted; a parent is found only by which
registration it is.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from codex_stacks.offline.runner import ProgramRun, Registration, run_program
from tests.conftest import EXAMPLE, REPO_ROOT

PROJECT = yaml.safe_load((REPO_ROOT / "Pulumi.yaml").read_text(encoding="utf-8"))["name"]
ROOT_STACK_TYPE = "pulumi:pulumi:Stack"
TYPE_DELIMITER = "$"
NAME_DELIMITER = "::"


def new_urn(stack: str, project: str, parent_type: str, base_type: str, name: str) -> str:
    """urn.go ``New(stack, proj, parentType, baseType, name)``."""
    typ = base_type
    if parent_type not in ("", ROOT_STACK_TYPE):
        typ = parent_type + TYPE_DELIMITER + typ
    return "urn:pulumi:" + stack + NAME_DELIMITER + project + NAME_DELIMITER + typ + NAME_DELIMITER + name


def root_stack_urn(stack: str) -> str:
    return new_urn(stack, PROJECT, "", ROOT_STACK_TYPE, f"{PROJECT}-{stack}")


def expected_urns(run: ProgramRun) -> dict[int, str]:
    """Registration (by position) → the URN the engine gives it."""
    by_urn = {r.urn: r for r in run.registrations}
    qualified: dict[int, str] = {}

    def qualified_type(registration: Registration, trail: tuple[int, ...] = ()) -> str:
        key = id(registration)
        assert key not in trail, f"{registration.name}: parent cycle"
        if key not in qualified:
            if registration.parent in ("", root_stack_urn(run.stack)):
                qualified[key] = registration.type
            else:
                assert registration.parent in by_urn, f"{registration.name}: parent {registration.parent} unknown"
                parent_type = qualified_type(by_urn[registration.parent], (*trail, key))
                qualified[key] = parent_type + TYPE_DELIMITER + registration.type
        return qualified[key]

    result = {}
    for index, registration in enumerate(run.registrations):
        qualified_type(registration)
        parent = by_urn.get(registration.parent)
        parent_type = qualified[id(parent)] if parent is not None else ""
        result[index] = new_urn(run.stack, PROJECT, parent_type, registration.type, registration.name)
    return result


def test_every_urn_of_the_example_is_the_engines() -> None:
    """Every resource of the example's slot stack, components' children and hook steps included."""
    run = run_program("ai-slot-3", {"codex:projectDir": str(EXAMPLE)})
    assert len(run.registrations) > 20
    expected = expected_urns(run)
    wrong = [(r.urn, expected[i]) for i, r in enumerate(run.registrations) if r.urn != expected[i]]
    assert wrong == []
    nested = [r for r in run.registrations if r.parent != root_stack_urn("ai-slot-3")]
    assert nested, "the example has components with children"


NAMESPACE = """\
apiVersion: v1
kind: Namespace
metadata:
  name: "{{ namespace }}"
"""

SERVICES = """\
project: demo
maxSlots: 3
namespace:
  patterns:
    ai: "demo-ai-{{ slot }}"
environments:
  ai: {}
hooks:
  beforeAll:
    - name: prepare
      use: sleep
      repair: true
      with:
        seconds: 0.01
  afterAll:
    - name: announce
      use: sleep
      repair: true
      with:
        seconds: 0.01
    - name: settle
      use: sleep
      with:
        seconds: 0.01
infrastructure:
  - name: base
    manifests:
      - path: ns.yaml
    hooks:
      afterApply:
        - name: wait
          use: sleep
          with:
            seconds: 0.01
  - name: data
    manifests:
      - path: cm.yaml
services: []
"""


def project(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "services.yaml").write_text(SERVICES, encoding="utf-8")
    (folder / "ns.yaml").write_text(NAMESPACE, encoding="utf-8")
    (folder / "cm.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  a: b\n")
    return folder


def test_repair_targets_are_exactly_what_a_targeted_repair_run_registers(tmp_path: Path) -> None:
    """``pulumi up --target`` fails on a URN the program does not register, and leaves out what
    it registers but is not targeted: the normal run's ``repairTargets`` must be the URNs (as the
    engine makes them) of everything the repair run registers — the provider, the group holding
    the Namespace with its object and step, and the stack steps marked ``repair: true``, the
    afterAll one included (docs/repair.md)."""
    folder = project(tmp_path / "project")
    repair = run_program("ai-slot-1", {"codex:projectDir": str(folder), "codex:mode": "repair"})
    normal = run_program("ai-slot-1", {"codex:projectDir": str(folder), "codex:mode": "normal"})
    registered = sorted(expected_urns(repair).values())
    by_hand = [
        new_urn("ai-slot-1", PROJECT, "", "pulumi:providers:kubernetes", "kubernetes"),
        new_urn("ai-slot-1", PROJECT, "", "pulumi-python:dynamic/codex-hooks:Sleep", "hook/afterAll/announce"),
        new_urn("ai-slot-1", PROJECT, "", "pulumi-python:dynamic/codex-hooks:Sleep", "hook/beforeAll/prepare"),
        new_urn("ai-slot-1", PROJECT, "", "codex:stack:InfrastructureGroup", "base"),
        new_urn(
            "ai-slot-1",
            PROJECT,
            "codex:stack:InfrastructureGroup",
            "kubernetes:core/v1:Namespace",
            "base/namespace/demo-ai-1",
        ),
        new_urn(
            "ai-slot-1",
            PROJECT,
            "codex:stack:InfrastructureGroup",
            "pulumi-python:dynamic/codex-hooks:Sleep",
            "base/hook/afterApply/wait",
        ),
    ]
    assert registered == sorted(by_hand)
    assert normal.outputs["repairTargets"] == registered
    assert repair.outputs["repairTargets"] == registered
