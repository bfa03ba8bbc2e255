"""Binding a stack to its environment refuses what cannot run, saying why and how to fix it
(docs/services-yaml.md): an environment fixed to repair mode run in normal mode, and a data root
of ``/`` (hooks and ``ci cleanup`` delete folders under it).

Written against mutants of codex_stacks/plan/target.py that lived in a fresh sample (seed 29,
issue #19).
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
  rescue: {mode: repair}
dataPaths:
  root: DATA_ROOT
infrastructure:
  - name: base
    manifests: [{path: ns.yaml}]
"""
NAMESPACE = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: '{{ namespace }}'\n"


def _error(root: Path, stack: str, mode: str = "normal") -> CodexError:
    with pytest.raises(CodexError) as caught:
        build_plan(PlanRequest(stack=stack, project_dir=root, mode=mode))
    return caught.value


def test_a_repair_only_environment_run_in_normal_mode_says_which_mode_it_needs(make_project: MakeProject) -> None:
    root = make_project(SERVICES.replace("DATA_ROOT", "/srv/demo-data"), {"ns.yaml": NAMESPACE})
    error = _error(root, "rescue")
    assert error.message == "environment 'rescue' runs only in repair mode, not normal"
    assert error.location.path == "environments.rescue.mode"
    assert error.hint is not None
    assert "--mode repair" in error.hint


def test_a_data_root_of_slash_is_refused_with_what_it_must_be(make_project: MakeProject) -> None:
    root = make_project(SERVICES.replace("DATA_ROOT", "/"), {"ns.yaml": NAMESPACE})
    error = _error(root, "dev")
    assert error.message == "data root '/' is not allowed"
    assert error.hint == "dataPaths.root must be an absolute folder other than /"
    assert error.location.path == "dataPaths.root"
