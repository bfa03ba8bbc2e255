"""``codexctl ci …``: the CI logic every project repository used to copy (SPEC §7).

Each command works the same on a laptop and on a runner: progress on stderr, ``key=value`` to
``$GITHUB_OUTPUT`` and a short Markdown summary to ``$GITHUB_STEP_SUMMARY`` when they are set,
and one clear line plus a non-zero exit on failure. Pulumi is imported only inside commands.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, ParamSpec, TypeVar

import typer

from codex_stacks.cli.output import console, fail, handle_errors

if TYPE_CHECKING:
    from codex_stacks.ci.cleanup import Removal

app = typer.Typer(
    help=(
        "CI steps on the Pulumi Automation API: ensure-slot and find-slot (slots of issues and PRs), "
        "up, images, prompt, cleanup and gc.\n\n"
        "Each writes key=value outputs to $GITHUB_OUTPUT and a summary to $GITHUB_STEP_SUMMARY when set.\n\n"
        "\b\n"
        "Exit codes:\n"
        "  0  success\n"
        "  1  the work failed or an outside system did (pulumi up, a destroy, docker or a build, the\n"
        "     registry, the cluster, the GitHub API, the Pulumi CLI or backend): the same call may work later\n"
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
        help="Folder with services.yaml [default: $CODEX_PROJECT_DIR, else the bundled example project].",
    ),
]
ProgramDirOption = Annotated[
    Path | None,
    typer.Option(
        "--program-dir",
        envvar="CODEX_PROGRAM_DIR",
        file_okay=False,
        help="Folder of the codex stacks Pulumi.yaml [default: this installation's].",
    ),
]
ReportOption = Annotated[
    Path | None,
    typer.Option("--report", help="infra-report.json of this stack [default: .codex-ci/<stack>/infra-report.json]."),
]


def _project_dir(value: Path | None) -> Path:
    from codex_stacks.cli.app import default_project_dir

    return (value or default_project_dir()).resolve()


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
    project_dir: ProjectDirOption = None,
    program_dir: ProgramDirOption = None,
) -> None:
    """Pick the slot stack (ai-slot-N) of an issue or PR: its bound slot, else the lowest free one.

    Race-free: a slot is claimed by creating its stack, which fails for every other runner.
    Outputs: stack, slot, reused.

    Example: codexctl ci ensure-slot --issue 42
    """
    from codex_stacks.ci.slots import Binding, ensure_slot
    from codex_stacks.ci.workspace import open_workspace

    binding = Binding.from_options(issue=issue, pr=pr)
    if max_slots is None:
        from codex_stacks.plan import PlanRequest, load_settings

        _, settings, _ = load_settings(PlanRequest(stack="ai-slot-1", project_dir=_project_dir(project_dir)))
        max_slots = settings.max_slots
    with _progress(f"finding a slot for {binding}"):
        workspace, _ = open_workspace(program_dir=program_dir)
        claim = ensure_slot(workspace, binding=binding, max_slots=max_slots)
    verb = "reused" if claim.reused else "claimed"
    console.print(f"{verb} {claim.stack} for {binding}")
    typer.echo(claim.stack)
    _publish(
        {"stack": claim.stack, "slot": claim.slot, "reused": claim.reused},
        f"### Slot\n`{claim.stack}` {verb} for {binding}.",
    )


@app.command("find-slot")
@handle_errors
@pulumi_errors
def find_slot_command(issue: IssueOption = None, pr: PrOption = None, program_dir: ProgramDirOption = None) -> None:
    """Print the slot stack bound to an issue or PR, claiming nothing (empty when there is none).

    Outputs: stack, slot.

    Example: codexctl ci find-slot --pr 12
    """
    from codex_stacks.ci.slots import Binding, find_bound
    from codex_stacks.ci.workspace import open_workspace

    binding = Binding.from_options(issue=issue, pr=pr)
    workspace, _ = open_workspace(program_dir=program_dir)
    bound = find_bound(workspace, binding)
    typer.echo(bound.stack if bound else "")
    text = f"`{bound.stack}` is bound to {binding}." if bound else f"no slot is bound to {binding}."
    _publish({"stack": bound.stack if bound else "", "slot": bound.slot if bound else ""}, f"### Slot\n{text}")


@app.command("up")
@handle_errors
@pulumi_errors
def up_command(
    stack: StackOption,
    mode: Annotated[str, typer.Option("--mode", "-m", help="normal, or repair (only the repair set).")] = "normal",
    retries: Annotated[int, typer.Option("--retries", min=0, help="Attempts after the first.")] = 3,
    backoff: Annotated[str, typer.Option("--backoff", help="First wait between attempts; doubles each time.")] = "10s",
    deadline: Annotated[
        str | None, typer.Option("--deadline", help="Soft deadline per mode; then the update is cancelled, not killed.")
    ] = None,
    cancel_grace: Annotated[
        str, typer.Option("--cancel-grace", help="How long to let a cancelled update finish cleanly.")
    ] = "5m",
    fallback_repair: Annotated[
        bool,
        typer.Option(
            "--fallback-repair", help="When the full up fails, deploy the repair set and report infra_ready=false."
        ),
    ] = False,
    project_dir: ProjectDirOption = None,
    program_dir: ProgramDirOption = None,
    report: ReportOption = None,
) -> None:
    """pulumi up with uniform retries, backoff, a soft deadline and an optional repair fallback.

    Always sets codex:mode. Lock conflicts and transient failures are retried with exponential
    backoff; an interrupted run is refreshed (pending operations cleared) before the retry.
    Outputs: stack, mode, result, infra_ready, attempts, failed_components, report.


    \b
    Examples:
      codexctl ci up --stack ai-staging --retries 3 --backoff 30s --deadline 40m
      codexctl ci up --stack ai-slot-3 --fallback-repair
    """
    from codex_stacks.ci.report import default_report_path, write_report
    from codex_stacks.ci.up import UpPolicy, UpRunner
    from codex_stacks.ci.workspace import open_workspace
    from codex_stacks.plan import MODES

    if mode not in MODES:
        fail(f"unknown mode {mode!r}: use normal or repair")
    project = _project_dir(project_dir)
    _check_stack(stack, project=project, program_dir=program_dir, mode=mode)
    policy = UpPolicy(
        retries=retries,
        backoff=_seconds(backoff, option="--backoff") or 0.0,
        deadline=_seconds(deadline, option="--deadline"),
        grace=_seconds(cancel_grace, option="--cancel-grace") or 0.0,
    )

    def targets() -> list[str]:
        from codex_stacks.offline.targets import repair_targets

        return repair_targets(stack, project_dir=project)

    with _progress(f"pulumi up {stack} ({mode})") as progress:
        workspace, command = open_workspace(program_dir=program_dir)
        runner = UpRunner(
            workspace=workspace,
            command=command,
            stack=stack,
            project_dir=project,
            policy=policy,
            repair_targets=targets,
            progress=progress,
            output=_stream,
        )
        outcome = runner.run(mode=mode, fallback_repair=fallback_repair)
    report_path = report or default_report_path(stack)
    infra = outcome.report()
    write_report(infra, path=report_path)
    failed_names = ",".join(f.component for f in outcome.failed)
    rows = "\n".join(f"| {a.mode} | {a.number} | {a.outcome} | {a.message} |" for a in outcome.attempts)
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
        return
    fail(infra.summary, code=EXIT_FAILED)


def _check_stack(stack: str, *, project: Path, program_dir: Path | None, mode: str) -> None:
    """The stack resolved against services.yaml and its config file, as the program will: a typo
    (``prod-typo``) fails here with exit 2, before any stack is created or config is set."""
    from codex_stacks.plan import resolve_stack
    from codex_stacks.stackconfig import stack_request

    resolve_stack(stack_request(stack, project_dir=project, program_dir=program_dir, mode=mode))


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

    project = _project_dir(project_dir)
    jobs = plan_images(stack=stack, project_dir=project, only=only or [])
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
    report: ReportOption = None,
) -> None:
    """Render the prompt and run the agent in the slot (the codex Deployment of the stack).

    When the last ci up of this stack reported infra_ready=false, the repair prompt is
    used instead (repair_issue; repair_plan for plan kinds) with what failed.
    Outputs: kind, exit_code.

    Example: codexctl ci prompt --stack ai-slot-3 --kind dev_issue --issue 42
    """
    from codex_stacks.ci.report import default_report_path, read_report
    from codex_stacks.prompts.context import check_numbers

    check_numbers(kind=kind, issue=issue, pr=pr)  # the kind asked for, before any repair substitution
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

    code = run_prompt(
        stack=stack,
        kind=chosen,
        project_dir=_project_dir(project_dir),
        issue=issue,
        pr=pr,
        lang=lang,
        infra_report=infra,
        kube_context=kube_context,
    )
    _publish({"kind": chosen, "exit_code": code}, f"### Agent run `{chosen}` in `{stack}`\nexit code {code}")
    if code != 0:
        fail(f"the agent run ({chosen}) exited with {code}", code=EXIT_FAILED)


NamespaceTimeoutOption = Annotated[
    str, typer.Option("--namespace-timeout", help="How long to wait for a slot's namespace to go.")
]
KeepNamespaceOption = Annotated[
    bool,
    typer.Option("--keep-namespace", help="Leave the slot's namespace (its PVCs and secrets) in the cluster."),
]


def _removed_text(removal: Removal) -> str:
    parts = [f"removed {removal.stack}"]
    if removal.namespace is not None:
        parts.append(removal.namespace.describe())
    if removal.data_dir is not None:
        parts.append(f"data dir {removal.data_dir}")
    text = "; ".join(parts)
    return f"{text} ({removal.note})" if removal.note else text


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
    project_dir: ProjectDirOption = None,
    program_dir: ProgramDirOption = None,
) -> None:
    """Destroy a stack and remove it; for a slot stack also delete its namespace (through the
    Kubernetes API, $KUBECONFIG and the environment's kubeContext) and its data dir (only inside
    dataPaths.root). Other stacks (staging, dev, prod) keep their namespace and data.

    Outputs: stack, removed, namespace.


    \b
    Examples:
      codexctl ci cleanup --issue 42
      codexctl ci cleanup --stack ai-slot-3 --keep-data --keep-namespace
    """
    from codex_stacks.ci.cleanup import remove_stack
    from codex_stacks.ci.slots import Binding, find_bound
    from codex_stacks.ci.workspace import open_workspace

    if (stack is None) == (issue is None and pr is None) or (issue is not None and pr is not None):
        fail("give exactly one of --issue N, --pr N or --stack S")
    wait = _seconds(namespace_timeout, option="--namespace-timeout") or 0.0
    with _progress("cleanup") as progress:
        workspace, _ = open_workspace(program_dir=program_dir)
        if stack is None:
            binding = Binding.from_options(issue=issue, pr=pr)
            bound = find_bound(workspace, binding)
            if bound is None:
                console.print(f"no slot is bound to {binding}: nothing to clean up")
                _publish({"stack": "", "removed": False, "namespace": ""}, f"### Cleanup\nno slot bound to {binding}.")
                return
            stack = bound.stack
        progress(f"destroying {stack}")
        removal = remove_stack(
            workspace,
            stack=stack,
            project_dir=_project_dir(project_dir),
            keep_data=keep_data,
            keep_namespace=keep_namespace,
            namespace_timeout=wait,
        )
    text = _removed_text(removal)
    console.print(text)
    namespace = removal.namespace.namespace if removal.namespace else ""
    _publish({"stack": stack, "removed": True, "namespace": namespace}, f"### Cleanup\n{text}.")


def _gc_age(text: str | None) -> float | None:
    """``--older-than``: unset → no age criterion; ``0`` → every slot with a last-used time."""
    from codex_stacks.ci.durations import parse_duration
    from codex_stacks.ci.errors import CiError

    if text is None or not text.strip():
        return None
    try:
        return parse_duration(text)
    except CiError as exc:
        fail(f"--older-than: {exc}")


@app.command("gc")
@handle_errors
@pulumi_errors
def gc_command(
    older_than: Annotated[
        str | None,
        typer.Option("--older-than", help="Remove slot stacks idle longer than this (e.g. 7d; 0: every idle slot)."),
    ] = None,
    closed: Annotated[
        bool,
        typer.Option("--closed", help="Remove slot stacks bound to closed issues/PRs (GitHub API, $GITHUB_TOKEN)."),
    ] = False,
    repository: Annotated[
        str | None, typer.Option("--repository", envvar="GITHUB_REPOSITORY", help="owner/name for --closed.")
    ] = None,
    api_url: Annotated[str, typer.Option("--api-url", envvar="GITHUB_API_URL", help="GitHub REST API root.")] = (
        "https://api.github.com"
    ),
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only list what would be removed.")] = False,
    keep_namespace: KeepNamespaceOption = False,
    namespace_timeout: NamespaceTimeoutOption = "5m",
    project_dir: ProjectDirOption = None,
    program_dir: ProgramDirOption = None,
) -> None:
    """Remove slot stacks that are idle too long or bound to closed issues/PRs, as cleanup does.

    Needs --older-than D, --closed, or both. A failed lookup or removal does not stop the others:
    every failure is reported at the end, and the step then exits non-zero.
    Outputs: removed, failed.

    Example: codexctl ci gc --closed --older-than 7d
    """
    from codex_stacks.ci.cleanup import GcProblem, gc_candidates, remove_stack
    from codex_stacks.ci.errors import CiError
    from codex_stacks.ci.github import issue_state
    from codex_stacks.ci.slots import Binding, now_utc
    from codex_stacks.ci.workspace import open_workspace

    age = _gc_age(older_than)
    if age is None and not closed:
        fail("give --older-than D, --closed, or both (e.g. codexctl ci gc --closed --older-than 7d)")
    if closed and not repository:
        fail("--closed needs the repository: --repository owner/name or $GITHUB_REPOSITORY")
    wait = _seconds(namespace_timeout, option="--namespace-timeout") or 0.0
    token = os.environ.get("GITHUB_TOKEN")
    if closed and not token:
        console.print(
            "[bold yellow]warning:[/bold yellow] --closed without $GITHUB_TOKEN: private repositories answer 404 "
            "and the API allows 60 requests an hour",
            markup=True,
        )

    def is_closed(binding: Binding) -> bool:
        return issue_state(repository=repository or "", number=binding.number, token=token, api_url=api_url) == "closed"

    removed: list[str] = []
    notes: dict[str, str] = {}
    with _progress("gc of slot stacks") as progress:
        workspace, _ = open_workspace(program_dir=program_dir)
        picked, problems = gc_candidates(
            workspace, now=now_utc(), older_than=age, is_closed=is_closed if closed else None
        )
        for problem in problems:
            progress(f"{problem.stack}: {problem.error.message}")
        for candidate in picked:
            name = candidate.slot.stack
            progress(f"{name}: {candidate.reason}")
            if dry_run:
                removed.append(name)
                continue
            try:
                removal = remove_stack(
                    workspace,
                    stack=name,
                    project_dir=_project_dir(project_dir),
                    keep_namespace=keep_namespace,
                    namespace_timeout=wait,
                )
            except CiError as exc:
                problems.append(GcProblem(stack=name, error=exc))
                progress(f"{name}: {exc.message}")
                continue
            removed.append(name)
            notes[name] = _removed_text(removal)
    failed = [problem.stack for problem in problems]
    lines = [f"- `{c.slot.stack}`: {c.reason}" for c in picked if c.slot.stack in removed]
    lines += [f"- `{p.stack}`: **failed**: {p.error.message}" for p in problems]
    verb = "would remove" if dry_run else "removed"
    console.print(f"{verb}: {', '.join(removed) or 'nothing'}")
    for name in removed:
        if name in notes:
            console.print(f"  {notes[name]}", markup=False)
    _publish(
        {"removed": ",".join(removed), "failed": ",".join(failed)},
        f"### gc ({verb})\n" + ("\n".join(lines) or "nothing to remove"),
    )
    if problems:
        details = "".join(f"\n  {p.stack}: {str(p.error).replace(chr(10), chr(10) + '  ')}" for p in problems)
        code = max(getattr(p.error, "exit_code", 2) for p in problems)
        fail(f"gc: {len(problems)} slot stack(s) failed, the others were handled:{details}", code=code)


app.command("changes")(__import__("codex_stacks.cli.ci_changes", fromlist=["changes_command"]).changes_command)
