"""``codexctl ci …``: the CI logic every project repository used to copy (docs/operations.md).

Each command works the same on a laptop and on a runner: progress on stderr, ``key=value`` to
``$GITHUB_OUTPUT`` and a short Markdown summary to ``$GITHUB_STEP_SUMMARY`` when they are set,
``--output json`` for a machine-readable result on stdout, and one clear line plus a non-zero
exit on failure. Pulumi and the Kubernetes client are imported only inside commands.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, ParamSpec, TypeVar

import typer

from codex_stacks.ci.errors import CiError, pulumi_error_line
from codex_stacks.cli.output import console, fail, handle_errors
from codex_stacks.errors import CodexError
from codex_stacks.prompts.context import BrokenConfig, FailedComponent

if TYPE_CHECKING:
    from codex_stacks.ci.claims import ClaimStore
    from codex_stacks.ci.cleanup import Removal
    from codex_stacks.ci.settings import StackSettings
    from codex_stacks.ci.slots import Binding, Slot
    from codex_stacks.ci.up import UpOutcome, UpRunner

app = typer.Typer(
    help=(
        "CI steps on the Pulumi Automation API: ensure-slot, find-slot and slots (the repository's "
        "slots, claimed in the cluster), up, images, prompt, cleanup and gc.\n\n"
        "Each writes key=value outputs to $GITHUB_OUTPUT and a summary to $GITHUB_STEP_SUMMARY when set; "
        "--output json prints the result as JSON on stdout (docs/operations.md).\n\n"
        "\b\n"
        "Exit codes:\n"
        "  0  success\n"
        "  1  the work failed or an outside system did (pulumi up, a destroy, docker or a build, the\n"
        "     registry, the cluster, the GitHub API, the Pulumi CLI or backend, no free slot): the same\n"
        "     call may work later\n"
        "  2  bad input or configuration (options, services.yaml, stack name, files): fix it first"
    ),
    no_args_is_help=True,
    rich_markup_mode=None,
)

EXIT_FAILED = 1
REPAIR_KINDS = {"plan_issue": "repair_plan", "plan_review": "repair_plan"}
"""Kinds whose repair fallback must change nothing; every other kind falls back to ``repair_issue``."""

StackOption = Annotated[str, typer.Option("--stack", "-s", help="Stack name: ai-staging, ai-slot-<N>, …")]
IssueOption = Annotated[int | None, typer.Option("--issue", help="GitHub issue number.", min=1)]
PrOption = Annotated[int | None, typer.Option("--pr", help="GitHub pull request number.", min=1)]
ProjectDirOption = Annotated[
    Path | None,
    typer.Option(
        "--project-dir",
        "-p",
        envvar="CODEX_PROJECT_DIR",
        file_okay=False,
        help="Folder with services.yaml [default: $CODEX_PROJECT_DIR, else codex:projectDir of the stack, "
        "else the program folder].",
    ),
]
ProgramDirOption = Annotated[
    Path | None,
    typer.Option(
        "--program-dir",
        envvar="CODEX_PROGRAM_DIR",
        file_okay=False,
        help="Folder of the Pulumi program (Pulumi.yaml, stacks/) [default: the nearest folder with a Pulumi.yaml "
        "from the current one upwards].",
    ),
]
RepositoryOption = Annotated[
    str | None,
    typer.Option(
        "--repository",
        envvar="GITHUB_REPOSITORY",
        help="owner/name of the GitHub repository the slots belong to [default: $GITHUB_REPOSITORY].",
    ),
]
OutputOption = Annotated[
    str,
    typer.Option("--output", help="text, or json: the result as one JSON document on stdout (docs/operations.md)."),
]
ReportOption = Annotated[
    Path | None,
    typer.Option("--report", help="infra-report.json of this stack [default: .codex-ci/<stack>/infra-report.json]."),
]


def _check_output(value: str) -> bool:
    if value not in ("text", "json"):
        fail(f"--output {value!r}: use text or json")
    return value == "json"


def _program_dir(value: Path | None) -> Path:
    from codex_stacks.ci.workspace import program_dir_of

    return program_dir_of(value)


def _settings(stack: str, *, program_dir: Path | None, project_dir: Path | None) -> StackSettings:
    """The stack's settings as the program reads them (stack file, then the command line)."""
    from codex_stacks.ci.settings import read_settings

    return read_settings(stack, program_dir=_program_dir(program_dir), project_dir=project_dir)


def _seconds(text: str | None, *, option: str) -> float | None:
    from codex_stacks.ci.durations import parse_duration
    from codex_stacks.ci.errors import CiError

    if text is None or text.strip() in ("", "0", "none"):
        return None
    try:
        return parse_duration(text)
    except CiError as exc:
        fail(f"{option}: {exc}")


def _publish(outputs: dict[str, str | int | bool | None], summary: str) -> None:
    """Outputs are what later steps read: failing to write them fails the step. The summary is only
    for people: failing to write it is a warning."""
    from codex_stacks.ci.errors import CiError
    from codex_stacks.ci.github import write_outputs, write_summary

    write_outputs(outputs)
    try:
        write_summary(summary)
    except CiError as exc:
        console.print("[bold yellow]warning:[/bold yellow] ", end="", markup=True)
        console.print(str(exc), markup=False)


def _json(document: dict[str, Any]) -> None:
    typer.echo(json.dumps(document, indent=2, sort_keys=True))


P = ParamSpec("P")
R = TypeVar("R")


def pulumi_errors(func: Callable[P, R]) -> Callable[P, R]:
    """A failed Pulumi CLI call (backend down, bad credentials, …) → its error line and exit 1."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except Exception as exc:
            errors = sys.modules.get("pulumi.automation.errors")
            if errors is None or not isinstance(exc, errors.CommandError):
                raise
            from codex_stacks.ci.errors import pulumi_error_line, pulumi_hint

            hint = pulumi_hint(exc)
            fail(f"pulumi: {pulumi_error_line(exc)}" + (f"\n  hint: {hint}" if hint else ""), code=EXIT_FAILED)

    return wrapper


@contextmanager
def _progress(title: str) -> Iterator[Callable[[str], None]]:
    """A rich spinner for people at a terminal; plain log lines on a runner (no spinner renders there)."""
    if not console.is_terminal:
        console.print(f"{title} …", markup=False)

        def log(message: str) -> None:
            console.print(f"· {message}", markup=False)

        yield log
        return
    with console.status(title) as status:

        def report(message: str) -> None:
            status.update(message)
            console.print(f"[dim]·[/dim] {message}", markup=True)

        yield report


def _stream(line: str) -> None:
    """One line of pulumi's own output, indented under the step's progress lines."""
    console.print(f"  {line}", markup=False)


def _claims(
    repository: str | None, *, program_dir: Path | None, project_dir: Path | None, lenient: bool = False
) -> tuple[ClaimStore, StackSettings | None, str]:
    """The repository's slot claims on the slots' cluster (the ``ai`` environment's kubeContext).

    ``lenient``: a services.yaml that cannot be read only costs the kubeContext (the kubeconfig's
    current context is used, with a warning): finding a slot needs nothing else from it."""
    from codex_stacks.ci.claims import claim_store
    from codex_stacks.ci.slots import check_repository
    from codex_stacks.ci.workspace import program_dir_of, project_name
    from codex_stacks.errors import CodexError

    repo = check_repository(repository)
    settings: StackSettings | None = None
    context = None
    try:
        settings = _settings("ai-slot-1", program_dir=program_dir, project_dir=project_dir)
        context = settings.target(mode="normal").environment.kube_context
    except CodexError as exc:
        if not lenient:
            raise
        console.print("[bold yellow]warning:[/bold yellow] ", end="", markup=True)
        console.print(f"{exc.message}: slot claims use the kubeconfig's current context", markup=False)
    project = project_name(program_dir_of(program_dir))
    return claim_store(repository=repo, project=project, context=context), settings, repo


def _require(settings: StackSettings | None) -> StackSettings:
    assert settings is not None  # only lenient callers get None
    return settings


@app.command("ensure-slot")
@handle_errors
@pulumi_errors
def ensure_slot_command(
    issue: IssueOption = None,
    pr: PrOption = None,
    max_slots: Annotated[
        int | None,
        typer.Option(
            "--max", min=0, help="Highest slot number; 0 means no limit [default: maxSlots of services.yaml]."
        ),
    ] = None,
    repository: RepositoryOption = None,
    project_dir: ProjectDirOption = None,
    program_dir: ProgramDirOption = None,
    api_url: Annotated[str, typer.Option("--api-url", envvar="GITHUB_API_URL", help="GitHub REST API root.")] = (
        "https://api.github.com"
    ),
    output: OutputOption = "text",
) -> None:
    """Pick the slot stack (ai-slot-N) of an issue or PR: its claimed slot, else the lowest free one.

    Atomic on every backend: a slot is claimed by creating its Lease in the cluster (namespace
    codex-system), which succeeds for one runner only; the stack is created after the claim, and a
    claim that fails half-way is rolled back. A pull request that works on an issue with a slot
    (its codex/issue-N branch, or "Closes #N" in its body; read with $GITHUB_TOKEN) reuses that
    slot; one with no linked issue gets its own. Outputs: stack, slot, reused.

    \b
    Examples:
      codexctl ci ensure-slot --issue 42
      codexctl ci ensure-slot --pr 57
    """
    from codex_stacks.ci.slots import Binding, ensure_slot, find_bound
    from codex_stacks.ci.workspace import open_workspace
    from codex_stacks.cli.ci_agent import pr_binding
    from codex_stacks.plan import load_settings

    as_json = _check_output(output)
    store, found, repo = _claims(repository, program_dir=program_dir, project_dir=project_dir)
    settings = _require(found)
    binding = Binding.from_options(repository=repo, issue=issue, pr=pr)
    _, services, _ = load_settings(settings.with_mode("normal").request)
    binding = pr_binding(binding, codex=services.codex, api_url=api_url, bound=lambda b: find_bound(store, b))
    if max_slots is None:
        max_slots = services.max_slots
    with _progress(f"finding a slot for {binding}") as progress:
        workspace, _ = open_workspace(program_dir=settings.program_dir)
        claim = ensure_slot(store, workspace, binding=binding, max_slots=max_slots, progress=progress)
    verb = "reused" if claim.reused else "claimed"
    console.print(f"{verb} {claim.stack} for {binding}")
    if as_json:
        _json({"stack": claim.stack, "slot": claim.slot, "reused": claim.reused, "binding": str(binding)})
    else:
        typer.echo(claim.stack)
    _publish(
        {"stack": claim.stack, "slot": claim.slot, "reused": claim.reused},
        f"### Slot\n`{claim.stack}` {verb} for {binding}.",
    )


@app.command("find-slot")
@handle_errors
@pulumi_errors
def find_slot_command(
    issue: IssueOption = None,
    pr: PrOption = None,
    repository: RepositoryOption = None,
    project_dir: ProjectDirOption = None,
    program_dir: ProgramDirOption = None,
    output: OutputOption = "text",
) -> None:
    """Print the slot stack claimed for an issue or PR, claiming nothing (empty when there is none).

    Outputs: stack, slot.

    Example: codexctl ci find-slot --pr 12
    """
    from codex_stacks.ci.slots import Binding, find_bound, slot_stack

    as_json = _check_output(output)
    store, _, repo = _claims(repository, program_dir=program_dir, project_dir=project_dir, lenient=True)
    binding = Binding.from_options(repository=repo, issue=issue, pr=pr)
    bound = find_bound(store, binding)
    stack = slot_stack(bound.slot) if bound is not None and bound.slot is not None else ""
    slot = bound.slot if bound is not None else None
    if as_json:
        _json({"stack": stack or None, "slot": slot, "binding": str(binding)})
    else:
        typer.echo(stack)
    text = f"`{stack}` is bound to {binding}." if stack else f"no slot is bound to {binding}."
    _publish({"stack": stack, "slot": slot if slot is not None else ""}, f"### Slot\n{text}")


def _mode_for(settings: StackSettings, mode: str | None) -> str:
    """--mode, else the mode the stack's environment is fixed to, else normal; a --mode the
    environment refuses is named as the cause (not the stack file, which may be right)."""
    from codex_stacks.plan import MODES

    if mode is not None and mode not in MODES:
        fail(f"unknown mode {mode!r}: use normal or repair")
    fixed = settings.fixed_mode()
    if mode is None:
        return fixed or "normal"
    if fixed is not None and fixed != mode:
        fail(
            f"--mode {mode}: stack {settings.stack}'s environment runs only in {fixed} mode "
            f"(services.yaml environments.*.mode)\n  hint: leave --mode out, or pass --mode {fixed}"
        )
    return mode


def _broken_services(error: CodexError, settings: StackSettings) -> BrokenConfig | None:
    """The error as a broken services.yaml, or None when it is about something else."""
    where = error.location
    services = settings.request.services_path
    try:
        same = where.file is not None and Path(where.file).resolve() == services.resolve()
    except OSError:
        same = False
    if not same:
        return None
    return BrokenConfig(file=settings.request.services_file, line=where.line, message=error.message[:500])


def _checkout_of(project_dir: Path) -> Path | None:
    """The git working copy the project folder is in (the sources to sync), if any."""
    from codex_stacks.ci.gitrepo import toplevel

    try:
        return toplevel(project_dir)
    except (CodexError, typer.Exit):
        return None


def _commit_of(project_dir: Path) -> str | None:
    from codex_stacks.ci.lastgood import current_commit

    try:
        return current_commit(project_dir)
    except CiError:
        return None


def _up_from_last_good(
    runner_for: Callable[..., UpRunner],
    *,
    settings: StackSettings,
    broken: BrokenConfig,
    folder: Path,
    progress: Callable[[str], None],
    sync: Callable[[StackSettings], Mapping[str, object]] | None = None,
) -> UpOutcome:
    """services.yaml does not load: deploy the repair set planned from the project folder of the
    stack's last successful normal up (else the default branch), and say so in the report."""
    from codex_stacks.ci.lastgood import old_project
    from codex_stacks.ci.up import UpOutcome
    from codex_stacks.ci.workspace import forwarding_signals
    from codex_stacks.stackconfig import program_config

    where = f"{broken.file}:{broken.line}" if broken.line else broken.file
    progress(f"services.yaml is broken ({where}): looking for the last commit that deployed {settings.stack}")
    runner = runner_for(settings)
    old = old_project(settings.project_dir, last_good=runner.last_good(), dest=folder)
    if old is None:
        reason = "no earlier commit of the project could be read (not a git checkout, or no remote)"
        return UpOutcome(
            stack=settings.stack,
            mode="repair",
            result="failed",
            infra_ready=False,
            failed=[FailedComponent(component="services.yaml", kind="program", reason=reason)],
            broken=broken,
        )
    progress(f"planning the repair set from commit {old.commit[:12]} ({old.source})")
    old_settings = _settings(settings.stack, program_dir=settings.program_dir, project_dir=old.project_dir)
    synced = sync(old_settings) if sync is not None else {}
    runner = runner_for(old_settings, branch=str(synced.get("branch") or "") or None)
    # the repair run sets codex:projectDir to the old folder; the stack keeps its own afterwards
    kept = settings.explicit_project_dir or program_config(settings.stack, program_dir=settings.program_dir).get(
        "codex:projectDir"
    )
    try:
        with forwarding_signals(runner.command, runner.on_signal):
            outcome = runner.run(mode="repair", fallback_repair=False)
    finally:
        _restore_project_dir(runner, kept)
    if outcome.result == "succeeded":
        outcome.result = "repaired"
    outcome.broken = broken.model_copy(update={"commit": old.commit, "project_dir": str(old.project_dir)})
    return outcome


def _restore_project_dir(runner: UpRunner, kept: str | Path | None) -> None:
    from pulumi.automation import ConfigValue
    from pulumi.automation.errors import CommandError

    try:
        if kept is None:
            runner.workspace.remove_config(runner.name, "codex:projectDir")
        else:
            runner.workspace.set_config(runner.name, "codex:projectDir", ConfigValue(value=str(kept)))
    except CommandError as exc:
        runner.progress(f"could not restore codex:projectDir of {runner.name}: {pulumi_error_line(exc)}")


@app.command("up")
@handle_errors
@pulumi_errors
def up_command(
    stack: StackOption,
    mode: Annotated[
        str | None,
        typer.Option(
            "--mode",
            "-m",
            help="normal, or repair (only the repair set) [default: the environment's fixed mode, else normal].",
        ),
    ] = None,
    retries: Annotated[
        int, typer.Option("--retries", min=0, help="Attempts after the first, for transient failures only.")
    ] = 3,
    backoff: Annotated[
        str, typer.Option("--backoff", help="First wait between attempts; doubles each time, with jitter.")
    ] = "10s",
    deadline: Annotated[
        str | None,
        typer.Option(
            "--deadline",
            help="One deadline for the whole run (refresh, retries and the fallback); then pulumi is "
            "interrupted (SIGINT, a second SIGINT, SIGKILL as a last resort).",
        ),
    ] = None,
    cancel_grace: Annotated[
        str, typer.Option("--cancel-grace", help="How long pulumi may take to stop after the first SIGINT.")
    ] = "5m",
    fallback_reserve: Annotated[
        str | None,
        typer.Option(
            "--fallback-reserve", help="Part of --deadline kept for the repair fallback [default: a quarter]."
        ),
    ] = None,
    fallback_repair: Annotated[
        bool,
        typer.Option(
            "--fallback-repair",
            help="When the full up fails, deploy the repair set and report infra_ready=false; when "
            "services.yaml itself does not load, the repair set of the last good up's commit (docs/repair.md).",
        ),
    ] = False,
    project_dir: ProjectDirOption = None,
    program_dir: ProgramDirOption = None,
    report: ReportOption = None,
    output: OutputOption = "text",
    issue: Annotated[
        int | None,
        typer.Option("--issue", min=1, help="The slot's issue: sync its sources first, comment its links after."),
    ] = None,
    pr: Annotated[
        int | None,
        typer.Option("--pr", min=1, help="The slot's pull request: sync its sources first, comment its links after."),
    ] = None,
    no_sync: Annotated[
        bool, typer.Option("--no-sync", help="With --issue/--pr: do not sync the sources (codex.workspace) first.")
    ] = False,
    source: Annotated[
        Path | None,
        typer.Option("--source", envvar="CODEX_SOURCE_DIR", file_okay=False, help="The runner's checkout to sync."),
    ] = None,
    repository: RepositoryOption = None,
    api_url: Annotated[str, typer.Option("--api-url", envvar="GITHUB_API_URL", help="GitHub REST API root.")] = (
        "https://api.github.com"
    ),
) -> None:
    """pulumi up with one update at a time, one deadline, retries of transient failures only and
    an optional repair fallback.

    Always sets codex:mode. Lock conflicts, network errors and API 5xx/429 are retried with
    backoff; a resource that failed goes to the repair fallback at once; an interrupted run is
    refreshed first; stale locks of dead runs are cleared. SIGINT/SIGTERM to codexctl are passed
    on to pulumi, and nothing else starts. Outputs: stack, mode, result, infra_ready, attempts,
    failed_components, report.


    \b
    With --issue N or --pr N (a slot's issue or pull request): the sources are synced into the
    slot's workspace first when services.yaml's codex.workspace asks (ci sync-sources; --no-sync
    skips it), and after a successful up one comment there lists the slot's namespace and links,
    edited in place on later runs ($GITHUB_TOKEN).

    \b
    Examples:
      codexctl ci up --stack ai-staging --retries 3 --backoff 30s --deadline 40m
      codexctl ci up --stack ai-slot-3 --fallback-repair --issue 42
    """
    import warnings

    from codex_stacks.ci.report import default_report_path, write_report
    from codex_stacks.ci.up import UpPolicy, UpRunner, with_project
    from codex_stacks.ci.workspace import forwarding_signals, open_workspace, project_name
    from codex_stacks.plan import resolve_stack

    # a CLI stopped at the deadline breaks its event stream; the SDK warns, ci up says what happened
    warnings.filterwarnings("ignore", message="Error in event stream", category=UserWarning)
    as_json = _check_output(output)
    settings = _settings(stack, program_dir=program_dir, project_dir=project_dir)
    broken: BrokenConfig | None = None
    try:
        chosen = _mode_for(settings, mode)
        resolve_stack(settings.with_mode(chosen).request)  # a typo (prod-typo) fails here, before any backend
    except CodexError as error:
        broken = _broken_services(error, settings)
        if broken is None or not (fallback_repair or mode == "repair"):
            raise
        chosen = "repair"
    binding = None
    sync: Callable[[StackSettings], Mapping[str, object]] | None = None
    branch: str | None = None
    if issue is not None or pr is not None:
        from codex_stacks.ci.slots import Binding, check_repository
        from codex_stacks.cli.ci_agent import run_sync

        binding = Binding.from_options(repository=check_repository(repository), issue=issue, pr=pr)
        if no_sync and broken is None:
            from codex_stacks.cli.ci_agent import workspace_branch

            # the same codex:branch as the run that synced: a change would restart the agent's pod
            branch = workspace_branch(settings=settings, binding=binding, api_url=api_url)
        if not no_sync:
            # the checkout is the source even when services.yaml is broken: the agent fixes it there;
            # codex.workspace is then read from the commit the repair set comes from
            checkout = source if source is not None else _checkout_of(settings.project_dir)

            def sync(chosen_settings: StackSettings, bound: Binding = binding) -> Mapping[str, object]:
                return run_sync(
                    stack=stack, settings=chosen_settings, binding=bound, source=checkout, force=False, api_url=api_url
                )

            if broken is None:
                branch = str(sync(settings).get("branch") or "") or None
                sync = None
    policy = UpPolicy(
        retries=retries,
        backoff=_seconds(backoff, option="--backoff") or 0.0,
        deadline=_seconds(deadline, option="--deadline"),
        grace=_seconds(cancel_grace, option="--cancel-grace") or 0.0,
        fallback_reserve=_seconds(fallback_reserve, option="--fallback-reserve"),
    )
    project = project_name(settings.program_dir)

    report_path = report or default_report_path(stack)
    with _progress(f"pulumi up {stack} ({chosen})") as progress:
        workspace, command = open_workspace(program_dir=settings.program_dir)

        def runner_for(
            chosen_settings: StackSettings, *, commit: str | None = None, branch: str | None = branch
        ) -> UpRunner:
            def targets() -> list[str]:
                from codex_stacks.offline.targets import repair_targets

                config = chosen_settings.config(mode="repair")
                return with_project(repair_targets(stack, extra_config=config), project)

            return UpRunner(
                workspace=workspace,
                command=command,
                stack=stack,
                settings=chosen_settings,
                policy=policy,
                repair_targets=targets,
                progress=progress,
                output=_stream,
                commit=commit,
                branch=branch,
            )

        if broken is not None:
            outcome = _up_from_last_good(
                runner_for,
                settings=settings,
                broken=broken,
                folder=report_path.parent / "last-good",
                progress=progress,
                sync=sync,
            )
        else:
            runner = runner_for(settings, commit=_commit_of(settings.project_dir) if chosen == "normal" else None)
            with forwarding_signals(command, runner.on_signal):
                outcome = runner.run(mode=chosen, fallback_repair=fallback_repair)
    infra = outcome.report()
    write_report(infra, path=report_path)
    failed_names = ",".join(f.title for f in outcome.failed)
    rows = "\n".join(f"| {a.mode} | {a.number} | {a.outcome} | {a.message} |" for a in outcome.attempts)
    if as_json:
        _json(
            {
                "stack": stack,
                "mode": outcome.mode,
                "result": outcome.result,
                "infra_ready": outcome.infra_ready,
                "attempts": [a.as_json() for a in outcome.attempts],
                "failed": [f.model_dump() for f in outcome.failed],
                "report": str(report_path),
            }
        )
    _publish(
        {
            "stack": stack,
            "mode": outcome.mode,
            "result": outcome.result,
            "infra_ready": outcome.infra_ready,
            "attempts": len(outcome.attempts),
            "failed_components": failed_names,
            "report": str(report_path),
        },
        f"### pulumi up `{stack}`: {outcome.result}\n{infra.summary}\n\n"
        f"| mode | attempt | outcome | message |\n|---|---|---|---|\n{rows}",
    )
    if outcome.result in ("succeeded", "repaired"):
        console.print(f"{stack}: {infra.summary}")
        if binding is not None:
            from codex_stacks.cli.ci_agent import links_after_up

            links_after_up(
                stack=stack,
                settings=settings,
                binding=binding,
                mode=outcome.mode,
                result=outcome.result,
                api_url=api_url,
            )
        return
    fail(infra.summary, code=EXIT_FAILED)


@app.command("images")
@handle_errors
@pulumi_errors
def images_command(
    stack: StackOption,
    builder: Annotated[
        str,
        typer.Option(
            "--builder", envvar="CODEX_IMAGE_BUILDER", help="buildx, kaniko, or auto (buildx when docker exists)."
        ),
    ] = "auto",
    only: Annotated[
        list[str] | None, typer.Option("--only", metavar="NAME", help="Only this image (repeatable).")
    ] = None,
    retries: Annotated[int, typer.Option("--retries", min=0, help="Attempts after the first, per command.")] = 2,
    backoff: Annotated[str, typer.Option("--backoff", help="First wait between attempts; doubles each time.")] = "5s",
    force: Annotated[bool, typer.Option("--force", help="Build or mirror even when the image is present.")] = False,
    project_dir: ProjectDirOption = None,
    program_dir: ProgramDirOption = None,
    output: OutputOption = "text",
) -> None:
    """Mirror the external images and build the images with a Dockerfile (images: of services.yaml),
    skipping those the registry already has.

    Mirroring uses skopeo, crane or docker, whichever exists; building uses
    docker buildx build --push or kaniko (--builder / $CODEX_IMAGE_BUILDER).
    Every Dockerfile and build context is checked before anything runs.
    Outputs: built, mirrored, skipped (also for the images done before a failure).

    Example: codexctl ci images --stack ai-staging --builder kaniko
    """
    from codex_stacks.ci.images import ImageResult, ImageRunner, plan_images

    as_json = _check_output(output)
    jobs = plan_images(
        stack=stack,
        project_dir=project_dir.resolve() if project_dir else None,
        only=only or [],
        program_dir=_program_dir(program_dir),
    )
    runner = ImageRunner(
        builder=builder,
        retries=retries,
        backoff=_seconds(backoff, option="--backoff") or 0.0,
        force=force,
    )

    def publish(results: list[ImageResult], *, failed: str = "") -> dict[str, list[str]]:
        done = {status: [r.ref for r in results if r.status == status] for status in ("built", "mirrored", "skipped")}
        lines = "\n".join(f"- `{r.ref}`: {r.status}" for r in results)
        if failed:
            lines += f"\n\n**failed:** {failed}"
        if as_json:
            _json({"stack": stack, **done, "failed": failed or None})
        _publish({key: ",".join(value) for key, value in done.items()}, f"### Images of `{stack}`\n{lines}")
        return done

    with _progress(f"images of {stack}: {len(jobs)} to check") as progress:
        runner.progress = progress
        try:
            results = runner.run(jobs)
        except Exception as exc:
            from codex_stacks.ci.errors import CiError

            if isinstance(exc, CiError) and runner.results:
                publish(runner.results, failed=exc.message)
            raise
    done = publish(results)
    console.print(", ".join(f"{len(v)} {k}" for k, v in done.items()))


@app.command("prompt")
@handle_errors
@pulumi_errors
def prompt_command(
    stack: StackOption,
    kind: Annotated[str, typer.Option("--kind", "-k", help="dev_issue, dev_review, plan_issue, plan_review, repair_…")],
    issue: IssueOption = None,
    pr: PrOption = None,
    lang: Annotated[str | None, typer.Option("--lang", help="en or ru [default: promptLang].")] = None,
    kube_context: Annotated[str | None, typer.Option("--kube-context", help="Kubernetes context to use.")] = None,
    project_dir: ProjectDirOption = None,
    program_dir: ProgramDirOption = None,
    report: ReportOption = None,
    output: OutputOption = "text",
    labels: Annotated[
        str | None,
        typer.Option(
            "--labels",
            help="The issue's/PR's labels as a JSON list of names: [ai-model-<name>] (one of codex.models) and "
            "[ai-reasoning-<level>] choose this run's model and effort; an unknown one is exit 2.",
        ),
    ] = None,
) -> None:
    """Render the prompt and run the agent in the slot (the codex Deployment of the stack).

    When the last ci up of this stack reported infra_ready=false, the repair prompt is
    used instead (repair_issue; repair_plan for plan kinds) with what failed.
    Outputs: kind, exit_code.

    Example: codexctl ci prompt --stack ai-slot-3 --kind dev_issue --issue 42 --labels '["[ai-dev]"]'
    """
    from codex_stacks.ci.report import default_report_path, read_report
    from codex_stacks.prompts.context import check_numbers
    from codex_stacks.prompts.labels import parse_labels

    as_json = _check_output(output)
    check_numbers(kind=kind, issue=issue, pr=pr)  # the kind asked for, before any repair substitution
    names = parse_labels(labels) if labels is not None else []
    if report is not None and not report.is_file():
        fail(
            f"--report {report}: no such file\n  hint: leave --report out to use the report ci up wrote "
            f"({default_report_path(stack)}), or run ci up first"
        )
    infra = read_report(report or default_report_path(stack))
    chosen = kind
    if infra is not None and not infra.healthy and not kind.startswith("repair_"):
        chosen = REPAIR_KINDS.get(kind, "repair_issue")
        console.print(f"infrastructure is not ready ({infra.summary}): running {chosen} instead of {kind}")
    from codex_stacks.prompts.runner import run_prompt

    if project_dir is None and infra is not None and infra.services_yaml and infra.services_yaml.project_dir:
        # services.yaml is broken: the agent is planned from the commit ci up deployed it from
        old = Path(infra.services_yaml.project_dir)
        if old.is_dir():
            console.print(f"services.yaml is broken: the agent comes from commit {infra.services_yaml.commit[:12]}")
            project_dir = old
    settings = _settings(stack, program_dir=program_dir, project_dir=project_dir)
    code = run_prompt(
        stack=stack,
        kind=chosen,
        project_dir=settings.project_dir,
        issue=issue,
        pr=pr,
        lang=lang,
        infra_report=infra,
        kube_context=kube_context,
        out=sys.stderr if as_json else None,  # with --output json, stdout is the document alone
        labels=names,
    )
    _publish({"kind": chosen, "exit_code": code}, f"### Agent run `{chosen}` in `{stack}`\nexit code {code}")
    if as_json:
        _json({"stack": stack, "kind": chosen, "requested_kind": kind, "exit_code": code})
    if code != 0:
        fail(f"the agent run ({chosen}) exited with {code}", code=EXIT_FAILED)


NamespaceTimeoutOption = Annotated[
    str, typer.Option("--namespace-timeout", help="How long to wait for a slot's namespace to go.")
]
KeepNamespaceOption = Annotated[
    bool,
    typer.Option("--keep-namespace", help="Leave the slot's namespace (its PVCs and secrets) in the cluster."),
]
RetriesOption = Annotated[
    int, typer.Option("--retries", min=0, help="Destroy attempts after the first, for locks and network errors.")
]
BackoffOption = Annotated[str, typer.Option("--backoff", help="First wait between destroy attempts; doubles.")]


def _removed_text(removal: Removal) -> str:
    parts = [f"removed {removal.stack}"]
    if removal.namespace is not None:
        parts.append(removal.namespace.describe())
    if removal.data_dir is not None:
        parts.append(f"data dir {removal.data_dir}")
    if removal.released is not None:
        parts.append(f"claim {removal.released} released")
    text = "; ".join(parts)
    return f"{text} ({removal.note})" if removal.note else text


def _removal_json(removal: Removal) -> dict[str, Any]:
    return {
        "stack": removal.stack,
        "namespace": removal.namespace.namespace if removal.namespace else None,
        "namespace_state": removal.namespace.state if removal.namespace else None,
        "data_dir": str(removal.data_dir) if removal.data_dir else None,
        "claim": removal.released,
        "note": removal.note or None,
    }


@app.command("cleanup")
@handle_errors
@pulumi_errors
def cleanup_command(
    issue: IssueOption = None,
    pr: PrOption = None,
    stack: Annotated[str | None, typer.Option("--stack", "-s", help="Stack name instead of --issue/--pr.")] = None,
    keep_data: Annotated[bool, typer.Option("--keep-data", help="Leave the slot's host data dir.")] = False,
    keep_namespace: KeepNamespaceOption = False,
    namespace_timeout: NamespaceTimeoutOption = "5m",
    retries: RetriesOption = 3,
    backoff: BackoffOption = "10s",
    repository: RepositoryOption = None,
    project_dir: ProjectDirOption = None,
    program_dir: ProgramDirOption = None,
    output: OutputOption = "text",
) -> None:
    """Remove a slot in the safe order: delete its namespace and wait until it is gone (through
    the Kubernetes API), destroy and remove the stack, delete its data dir (only inside
    dataPaths.root), then release its claim. Other stacks (staging, dev) are destroyed and
    removed and keep their namespace and data.

    Outputs: stack, removed, namespace.


    \b
    Examples:
      codexctl ci cleanup --issue 42
      codexctl ci cleanup --stack ai-slot-3 --keep-data --keep-namespace
    """
    from codex_stacks.ci.cleanup import DestroyPolicy, remove_slot
    from codex_stacks.ci.slots import Binding, find_bound, slot_number, slot_stack
    from codex_stacks.ci.workspace import forwarding_signals, open_workspace

    as_json = _check_output(output)
    if (stack is None) == (issue is None and pr is None) or (issue is not None and pr is not None):
        fail("give exactly one of --issue N, --pr N or --stack S")
    wait = _seconds(namespace_timeout, option="--namespace-timeout") or 0.0
    policy = DestroyPolicy(retries=retries, backoff=_seconds(backoff, option="--backoff") or 0.0)
    claim = store = None
    if stack is None or slot_number(stack) is not None:
        store, _, repo = _claims(repository, program_dir=program_dir, project_dir=project_dir)
        if stack is None:
            binding = Binding.from_options(repository=repo, issue=issue, pr=pr)
            claim = find_bound(store, binding)
            if claim is None or claim.slot is None:
                console.print(f"no slot is bound to {binding}: nothing to clean up")
                if as_json:
                    _json({"stack": None, "removed": False})
                _publish({"stack": "", "removed": False, "namespace": ""}, f"### Cleanup\nno slot bound to {binding}.")
                return
            stack = slot_stack(claim.slot)
        else:
            number = slot_number(stack)
            claim = next((c for c in store.slots() if c.slot == number), None)
    settings = _settings(stack, program_dir=program_dir, project_dir=project_dir)
    signals: list[int] = []
    with _progress("cleanup") as progress:
        workspace, command = open_workspace(program_dir=settings.program_dir)
        with forwarding_signals(command, signals.append):
            removal = remove_slot(
                workspace,
                settings=settings,
                claim=claim,
                store=store,
                command=command,
                keep_data=keep_data,
                keep_namespace=keep_namespace,
                namespace_timeout=wait,
                policy=policy,
                progress=progress,
                interrupted=lambda: bool(signals),
            )
    text = _removed_text(removal)
    console.print(text)
    if as_json:
        _json({"removed": True, **_removal_json(removal)})
    namespace = removal.namespace.namespace if removal.namespace else ""
    _publish({"stack": stack, "removed": True, "namespace": namespace}, f"### Cleanup\n{text}.")


def _gc_age(text: str | None, *, option: str) -> float | None:
    """A duration option: unset → no criterion; ``0`` → every candidate."""
    from codex_stacks.ci.durations import parse_duration
    from codex_stacks.ci.errors import CiError

    if text is None or not text.strip():
        return None
    try:
        return parse_duration(text)
    except CiError as exc:
        fail(f"{option}: {exc}")


def _issue_checker(*, api_url: str, token: str | None) -> Callable[[Binding], str]:
    """``open`` or ``closed`` of a binding's issue or PR, from the GitHub API."""
    from codex_stacks.ci.github import IssueStates

    states = IssueStates(api_url=api_url, token=token, progress=lambda line: console.print(f"· {line}", markup=False))

    def state(binding: Binding) -> str:
        return states(repository=binding.repository, number=binding.number)

    return state


@app.command("gc")
@handle_errors
@pulumi_errors
def gc_command(
    older_than: Annotated[
        str | None,
        typer.Option("--older-than", help="Remove slots idle longer than this (e.g. 7d; 0: every idle slot)."),
    ] = None,
    closed: Annotated[
        bool,
        typer.Option("--closed", help="Remove slots bound to closed issues/PRs (GitHub API, $GITHUB_TOKEN)."),
    ] = False,
    orphan_age: Annotated[
        str,
        typer.Option(
            "--orphan-age",
            help="Claims without a stack, and this repository's slot stacks without a claim, older than this "
            "are removed too.",
        ),
    ] = "2h",
    repository: RepositoryOption = None,
    api_url: Annotated[str, typer.Option("--api-url", envvar="GITHUB_API_URL", help="GitHub REST API root.")] = (
        "https://api.github.com"
    ),
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only list what would be removed.")] = False,
    keep_namespace: KeepNamespaceOption = False,
    namespace_timeout: NamespaceTimeoutOption = "5m",
    retries: RetriesOption = 3,
    backoff: BackoffOption = "10s",
    project_dir: ProjectDirOption = None,
    program_dir: ProgramDirOption = None,
    output: OutputOption = "text",
) -> None:
    """Remove the repository's slots that are idle too long or bound to closed issues/PRs, as
    cleanup does, and what failed runs left: claims without a stack, slot stacks without a claim,
    abandoned claiming locks (older than --orphan-age).

    Needs --older-than D, --closed, or both. A failed lookup or removal does not stop the others:
    every failure is reported at the end, and the step then exits non-zero.
    Outputs: removed, failed.

    Example: codexctl ci gc --closed --older-than 7d
    """
    from codex_stacks.ci.cleanup import DestroyPolicy, GcProblem, gc_candidates, remove_slot, stale_claiming_locks
    from codex_stacks.ci.errors import CiError
    from codex_stacks.ci.slots import list_slots, now_utc
    from codex_stacks.ci.workspace import forwarding_signals, open_workspace

    as_json = _check_output(output)
    age = _gc_age(older_than, option="--older-than")
    orphans = _gc_age(orphan_age, option="--orphan-age")
    if age is None and not closed:
        fail("give --older-than D, --closed, or both (e.g. codexctl ci gc --closed --older-than 7d)")
    wait = _seconds(namespace_timeout, option="--namespace-timeout") or 0.0
    policy = DestroyPolicy(retries=retries, backoff=_seconds(backoff, option="--backoff") or 0.0)
    token = os.environ.get("GITHUB_TOKEN")
    store, found, repo = _claims(repository, program_dir=program_dir, project_dir=project_dir)
    base = _require(found)
    if closed and not token:
        console.print(
            "[bold yellow]warning:[/bold yellow] --closed without $GITHUB_TOKEN: private repositories answer 404 "
            "and the API allows 60 requests an hour",
            markup=True,
        )
    state = _issue_checker(api_url=api_url, token=token)

    def is_closed(binding: Binding) -> bool:
        return state(binding) == "closed"

    removed: list[str] = []
    notes: dict[str, str] = {}
    signals: list[int] = []
    with _progress("gc of slots") as progress, contextlib.ExitStack() as scope:
        workspace, command = open_workspace(program_dir=base.program_dir)
        scope.enter_context(forwarding_signals(command, signals.append))
        now = now_utc()
        slots = list_slots(store, workspace)
        picked, problems = gc_candidates(
            slots,
            repository=repo,
            now=now,
            older_than=age,
            orphan_age=orphans if orphans is not None else 7200.0,
            is_closed=is_closed if closed else None,
        )
        for problem in problems:
            progress(f"{problem.stack}: {problem.error.message}")
        stale_locks = stale_claiming_locks(store.claims(), now=now)
        for lock in stale_locks:
            progress(f"{lock.name}: an abandoned claiming lock")
            if not dry_run:
                store.release(lock)
        for candidate in picked:
            name = candidate.slot.stack
            if signals:
                progress(f"{name}: left alone, gc was interrupted")
                continue
            progress(f"{name}: {candidate.reason}")
            if dry_run:
                removed.append(name)
                continue
            try:
                if candidate.kind == "claim":
                    assert candidate.slot.claim is not None
                    store.release(candidate.slot.claim)
                    notes[name] = f"released the claim {candidate.slot.claim.name} (no stack)"
                else:
                    settings = _settings(name, program_dir=program_dir, project_dir=project_dir)
                    removal = remove_slot(
                        workspace,
                        settings=settings,
                        claim=candidate.slot.claim,
                        store=store,
                        command=command,
                        keep_namespace=keep_namespace,
                        namespace_timeout=wait,
                        policy=policy,
                        progress=progress,
                        interrupted=lambda: bool(signals),
                    )
                    notes[name] = _removed_text(removal)
            except CiError as exc:
                problems.append(GcProblem(stack=name, error=exc))
                progress(f"{name}: {exc.message}")
                continue
            removed.append(name)
    failed = [problem.stack for problem in problems]
    reasons = {c.slot.stack: c.reason for c in picked}
    lines = [f"- `{name}`: {reasons[name]}" for name in removed]
    lines += [f"- `{p.stack}`: **failed**: {p.error.message}" for p in problems]
    verb = "would remove" if dry_run else "removed"
    console.print(f"{verb}: {', '.join(removed) or 'nothing'}")
    for name in removed:
        if name in notes:
            console.print(f"  {notes[name]}", markup=False)
    if as_json:
        _json(
            {
                "dry_run": dry_run,
                "removed": [{"stack": name, "reason": reasons[name]} for name in removed],
                "failed": [{"stack": p.stack, "error": p.error.message} for p in problems],
                "released_locks": [lock.name for lock in stale_locks],
            }
        )
    _publish(
        {"removed": ",".join(removed), "failed": ",".join(failed)},
        f"### gc ({verb})\n" + ("\n".join(lines) or "nothing to remove"),
    )
    if problems:
        details = "".join(f"\n  {p.stack}: {str(p.error).replace(chr(10), chr(10) + '  ')}" for p in problems)
        code = max(getattr(p.error, "exit_code", 2) for p in problems)
        fail(f"gc: {len(problems)} slot(s) failed, the others were handled:{details}", code=code)


def _slot_row(slot: Slot, *, outputs: dict[str, Any], state: str | None) -> dict[str, Any]:
    from codex_stacks.ci.slots import MODE_TAG, RESULT_TAG, format_time

    binding = slot.binding
    return {
        "slot": slot.slot,
        "stack": slot.stack,
        "binding": str(binding) if binding else None,
        "issue": binding.number if binding and binding.kind == "issue" else None,
        "pr": binding.number if binding and binding.kind == "pr" else None,
        "state": state,
        "claimed": slot.claim is not None,
        "claimed_at": format_time(slot.claimed_at) if slot.claimed_at else None,
        "last_used": format_time(slot.last_used) if slot.last_used else None,
        "last_result": slot.tags.get(RESULT_TAG),
        "mode": outputs.get("mode") or slot.tags.get(MODE_TAG),
        "namespace": outputs.get("namespace"),
        "links": [link.get("url") for link in outputs.get("links") or [] if isinstance(link, dict)],
        "stack_exists": slot.exists,
    }


@app.command("slots")
@handle_errors
@pulumi_errors
def slots_command(
    repository: RepositoryOption = None,
    states: Annotated[
        bool,
        typer.Option("--states/--no-states", help="Ask the GitHub API whether each issue/PR is open ($GITHUB_TOKEN)."),
    ] = True,
    api_url: Annotated[str, typer.Option("--api-url", envvar="GITHUB_API_URL", help="GitHub REST API root.")] = (
        "https://api.github.com"
    ),
    project_dir: ProjectDirOption = None,
    program_dir: ProgramDirOption = None,
    output: OutputOption = "text",
) -> None:
    """List every slot of the repository: stack, issue/PR and its state, claimed and last-used
    times, the last up's result, mode, namespace and links (also to $GITHUB_STEP_SUMMARY).

    Example: codexctl ci slots --output json
    """
    from pulumi.automation import Stack
    from pulumi.automation.errors import CommandError

    from codex_stacks.ci.errors import CiError
    from codex_stacks.ci.slots import list_slots
    from codex_stacks.ci.workspace import open_workspace

    as_json = _check_output(output)
    store, _, repo = _claims(repository, program_dir=program_dir, project_dir=project_dir, lenient=True)
    token = os.environ.get("GITHUB_TOKEN")
    state = _issue_checker(api_url=api_url, token=token)
    rows = []
    with _progress(f"slots of {repo}") as progress:
        workspace, _ = open_workspace(program_dir=program_dir)
        for slot in list_slots(store, workspace):
            outputs: dict[str, Any] = {}
            if slot.exists:
                try:
                    outputs = {k: v.value for k, v in Stack.select(slot.stack, workspace).outputs().items()}
                except CommandError as exc:
                    progress(f"{slot.stack}: outputs unreadable ({str(exc).strip().splitlines()[-1][:200]})")
            found: str | None = None
            if states and slot.binding is not None and slot.binding.repository == repo:
                try:
                    found = state(slot.binding)
                except CiError as exc:
                    progress(f"{slot.stack}: {exc.message}")
                    found = "unknown"
            rows.append(_slot_row(slot, outputs=outputs, state=found))
    if as_json:
        _json({"repository": repo, "slots": rows})
    else:
        for row in rows:
            typer.echo(
                f"{row['stack']:<12} {row['binding'] or '(no binding)':<28} {row['state'] or '-':<7} "
                f"{row['last_result'] or '-':<11} {row['mode'] or '-':<7} {row['namespace'] or '-'}"
            )
        if not rows:
            typer.echo(f"no slots of {repo}")
    header = "| slot | issue/PR | state | claimed | last used | last up | mode | namespace | links |"
    table = [header, "|---|---|---|---|---|---|---|---|---|"]
    for row in rows:
        links = " ".join(f"[link]({url})" for url in row["links"] if url)
        table.append(
            f"| `{row['stack']}` | {row['binding'] or '—'} | {row['state'] or '—'} | {row['claimed_at'] or '—'} "
            f"| {row['last_used'] or '—'} | {row['last_result'] or '—'} | {row['mode'] or '—'} "
            f"| {row['namespace'] or '—'} | {links or '—'} |"
        )
    _publish({"slots": len(rows)}, f"### Slots of {repo}\n" + ("\n".join(table) if rows else "no slots"))


app.command("changes")(__import__("codex_stacks.cli.ci_changes", fromlist=["changes_command"]).changes_command)
app.command("repair-stack")(
    __import__("codex_stacks.cli.ci_repair", fromlist=["repair_stack_command"]).repair_stack_command
)
__import__("codex_stacks.cli.ci_agent", fromlist=["register"]).register(app)
