"""``codexctl``: preview, validate and inspect slot stacks; typer + rich, Pulumi imported lazily."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from codex_stacks.cli.output import console, fail, handle_errors

if TYPE_CHECKING:
    from codex_stacks.plan.filters import NameFilters

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


OnlyServices = Annotated[str | None, typer.Option("--only-services", help="Only these services (comma-separated).")]
SkipServices = Annotated[str | None, typer.Option("--skip-services", help="All services but these (comma-separated).")]
OnlyInfra = Annotated[
    str | None, typer.Option("--only-infra", help="Only these infrastructure groups (comma-separated).")
]
SkipInfra = Annotated[
    str | None, typer.Option("--skip-infra", help="All infrastructure groups but these (comma-separated).")
]
ShowSecrets = Annotated[bool, typer.Option("--show-secrets", help="Print secret values instead of masks.")]


def name_filters(
    only_services: str | None, skip_services: str | None, only_infra: str | None, skip_infra: str | None
) -> NameFilters | None:
    from codex_stacks.plan.filters import NameFilters

    return NameFilters.parse(
        only_services=only_services, skip_services=skip_services, only_infra=only_infra, skip_infra=skip_infra
    )


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
    show_secrets: ShowSecrets = False,
    only_services: OnlyServices = None,
    skip_services: SkipServices = None,
    only_infra: OnlyInfra = None,
    skip_infra: SkipInfra = None,
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
        filters=name_filters(only_services, skip_services, only_infra, skip_infra),
    )


@app.command()
@handle_errors
def render(
    stack: StackOption,
    mode: ModeOption = None,
    project_dir: ProjectDirOption = None,
    show_secrets: ShowSecrets = False,
    only_services: OnlyServices = None,
    skip_services: SkipServices = None,
    only_infra: OnlyInfra = None,
    skip_infra: SkipInfra = None,
) -> None:
    """Print the stack's manifests as one YAML stream, from the plan alone (no Pulumi): every
    object as it would be deployed, secrets masked.

    Example: codexctl render --stack dev --only-services api,web > dev.yaml
    """
    import dataclasses

    from codex_stacks.cli.render import render_plan
    from codex_stacks.plan import build_plan
    from codex_stacks.stackconfig import plan_request

    request = plan_request(stack, stack_config(stack, project_dir=project_dir, mode=mode))
    filters = name_filters(only_services, skip_services, only_infra, skip_infra)
    typer.echo(
        render_plan(build_plan(dataclasses.replace(request, filters=filters)), show_secrets=show_secrets), nl=False
    )


@app.command()
@handle_errors
def targets(
    stack: StackOption,
    mode: ModeOption = None,
    project_dir: ProjectDirOption = None,
    only_services: OnlyServices = None,
    skip_services: SkipServices = None,
    only_infra: OnlyInfra = None,
    skip_infra: SkipInfra = None,
) -> None:
    """Print the URNs a `pulumi up --target` list needs, one per line: the whole stack, or the
    part the filters keep (its components, everything under them, the provider).

    \b
    Example:
      pulumi up -s dev $(codexctl targets -s dev --only-services api | sed 's/^/--target /')
    """
    from codex_stacks.offline.targets import targets as stack_targets

    config = stack_config(stack, project_dir=project_dir, mode=mode)
    filters = name_filters(only_services, skip_services, only_infra, skip_infra)
    for urn in stack_targets(stack, extra_config=config, filters=filters, mode=config.get("codex:mode") or "normal"):
        typer.echo(urn)


@app.command("import")
@handle_errors
def import_command(
    source: Annotated[Path, typer.Argument(help="The upstream codexctl project: the folder of its services.yaml.")],
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            help="Where to write the converted project: a new or empty folder, or SOURCE "
            "itself to convert in place [default: ./<name of SOURCE>-imported].",
        ),
    ] = None,
    output: Annotated[str, typer.Option("--output", help="The report as text or json.")] = "text",
) -> None:
    """Convert an upstream codexctl project (services.yaml and every manifest it references, Go
    templates) into this project's dialect, and report every change and every manual step left.

    Example: codexctl import ../my-project --out . --output json
    """
    from codex_stacks.cli.importer import run_import

    run_import(source=source, out=out, output=output)


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
    from codex_stacks.offline.targets import targets as stack_targets

    for urn in stack_targets(
        stack, extra_config=stack_config(stack, project_dir=project_dir, mode="repair"), mode="repair"
    ):
        typer.echo(urn)


def _register_groups() -> None:
    from codex_stacks.cli import ci, prompt

    app.add_typer(prompt.app, name="prompt")
    app.add_typer(ci.app, name="ci")


_register_groups()


def main() -> None:
    app()


__all__ = ["app", "fail", "main"]
