"""Inputs of a hook step as the provider receives them, built from the real planner types."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from codex_stacks.plan.hooks import PlannedHook

FAST = {"request_timeout": 0.3, "retry_delay": 0.01, "attempts": 3}
"""Client tuning that keeps fault tests in milliseconds (production defaults are 10s/1s/4)."""


def step_props(
    action: str,
    params: dict[str, Any],
    *,
    stage: str = "afterApply",
    step: str = "step",
    secrets: dict[str, str] | None = None,
    timeout: float = 5.0,
    continue_on_error: bool = False,
    always: bool = False,
    run: str = "",
    tuning: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """What ``codex_stacks.components.hooks.HookStepResource`` registers, with secrets already unwrapped (as the
    provider host hands them over)."""
    hook = PlannedHook(
        stage=stage,  # type: ignore[arg-type]
        component=None if stage in ("beforeAll", "afterAll") else "codex",
        step=step,
        action=action,  # type: ignore[arg-type]
        params=params,
        timeout=timeout,
        continue_on_error=continue_on_error,
        always=always,
        guard="0123456789abcdef",
        run=run,
    )
    return {
        **hook.inputs(),
        "kube_context": "",
        "secret_keys": sorted(secrets or {}),
        "secrets": dict(secrets or {}),
        "tuning": dict(FAST if tuning is None else tuning),
        "result": None,
        "warnings": None,
    }


ALIMENTOR = Path(__file__).resolve().parents[2] / "examples" / "alimentor"

EXTRA_STACK_HOOKS = """
    - name: preflight
      use: preflight
      with:
        requireConfig: [githubToken]
  afterAll:
    - name: settle
      use: sleep
      with:
        seconds: 0.01
    - name: announce
      use: github.comment
      with:
        repository: acme/alimentor
        number: 42
        body: "Slot {{ slot }} is up at https://{{ base_domain }}"

infrastructure:
  - name: base
    hooks:
      beforeApply:
        - name: note
          run: 'echo "$ISSUE_TITLE" > "$CODEX_DATA_DIR/note.txt"'
          env:
            ISSUE_TITLE: '{{ env_or("ISSUE_TITLE", "untitled") }}'
      afterApply:
        - name: postgres-ready
          use: kubectl.wait
          with:
            kind: Deployment
            name: postgres
            timeout: 2m
      beforeDestroy:
        - name: dump
          run: 'echo dump > "$CODEX_DATA_DIR/dump.sql"'
      afterDestroy:
        - name: farewell
          run: 'echo gone > "$CODEX_DATA_DIR/gone.txt"'
"""


def all_hooks_project(folder: Path) -> Path:
    """A copy of examples/alimentor with a step of every kind at every stage."""
    project = folder / "alimentor"
    shutil.copytree(ALIMENTOR, project)
    services = project / "services.yaml"
    text = services.read_text(encoding="utf-8")
    anchor = "      use: codex.ensure-data-dirs\n\ninfrastructure:\n  - name: base\n"
    if anchor not in text:
        raise AssertionError("examples/alimentor/services.yaml changed; update the test helper")
    text = text.replace(anchor, "      use: codex.ensure-data-dirs" + EXTRA_STACK_HOOKS, 1)
    text = text.replace("envVars:\n", "envVars:\n  ISSUE_TITLE: {}\n", 1)
    services.write_text(text, encoding="utf-8")
    return project
