"""The cluster stack's refusals say what is wrong and where (docs/security.md, "The cluster
stack"): a group that would land in codex-system is told the rule it broke, and ``maxSlots: 0``
is pointed at its own line of services.yaml.

Written against mutants of codex_stacks/plan/containment.py that lived in a fresh sample (seed 29,
issue #19).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from codex_stacks.errors import PlanError
from codex_stacks.plan import PlanRequest, build_plan


def test_a_group_landing_in_codex_system_is_told_the_cluster_stack_owns_only_objects_outside(
    example_copy: Path,
) -> None:
    services = example_copy / "services.yaml"
    guarded = "  - name: observability\n    when: \"{{ env != 'cluster' }}\"\n"
    text = services.read_text(encoding="utf-8")
    assert guarded in text
    services.write_text(text.replace(guarded, "  - name: observability\n"), encoding="utf-8")
    with pytest.raises(PlanError) as caught:
        build_plan(PlanRequest(stack="cluster", project_dir=example_copy))
    # the first object of deploy/jaeger.yaml, the group's first manifest
    assert caught.value.message == (
        "ConfigMap/codex-system/jaeger-config of observability would land in codex-system, the cluster "
        "stack's own namespace: the cluster stack owns only objects outside the project's namespaces"
    )
    assert caught.value.location.file == (example_copy / "deploy" / "jaeger.yaml").resolve()


def test_max_slots_zero_is_pointed_at_its_line_of_services_yaml(example_copy: Path) -> None:
    services = example_copy / "services.yaml"
    text = services.read_text(encoding="utf-8")
    (line,) = [number for number, row in enumerate(text.splitlines(), start=1) if row == "maxSlots: 10"]
    services.write_text(text.replace("maxSlots: 10", "maxSlots: 0"), encoding="utf-8")
    with pytest.raises(PlanError) as caught:
        build_plan(PlanRequest(stack="cluster", project_dir=example_copy))
    assert str(caught.value).startswith(
        f"{services.resolve()}:{line}: maxSlots: maxSlots is 0 (no limit), but the containment policy "
        "must list every slot's folders"
    ), str(caught.value)
