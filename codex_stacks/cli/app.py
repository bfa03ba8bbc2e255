"""``codexctl``: preview, validate and inspect slot stacks; typer + rich, Pulumi imported lazily."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from codex_stacks.cli.output import console, fail, handle_errors

app = typer.Typer(
    name="codexctl",
    help="codex stacks: one Kubernetes slot per GitHub issue or PR, with the codex agent inside.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

StackOption = Annotated[
    str,
    typer.Option(
        "--stack",
        "-s",
        help="Stack name: dev, ai-staging, ai-repair, ai-slot-<N> (the slot of an issue or PR), or another "
        "environment of services.yaml. Its codex:* settings in stacks/Pulumi.<stack>.yaml are used.",
    ),
]
ProjectDirOption = Annotated[
    Path | None,
    typer.Option(
        "--project-dir",
        "-p",
        help="Folder with services.yaml and the manifests [default: codex:projectDir of the stack, "
        "else the bundled example project].",
        file_okay=False,
    ),
]
ModeOption = Annotated[
    str | None,
    typer.Option(
        "--mode",
        "-m",
        help="normal, or repair (only the repair set) [default: codex:mode of the stack, else normal].",
    ),
]


def default_project_dir() -> Path:
    """The program's default ``codex:projectDir`` (the bundled example)."""
    from codex_stacks.stackconfig import resolve_project_dir

    return resolve_project_dir(None)


def stack_config(stack: str, *, project_dir: Path | None, mode: str | None) -> dict[str, str]:
    """The stack's non-secret codex:* config (Pulumi.yaml defaults, then the stack file), with
    the command line's options on top."""
    from codex_stacks.stackconfig import program_config, with_overrides

    return with_overrides(program_config(stack), project_dir=project_dir.resolve() if project_dir else None, mode=mode)


@app.command()
@handle_errors
def preview(
    stack: StackOption,
    mode: ModeOption = None,
    project_dir: ProjectDirOption = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            help="Folder for one YAML file per component [default: ./preview/<stack>]. It must be new, "
            "empty, or written by an earlier preview: only the files preview wrote are replaced.",
        ),
    ] = None,
    show_secrets: Annotated[bool, typer.Option("--show-secrets", help="Print secret values instead of masks.")] = False,
) -> None:
    """Run the real Pulumi program offline (no cluster, no Pulumi CLI): print the component →
    object tree and write the rendered objects, one YAML file per component.

    Example: codexctl preview --stack ai-slot-3 --mode repair
    """
    from codex_stacks.cli.preview import run_preview

    run_preview(
        stack=stack,
        config=stack_config(stack, project_dir=project_dir, mode=mode),
        out=out,
        show_secrets=show_secrets,
    )


@app.command()
@handle_errors
def validate(
    stack: StackOption,
    mode: ModeOption = None,
    project_dir: ProjectDirOption = None,
    kubernetes_version: Annotated[
        str,
        typer.Option(
            "--kubernetes-version", help="Kubernetes version (major.minor) whose schemas to use; 1.25 to 1.37 ship."
        ),
    ] = "1.33",
) -> None:
    """Check services.yaml and every rendered manifest of a stack against the Kubernetes schemas
    and what the API server refuses (names, labels, Secret data, namespaces), offline; every
    problem is listed.

    Example: codexctl validate --stack ai-slot-3
    """
    from codex_stacks.cli.validate import run_validate
    from codex_stacks.stackconfig import plan_request

    config = stack_config(stack, project_dir=project_dir, mode=mode)
    run_validate(request=plan_request(stack, config), kubernetes_version=kubernetes_version)


@app.command()
@handle_errors
def schema(
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Write to this file instead of stdout.")] = None,
) -> None:
    """Print the JSON Schema of services.yaml (for editors: completion and validation)."""
    from codex_stacks.config.schema import services_schema

    text = json.dumps(services_schema(), indent=2, sort_keys=True) + "\n"
    if out is None:
        typer.echo(text, nl=False)
        return
    if out.is_dir():
        fail(f"--out: {out} is a folder; give a file name, e.g. {out / 'services.schema.json'}")
    if not out.parent.is_dir():
        fail(f"--out: cannot write {out}: the folder {out.parent} does not exist")
    try:
        out.write_text(text, encoding="utf-8")
    except OSError as exc:
        fail(f"--out: cannot write {out}: {exc.strerror or exc}")
    console.print(f"wrote {out}", markup=False)


@app.command("repair-targets")
@handle_errors
def repair_targets_command(stack: StackOption, project_dir: ProjectDirOption = None) -> None:
    """Print the URNs of the repair set, one per line: the --target list of a repair run.

    \b
    Example:
      pulumi up -s ai-slot-3 -c codex:mode=repair \\
        $(codexctl repair-targets -s ai-slot-3 | sed 's/^/--target /')
    """
    from codex_stacks.offline.targets import repair_targets

    for urn in repair_targets(stack, extra_config=stack_config(stack, project_dir=project_dir, mode="repair")):
        typer.echo(urn)


def _register_groups() -> None:
    from codex_stacks.cli import ci, prompt

    app.add_typer(prompt.app, name="prompt")
    app.add_typer(ci.app, name="ci")


_register_groups()


def main() -> None:
    app()


__all__ = ["app", "fail", "main"]
