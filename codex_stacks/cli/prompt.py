"""``codexctl prompt …``: agent prompts and the agent run."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from codex_stacks.cli.output import console, handle_errors

app = typer.Typer(
    help="Render agent prompts and codex config, and run the agent in its slot.\n\n"
    "Example: codexctl prompt run --stack ai-slot-3 --kind dev_issue --issue 42",
    no_args_is_help=True,
    rich_markup_mode=None,
)

StackOption = Annotated[str, typer.Option("--stack", "-s", help="Stack name: dev, ai-staging, ai-slot-<N>, ….")]
KindOption = Annotated[
    str,
    typer.Option(
        "--kind",
        "-k",
        help="dev_issue, dev_review, plan_issue, plan_review, repair_issue or repair_plan.",
    ),
]
IssueOption = Annotated[int | None, typer.Option("--issue", min=1, help="The issue the agent works on.")]
PrOption = Annotated[int | None, typer.Option("--pr", min=1, help="The pull request the agent works on.")]
LangOption = Annotated[
    str | None, typer.Option("--lang", help="Prompt language (en, ru) [default: codex.promptLang, then en].")
]
InfraReportOption = Annotated[
    Path | None,
    typer.Option(
        "--infra-report",
        dir_okay=False,
        help='JSON file: {"healthy": false, "failed": [{"component": …, "reason": …}], "summary": …}.',
    ),
]
LabelsOption = Annotated[
    str | None,
    typer.Option(
        "--labels",
        help="The issue's or pull request's labels, a JSON list of names: [ai-model-<name>] picks a model of "
        "codex.models, [ai-reasoning-<level>] an effort (minimal, low, medium, high); other labels are ignored, "
        "an unknown model or level is an error (exit 2).",
    ),
]
ProjectDirOption = Annotated[
    Path | None,
    typer.Option(
        "--project-dir",
        "-p",
        help="Folder with services.yaml (and an optional prompts/ folder) [default: codex:projectDir of the stack, "
        "else the program folder].",
        file_okay=False,
    ),
]


def _project_dir(project_dir: Path | None, stack: str) -> Path:
    """--project-dir, else the stack's ``codex:projectDir``, else the program folder."""
    from codex_stacks.stackconfig import NAMESPACE, program_config, resolve_project_dir

    if project_dir is not None:
        return project_dir.resolve()
    return resolve_project_dir(program_config(stack).get(f"{NAMESPACE}:projectDir"))


@app.command()
@handle_errors
def render(
    stack: StackOption,
    kind: KindOption,
    issue: IssueOption = None,
    pr: PrOption = None,
    lang: LangOption = None,
    infra_report: InfraReportOption = None,
    project_dir: ProjectDirOption = None,
    mode: Annotated[
        str | None,
        typer.Option(
            "--mode",
            "-m",
            help="normal or repair [default: the environment's own mode, else repair for repair_* kinds].",
        ),
    ] = None,
) -> None:
    """Print the prompt the agent would get. The project's prompts/<lang>/<kind>.md.j2
    overrides the bundled template; a missing translation falls back to English with a warning.


    \b
    Examples:
    codexctl prompt render --stack ai-slot-3 --kind dev_issue --issue 42
    codexctl prompt render -s ai-slot-3 -k repair_issue --issue 42 --infra-report report.json --lang en
    """
    from codex_stacks.plan import build_plan
    from codex_stacks.prompts import InfraReport, build_context, render_prompt
    from codex_stacks.prompts.context import check_numbers
    from codex_stacks.prompts.render import choose_lang
    from codex_stacks.prompts.runner import mode_for
    from codex_stacks.stackconfig import stack_request

    check_numbers(kind=kind, issue=issue, pr=pr)
    report = InfraReport.from_file(infra_report) if infra_report is not None else None
    folder = _project_dir(project_dir, stack)
    mode = mode or mode_for(kind=kind, stack=stack, project_dir=folder)
    plan = build_plan(stack_request(stack, project_dir=folder, mode=mode))
    context = build_context(
        plan=plan,
        kind=kind,
        lang=choose_lang(flag=lang, configured=plan.settings.codex.prompt_lang),
        issue=issue,
        pr=pr,
        infra_report=report,
    )
    prompt = render_prompt(context, project_dir=folder)
    for warning in prompt.warnings:
        console.print(f"[yellow]warning:[/yellow] {warning}", markup=True)
    typer.echo(prompt.text, nl=False)


@app.command()
@handle_errors
def config(
    stack: StackOption,
    project_dir: ProjectDirOption = None,
    labels: LabelsOption = None,
) -> None:
    """Print the agent's config.toml (model, reasoning effort, MCP servers, extra blocks),
    rendered from codex in services.yaml and checked by parsing it back. Secrets appear only
    as the names of the variables that hold them. --labels shows the model and effort a run
    with those labels gets.


    \b
    Examples:
    codexctl prompt config --stack ai-slot-3
    codexctl prompt config --stack ai-slot-3 --labels '["[ai-dev]", "[ai-reasoning-high]"]'
    """
    from codex_stacks.plan import load_settings
    from codex_stacks.prompts import render_codex_config
    from codex_stacks.prompts.labels import apply_run_labels, parse_labels
    from codex_stacks.prompts.runner import mode_for
    from codex_stacks.stackconfig import stack_request

    names = parse_labels(labels) if labels is not None else []
    folder = _project_dir(project_dir, stack)
    mode = mode_for(kind="dev_issue", stack=stack, project_dir=folder)
    target, settings, _ = load_settings(stack_request(stack, project_dir=folder, mode=mode))
    codex = apply_run_labels(settings.codex, names)
    typer.echo(render_codex_config(codex, namespace=target.namespace), nl=False)


@app.command()
@handle_errors
def run(
    stack: StackOption,
    kind: KindOption,
    issue: IssueOption = None,
    pr: PrOption = None,
    lang: LangOption = None,
    infra_report: InfraReportOption = None,
    project_dir: ProjectDirOption = None,
    kube_context: Annotated[
        str | None,
        typer.Option(
            "--kube-context", help="kubeconfig context [default: environments.<env>.kubeContext, then current]."
        ),
    ] = None,
    labels: LabelsOption = None,
) -> None:
    """Run the agent in its slot: wait for deployment/codex only (codex.timeouts.deployWait for it
    to exist, then codex.timeouts.rollout for it to become available, with a progress line now and
    then), write the prompt and config.toml into its pod, run codex exec there through the
    Kubernetes API, stream its output (codex.timeouts.exec) and exit with the agent's exit status.
    When the cluster is the problem (no Deployment, not available in time, no ready pod, the exec
    lost) it exits 1; a problem of the input (the stack, services.yaml, labels) exits 2.

    Repair kinds use the stack's repair-mode plan. Needs a kubeconfig (KUBECONFIG or ~/.kube/config).

    Example: codexctl prompt run --stack ai-slot-3 --kind dev_issue --issue 42 --labels '["[ai-model-gpt-5]"]'
    """
    from codex_stacks.prompts import InfraReport
    from codex_stacks.prompts.labels import parse_labels
    from codex_stacks.prompts.runner import run_prompt

    names = parse_labels(labels) if labels is not None else []
    code = run_prompt(
        labels=names,
        stack=stack,
        kind=kind,
        project_dir=_project_dir(project_dir, stack),
        issue=issue,
        pr=pr,
        lang=lang,
        infra_report=InfraReport.from_file(infra_report) if infra_report is not None else None,
        kube_context=kube_context,
    )
    raise typer.Exit(code)
