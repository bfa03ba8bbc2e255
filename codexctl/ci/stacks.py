"""A stack resolved locally, before any backend call: services.yaml plus the stack's config file.

``ci up --stack prod-typo`` must not create a stack in the backend and then fail in the program:
the same first pass the program makes (environment, slot, namespace, mode) runs here first.
"""

from __future__ import annotations

from pathlib import Path

from codexctl.plan import PlanRequest, Target


def plan_request(stack: str, *, project_dir: Path, program_dir: Path | None, mode: str) -> PlanRequest:
    """What the program will see for ``stack``: the project's and the stack's config files
    (``codexctl.stackconfig``), with ``project_dir`` and ``mode`` as the CI step sets them."""
    from codexctl.stackconfig import plan_request as request_for
    from codexctl.stackconfig import program_config, with_overrides

    config = program_config(stack, program_dir=program_dir)
    return request_for(stack.rsplit("/", 1)[-1], with_overrides(config, project_dir=project_dir.resolve(), mode=mode))


def resolve_stack(request: PlanRequest) -> Target:
    """The program's first pass (environment, slot, namespace, mode); a CodexError says what is wrong."""
    from codexctl.config.loader import read_prelude, read_text
    from codexctl.plan.target import (
        first_pass_context,
        parse_prelude,
        requested_env_and_slot,
        requested_mode,
        resolve_target,
    )

    source = request.services_path
    text = read_text(source)
    env, slot = requested_env_and_slot(request)
    mode = requested_mode(request)
    raw = read_prelude(text, first_pass_context(request, env, slot, mode), source=source)
    prelude = parse_prelude(raw, text=text, source=source)
    return resolve_target(request, prelude, source=source, text=text)
