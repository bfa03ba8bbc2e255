"""A hook step that is left out (its ``when:`` is false, or a repair run and it is not marked
``repair: true``) leaves out only itself: the steps after it in the stage still run (a fresh
mutation sample of config, seed 47, found a left-out step could end the stage)."""

from __future__ import annotations

from tests.config.conftest import load

SERVICES = """\
project: demo
environments:
  dev: {}
hooks:
  beforeAll:
    - {name: first, run: echo 1, when: "false"}
    - {name: second, run: echo 2}
    - {name: third, run: echo 3, repair: true}
    - {name: fourth, run: echo 4}
    - {name: fifth, run: echo 5, repair: true}
"""


def test_steps_after_a_disabled_one_are_kept() -> None:
    settings = load(SERVICES)
    steps = settings.stage(settings.document.raw("hooks"), "beforeAll", ["hooks"])
    assert [(index, step.name) for index, step in steps] == [(1, "second"), (2, "third"), (3, "fourth"), (4, "fifth")]


def test_a_repair_run_keeps_every_step_marked_repair() -> None:
    settings = load(SERVICES)
    steps = settings.stage(settings.document.raw("hooks"), "beforeAll", ["hooks"], repair_only=True)
    assert [(index, step.name) for index, step in steps] == [(2, "third"), (4, "fifth")]
