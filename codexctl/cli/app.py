"""``codexctl``: preview, validate and inspect slot stacks; typer + rich, Pulumi imported lazily."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from codexctl.cli.output import console, fail, handle_errors

app = typer.Typer(
    name="codexctl",
    help="codex stacks: one Kubernetes slot per GitHub issue or PR, with the codex agent inside.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

StackOption = Annotated[
    str, typer.Option("--stack", "-s", help="Stack name: dev, ai-staging, ai-slot-<N>, … (SPEC §2).")
]
ProjectDirOption = Annotated[
    Path | None,
    typer.Option(
        "--project-dir",
        "-p",
        help="Folder with services.yaml and the manifests [default: the bundled example project].",
        file_okay=False,
    ),
]
ModeOption = Annotated[str, typer.Option("--mode", "-m", help="normal, or repair (only the repair set).")]


def default_project_dir() -> Path:
    from codexctl.offline.runner import PROGRAM_ROOT

    return PROGRAM_ROOT / "examples" / "project-example"


@app.command()
@handle_errors
def preview(
    stack: StackOption,
    mode: ModeOption = "normal",
    project_dir: ProjectDirOption = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Folder for one YAML file per component [default: ./preview/<stack>]."),
    ] = None,
    show_secrets: Annotated[bool, typer.Option("--show-secrets", help="Print secret values instead of masks.")] = False,
) -> None:
    """Run the real Pulumi program offline (no cluster, no Pulumi CLI): print the component →
    object tree and write the rendered objects, one YAML file per component.

    Example: codexctl preview --stack ai-slot-3 --mode repair
    """
    from codexctl.cli.preview import run_preview

    run_preview(
        stack=stack,
        mode=mode,
        project_dir=(project_dir or default_project_dir()).resolve(),
        out=out or Path("preview") / stack,
        show_secrets=show_secrets,
    )


@app.command()
@handle_errors
def validate(
    stack: StackOption,
    mode: ModeOption = "normal",
    project_dir: ProjectDirOption = None,
    kubernetes_version: Annotated[
        str, typer.Option("--kubernetes-version", help="Kubernetes version whose schemas to use.")
    ] = "1.33",
) -> None:
    """Check services.yaml and every rendered manifest of a stack against the Kubernetes schemas,
    offline.

    Example: codexctl validate --stack ai-slot-3
    """
    from codexctl.cli.validate import run_validate

    run_validate(
        stack=stack,
        mode=mode,
        project_dir=(project_dir or default_project_dir()).resolve(),
        kubernetes_version=kubernetes_version,
    )


@app.command()
@handle_errors
def schema(
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Write to this file instead of stdout.")] = None,
) -> None:
    """Print the JSON Schema of services.yaml (for editors: completion and validation)."""
    from codexctl.config.schema import services_schema

    text = json.dumps(services_schema(), indent=2, sort_keys=True) + "\n"
    if out is None:
        typer.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")
        console.print(f"wrote {out}")


@app.command("repair-targets")
@handle_errors
def repair_targets_command(stack: StackOption, project_dir: ProjectDirOption = None) -> None:
    """Print the URNs of the repair set, one per line: the ``--target`` list of a repair run.

    \b
    Example:
      pulumi up -s ai-slot-3 -c codex:mode=repair \\
        $(codexctl repair-targets -s ai-slot-3 | sed 's/^/--target /')
    """
    from codexctl.offline.targets import repair_targets

    for urn in repair_targets(stack, project_dir=(project_dir or default_project_dir()).resolve()):
        typer.echo(urn)


def _register_groups() -> None:
    from codexctl.cli import ci, prompt

    app.add_typer(prompt.app, name="prompt")
    app.add_typer(ci.app, name="ci")


_register_groups()


def main() -> None:
    app()


__all__ = ["app", "fail", "main"]
