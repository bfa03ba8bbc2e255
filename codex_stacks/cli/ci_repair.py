"""``codexctl ci repair-stack``: does an ``[ai-repair]`` issue repair staging, or its own slot?"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from codex_stacks.cli.output import fail, handle_errors

STAGING_LABEL = "env:staging"
STAGING_STACK = "ai-repair"


@handle_errors
def repair_stack_command(
    labels: Annotated[
        str,
        typer.Option(
            "--labels", help="The issue's labels, a JSON list of names (toJSON(github.event.issue.labels.*.name))."
        ),
    ],
    staging_label: Annotated[
        str, typer.Option("--staging-label", help="The label that says the issue is about staging.")
    ] = STAGING_LABEL,
    staging_stack: Annotated[
        str,
        typer.Option("--staging-stack", help="The repair-only stack beside staging (environments.<env>.mode: repair)."),
    ] = STAGING_STACK,
    project_dir: Annotated[
        Path | None,
        typer.Option(
            "--project-dir",
            "-p",
            envvar="CODEX_PROJECT_DIR",
            file_okay=False,
            help="Folder with services.yaml [default: $CODEX_PROJECT_DIR, else the stack file's codex:projectDir].",
        ),
    ] = None,
    program_dir: Annotated[
        Path | None,
        typer.Option(
            "--program-dir",
            envvar="CODEX_PROGRAM_DIR",
            file_okay=False,
            help="Folder of the Pulumi program (Pulumi.yaml, stacks/) [default: this installation's].",
        ),
    ] = None,
) -> None:
    """Choose the stack an [ai-repair] run repairs, from the issue's labels.

    An issue labelled with --staging-label (default env:staging; labels need triage rights, so the
    issue's author alone cannot choose staging) is about staging: the run uses --staging-stack
    (default ai-repair), the agent alone in the staging namespace with the repair Role, and that
    stack's environment must be repair-only. Any other issue gets its own slot (ci ensure-slot).
    Labels are compared without regard to case, as GitHub does (docs/repair.md).

    Prints the stack (nothing for a slot). Outputs: stack, staging (true/false).

    Example: codexctl ci repair-stack --labels '["[ai-repair]", "env:staging"]'
    """
    from codex_stacks.cli.ci import _publish, _settings
    from codex_stacks.prompts.labels import parse_labels

    names = {name.strip().casefold() for name in parse_labels(labels)}
    if staging_label.strip().casefold() not in names:
        typer.echo("")
        _publish({"stack": "", "staging": "false"}, "### Repair\nThe issue is about its own slot.")
        return
    if staging_stack.startswith("ai-slot-"):
        fail(f"--staging-stack {staging_stack}: a slot stack is not staging's repair stack")
    settings = _settings(staging_stack, program_dir=program_dir, project_dir=project_dir)
    if settings.fixed_mode() != "repair":
        fail(
            f"--staging-stack {staging_stack}: its environment is not repair-only, so a repair run could deploy it "
            "in full\n  hint: give it mode: repair in services.yaml (environments.<env>.mode), as the examples' "
            "ai-repair has"
        )
    typer.echo(staging_stack)
    _publish(
        {"stack": staging_stack, "staging": "true"},
        f"### Repair\nThe issue is labelled `{staging_label}`: repairing staging with `{staging_stack}`.",
    )
