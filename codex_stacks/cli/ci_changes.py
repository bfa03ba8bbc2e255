"""``codexctl ci changes``: does a pull request's deploy need a person's approval?"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from codex_stacks.cli.output import console, handle_errors

SHOWN = 20
"""Paths listed in the output and the summary; the rest are counted."""


@handle_errors
def changes_command(
    base: Annotated[str, typer.Option("--base", help="The pull request's base commit (full id).")],
    head: Annotated[str, typer.Option("--head", help="The pull request's head commit (full id).")],
    repo: Annotated[
        Path, typer.Option("--repo", file_okay=False, help="The project repository's checkout (both commits fetched).")
    ] = Path("."),
    project_dir: Annotated[
        str,
        typer.Option(
            "--project-dir",
            help="Folder of services.yaml inside the repository, relative to it (or an absolute path inside it).",
        ),
    ] = ".",
    output: Annotated[
        str,
        typer.Option("--output", help="text, or json: the result as one JSON document on stdout (docs/operations.md)."),
    ] = "text",
) -> None:
    """Say whether the change between two commits can reach deploy secrets.

    True when it touches .github/, services.yaml, manifests, templates, stack files, the deploy/,
    stacks/, prompts/ or hooks/ folders, the Pulumi program or its requirements, a Dockerfile, a
    symbolic link or a submodule (docs/security-workflows.md). When git cannot list the change, the answer
    is true as well: a person decides.

    Outputs: needs_approval (true/false), reasons.

    Example: codexctl ci changes --repo ../project --base "$BASE_SHA" --head "$HEAD_SHA"
    """
    from codex_stacks.ci.changes import Verdict, changed_paths, classify
    from codex_stacks.ci.errors import CiError
    from codex_stacks.cli.ci import _check_output, _json, _publish

    as_json = _check_output(output)
    root = repo.resolve()
    relative = project_dir
    if Path(project_dir).is_absolute():
        try:
            relative = str(Path(project_dir).resolve().relative_to(root)) or "."
        except ValueError:
            relative = "."
    try:
        verdict = classify(changed_paths(root, base=base, head=head), project_dir=relative)
    except CiError as error:
        console.print("[bold yellow]warning:[/bold yellow] ", end="", markup=True)
        console.print(f"{error}; the deploy needs approval", markup=False)
        verdict = Verdict(needs_approval=True, reasons=(f"the change could not be listed: {error}",))
    shown = list(verdict.reasons[:SHOWN])
    if len(verdict.reasons) > SHOWN:
        shown.append(f"… and {len(verdict.reasons) - SHOWN} more")
    if as_json:
        more = max(len(verdict.reasons) - SHOWN, 0)
        _json({"needs_approval": verdict.needs_approval, "reasons": list(verdict.reasons[:SHOWN]), "more": more})
    else:
        typer.echo("true" if verdict.needs_approval else "false")
    for line in shown:
        console.print(f"  {line}", markup=False)
    if verdict.needs_approval:
        summary = "### Deploy needs approval\nThe change touches what runs with deploy secrets:\n" + "".join(
            f"- `{line}`\n" for line in shown
        )
    else:
        summary = "### Deploy\nThe change touches nothing that runs with deploy secrets: it deploys at once."
    _publish({"needs_approval": "true" if verdict.needs_approval else "false", "reasons": "; ".join(shown)}, summary)
