"""``codexctl``: preview, validate and inspect slot stacks; typer + rich, Pulumi imported lazily.

Every command that reads a stack works on a **program folder** (the folder of ``Pulumi.yaml``:
a team's repository, docs/architecture.md), found from the current folder upwards as ``pulumi``
finds its project, or named by ``--program-dir`` / ``$CODEX_PROGRAM_DIR``.
"""

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
    help="codex stacks: one Kubernetes slot per GitHub issue or PR, with the codex agent inside.\n\n"
    "Run it in your repository (the folder of Pulumi.yaml, or below it); `codexctl init` sets one up.",
    no_args_is_help=True,
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
        "else the program folder itself].",
        file_okay=False,
    ),
]
ProgramDirOption = Annotated[
    Path | None,
    typer.Option(
        "--program-dir",
        envvar="CODEX_PROGRAM_DIR",
        help="The program folder: the folder of your repository's Pulumi.yaml [default: the current folder "
        "or the nearest one above it that holds Pulumi.yaml].",
        file_okay=False,
    ),
]
OutputOption = Annotated[
    str,
    typer.Option("--output", help="text, or json: the result as one JSON document on stdout (docs/architecture.md)."),
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


def default_project_dir(program_dir: Path | None = None) -> Path:
    """The program's default ``codex:projectDir``: the program folder itself."""
    from codex_stacks.stackconfig import find_program_dir, resolve_project_dir

    return resolve_project_dir(None, program_dir=find_program_dir(program_dir))


def stack_config(
    stack: str, *, project_dir: Path | None, mode: str | None, program_dir: Path | None = None
) -> dict[str, str]:
    """The stack's non-secret codex:* config (Pulumi.yaml's project values, then the stack file),
    with the command line's options on top."""
    from codex_stacks.stackconfig import find_program_dir, program_config, with_overrides

    root = find_program_dir(program_dir)
    return with_overrides(
        program_config(stack, program_dir=root),
        project_dir=project_dir.resolve() if project_dir else None,
        mode=mode,
        program_dir=root,
    )


def _version(value: bool) -> None:
    if value:
        from codex_stacks import __version__

        typer.echo(f"codexctl {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool,
        typer.Option("--version", help="Print the version and exit.", callback=_version, is_eager=True),
    ] = False,
) -> None:
    """codex stacks: one Kubernetes slot per GitHub issue or PR, with the codex agent inside.

    Run it in your repository (the folder of Pulumi.yaml, or below it); `codexctl init` sets one up.
    """


@app.command()
@handle_errors
def init(
    folder: Annotated[
        Path, typer.Argument(help="Your repository (or the folder in it for the Pulumi program).", file_okay=False)
    ] = Path("."),
    name: Annotated[
        str | None,
        typer.Option(
            "--name",
            help="Project name: the Pulumi project (one per repository, unique on the backend) and services.yaml's "
            "project [default: the folder's name].",
        ),
    ] = None,
    ref: Annotated[
        str | None,
        typer.Option(
            "--ref",
            help="The codex stacks commit (or tag) requirements.txt and the workflow callers pin [default: this "
            "version's tag, v<version>].",
        ),
    ] = None,
    repository: Annotated[
        str,
        typer.Option("--repository", help="Where codex stacks lives on GitHub (a fork or mirror of yours)."),
    ] = "codex-stacks/codex-stacks",
    package: Annotated[
        str | None,
        typer.Option(
            "--package",
            help="What requirements.txt installs instead of the git URL at --ref: a wheel file, or any pip "
            "requirement.",
        ),
    ] = None,
    allowed_users: Annotated[
        str,
        typer.Option(
            "--allowed-users",
            help="GitHub logins (comma-separated) the workflow callers allow to start agent runs [default: none].",
        ),
    ] = "",
    force: Annotated[bool, typer.Option("--force", help="Overwrite files that already exist.")] = False,
) -> None:
    """Make your repository a codex stacks program folder: Pulumi.yaml, a five-line __main__.py,
    requirements.txt, stacks/, a starter services.yaml (a service per Dockerfile, plus the agent)
    and the GitHub workflow callers. Files that exist are kept unless --force.

    Example: codexctl init . --name shop --ref <commit> --allowed-users alice,bob
    """
    from codex_stacks.init.scaffold import InitOptions, init_repository

    result = init_repository(
        InitOptions(
            folder=folder,
            name=name,
            package=package,
            repository=repository,
            ref=ref,
            allowed_users=tuple(login.strip() for login in allowed_users.split(",") if login.strip()),
            force=force,
        )
    )
    for line in result.report():
        console.print(line, markup=False)


@app.command()
@handle_errors
def preview(
    stack: StackOption,
    mode: ModeOption = None,
    project_dir: ProjectDirOption = None,
    program_dir: ProgramDirOption = None,
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
    diff: Annotated[
        bool,
        typer.Option(
            "--diff",
            help="Also compare with the stack's state on the backend (a `pulumi preview` through the Automation API: "
            "needs the pulumi CLI, the backend and the cluster): each object marked create, update, delete or same.",
        ),
    ] = False,
    output: OutputOption = "text",
) -> None:
    """Run the real Pulumi program offline (no cluster, no Pulumi CLI): print the component →
    object tree, write the rendered objects, one YAML file per component, and end with a summary.

    Example: codexctl preview --stack ai-slot-3 --mode repair
    """
    from codex_stacks.cli.output import json_output
    from codex_stacks.cli.preview import run_preview
    from codex_stacks.stackconfig import find_program_dir

    as_json = json_output(output)
    root = find_program_dir(program_dir)
    run_preview(
        stack=stack,
        config=stack_config(stack, project_dir=project_dir, mode=mode, program_dir=root),
        out=out,
        show_secrets=show_secrets,
        filters=name_filters(only_services, skip_services, only_infra, skip_infra),
        program_dir=root,
        diff=diff,
        as_json=as_json,
    )


@app.command()
@handle_errors
def render(
    stack: StackOption,
    mode: ModeOption = None,
    project_dir: ProjectDirOption = None,
    program_dir: ProgramDirOption = None,
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
    from codex_stacks.stackconfig import find_program_dir, plan_request

    root = find_program_dir(program_dir)
    config = stack_config(stack, project_dir=project_dir, mode=mode, program_dir=root)
    request = plan_request(stack, config, program_dir=root)
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
    program_dir: ProgramDirOption = None,
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
    from codex_stacks.stackconfig import find_program_dir

    root = find_program_dir(program_dir)
    config = stack_config(stack, project_dir=project_dir, mode=mode, program_dir=root)
    filters = name_filters(only_services, skip_services, only_infra, skip_infra)
    mode_now = config.get("codex:mode") or "normal"
    for urn in stack_targets(stack, extra_config=config, filters=filters, mode=mode_now, program_dir=root):
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
    program_dir: ProgramDirOption = None,
    kubernetes_version: Annotated[
        str,
        typer.Option(
            "--kubernetes-version", help="Kubernetes version (major.minor) whose schemas to use; 1.25 to 1.37 ship."
        ),
    ] = "1.33",
    output: OutputOption = "text",
) -> None:
    """Check services.yaml and every rendered manifest of a stack against the Kubernetes schemas
    and what the API server refuses (names, labels, Secret data, namespaces), offline; every
    problem is listed.

    Example: codexctl validate --stack ai-slot-3
    """
    from codex_stacks.cli.output import json_output
    from codex_stacks.cli.validate import run_validate
    from codex_stacks.stackconfig import find_program_dir, plan_request

    as_json = json_output(output)
    root = find_program_dir(program_dir)
    config = stack_config(stack, project_dir=project_dir, mode=mode, program_dir=root)
    run_validate(
        request=plan_request(stack, config, program_dir=root), kubernetes_version=kubernetes_version, as_json=as_json
    )


@app.command()
@handle_errors
def schema(
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Write to this file instead of stdout.")] = None,
    format_: Annotated[
        str,
        typer.Option(
            "--format",
            help="json: the JSON Schema (for editors: completion and validation); markdown: the reference for "
            "people (docs/services-yaml-reference.md).",
        ),
    ] = "json",
) -> None:
    """Print the JSON Schema of services.yaml (for editors: completion and validation), or its
    reference as Markdown; every key carries its description."""
    if format_ == "json":
        from codex_stacks.config.schema import services_schema

        text = json.dumps(services_schema(), indent=2, sort_keys=True) + "\n"
    elif format_ == "markdown":
        from codex_stacks.reference import services_reference

        text = services_reference()
    else:
        fail(f"--format {format_!r}: use json or markdown")
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
def repair_targets_command(
    stack: StackOption,
    project_dir: ProjectDirOption = None,
    program_dir: ProgramDirOption = None,
    output: OutputOption = "text",
) -> None:
    """Print the URNs of the repair set, one per line: the --target list of a repair run.

    \b
    Example:
      pulumi up -s ai-slot-3 -c codex:mode=repair \\
        $(codexctl repair-targets -s ai-slot-3 | sed 's/^/--target /')
    """
    from codex_stacks.cli.output import json_output, print_json
    from codex_stacks.offline.targets import targets as stack_targets
    from codex_stacks.stackconfig import find_program_dir

    as_json = json_output(output)
    root = find_program_dir(program_dir)
    config = stack_config(stack, project_dir=project_dir, mode="repair", program_dir=root)
    urns = stack_targets(stack, extra_config=config, mode="repair", program_dir=root)
    if as_json:
        print_json({"stack": stack, "mode": "repair", "targets": urns})
        return
    for urn in urns:
        typer.echo(urn)


def _register_groups() -> None:
    from codex_stacks.cli import ci, prompt

    app.add_typer(prompt.app, name="prompt")
    app.add_typer(ci.app, name="ci")


_register_groups()


def main() -> None:
    app()


__all__ = ["app", "fail", "main"]
