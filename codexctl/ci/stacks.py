"""A stack resolved locally, before any backend call: services.yaml plus the stack's config file.

``ci up --stack prod-typo`` must not create a stack in the backend and then fail in the program:
the same first pass the program makes (environment, slot, namespace, mode) runs here first.
"""

from __future__ import annotations

from pathlib import Path

from codexctl.plan import PlanRequest, resolve_stack


def plan_request(stack: str, *, project_dir: Path, program_dir: Path | None, mode: str) -> PlanRequest:
    """What the program will see for ``stack``: the project's and the stack's config files
    (``codexctl.stackconfig``), with ``project_dir`` and ``mode`` as the CI step sets them."""
    from codexctl.stackconfig import plan_request as request_for
    from codexctl.stackconfig import program_config, with_overrides

    config = program_config(stack, program_dir=program_dir)
    return request_for(stack.rsplit("/", 1)[-1], with_overrides(config, project_dir=project_dir.resolve(), mode=mode))


__all__ = ["plan_request", "resolve_stack"]
