"""``codexctl ci sync-sources`` and ``ci deliver``: the agent's code in, its work out
(docs/operations.md, "The agent's workspace" and "Delivery"); and the helpers ``ci up`` and
``ci ensure-slot`` use for the slot's links comment and a pull request's issue."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from codex_stacks.cli.ci import (
    IssueOption,
    OutputOption,
    ProgramDirOption,
    ProjectDirOption,
    PrOption,
    RepositoryOption,
    StackOption,
    _check_output,
    _json,
    _publish,
    _settings,
    pulumi_errors,
)
from codex_stacks.cli.output import console, fail, handle_errors

if TYPE_CHECKING:
    from codex_stacks.ci.ghrest import GithubRest
    from codex_stacks.ci.settings import StackSettings
    from codex_stacks.ci.slots import Binding
    from codex_stacks.config.model import CodexSettings
    from codex_stacks.plan import Target

EXIT_FAILED = 1
DEFAULT_API = "https://api.github.com"

SourceOption = Annotated[
    Path | None,
    typer.Option(
        "--source",
        envvar="CODEX_SOURCE_DIR",
        file_okay=False,
        help="The runner's checkout of the repository [default: $CODEX_SOURCE_DIR, else the git working copy "
        "holding the project folder].",
    ),
]
ApiUrlOption = Annotated[str, typer.Option("--api-url", envvar="GITHUB_API_URL", help="GitHub REST API root.")]


def github_api(api_url: str) -> GithubRest:
    from codex_stacks.ci.ghrest import GithubRest

    return GithubRest(api_url=api_url, token=os.environ.get("GITHUB_TOKEN"))


def source_dir(source: Path | None, settings: StackSettings) -> Path:
    from codex_stacks.ci.gitrepo import toplevel

    if source is not None:
        if not (source / ".git").exists():
            fail(f"--source {source}: not a git working copy (no .git)")
        return source.resolve()
    return toplevel(settings.project_dir)


def stack_codex(settings: StackSettings) -> tuple[Target, CodexSettings]:
    from codex_stacks.plan import load_settings

    target, services, _ = load_settings(settings.with_mode("normal").request)
    return target, services.codex


def branch_of(binding: Binding, codex: CodexSettings, api: GithubRest) -> tuple[str, int | None]:
    """(branch, issue) of a binding: the delivery pattern for an issue; a pull request's head
    branch (of this repository only) and the issue it works on."""
    from codex_stacks.ci.pulls import linked_issue, read_pull

    if binding.kind == "issue":
        return codex.delivery.branch_for(binding.number), binding.number
    pull = read_pull(api, repository=binding.repository, number=binding.number)
    if pull.head_repository.lower() != binding.repository.lower():
        fail(
            f"pull request #{binding.number} comes from {pull.head_repository or 'a deleted fork'}: "
            "codexctl works only on branches of this repository",
            code=EXIT_FAILED,
        )
    return pull.head, linked_issue(pull, repository=binding.repository, pattern=codex.delivery.branch)


def workspace_branch(*, settings: StackSettings, binding: Binding, api_url: str) -> str | None:
    """The branch a pvc workspace's clone checks out for this binding (``codex:branch``), without
    syncing anything; None for other workspace sources."""
    _, codex = stack_codex(settings)
    if codex.workspace.source != "pvc":
        return None
    return branch_of(binding, codex, github_api(api_url))[0]


def pr_binding(
    binding: Binding, *, codex: CodexSettings, api_url: str, bound: Callable[[Binding], object | None]
) -> Binding:
    """The binding a pull request's slot is found by: its issue's when that issue has a slot
    (closing keywords, or the ``codex/issue-N`` branch), else its own."""
    from codex_stacks.ci.errors import ExternalError
    from codex_stacks.ci.pulls import linked_issue, read_pull
    from codex_stacks.ci.slots import Binding as Bind

    if binding.kind != "pr":
        return binding
    if not os.environ.get("GITHUB_TOKEN"):
        console.print(
            "[bold yellow]warning:[/bold yellow] no $GITHUB_TOKEN: the pull request's issue is not looked up, "
            "so it gets a slot of its own",
            markup=True,
        )
        return binding
    try:
        pull = read_pull(github_api(api_url), repository=binding.repository, number=binding.number)
    except ExternalError as exc:
        fail(f"reading pull request #{binding.number}: {exc.message}", code=EXIT_FAILED)
    issue = linked_issue(pull, repository=binding.repository, pattern=codex.delivery.branch)
    if issue is None:
        return binding
    candidate = Bind(repository=binding.repository, kind="issue", number=issue)
    if bound(candidate) is not None:
        console.print(f"pull request #{binding.number} works on issue #{issue}: reusing its slot")
        return candidate
    return binding


def _binding_for(
    stack: str, *, issue: int | None, pr: int | None, repository: str | None, settings: StackSettings
) -> Binding:
    from codex_stacks.ci.slots import Binding, check_repository

    repo = check_repository(repository)
    if issue is None and pr is None:
        from codex_stacks.ci.claims import claim_store
        from codex_stacks.ci.slots import slot_number
        from codex_stacks.ci.workspace import project_name

        number = slot_number(stack)
        if number is None:
            fail(f"stack {stack} is not a slot stack: give --issue N or --pr N")
        target, _ = stack_codex(settings)
        store = claim_store(
            repository=repo, project=project_name(settings.program_dir), context=target.environment.kube_context
        )
        claim = next((c for c in store.slots() if c.slot == number), None)
        if claim is None or claim.binding is None:
            fail(f"{stack} is not claimed by any issue or pull request of {repo}: give --issue N or --pr N")
        return claim.binding
    return Binding.from_options(repository=repo, issue=issue, pr=pr)


def run_sync(
    *,
    stack: str,
    settings: StackSettings,
    binding: Binding,
    source: Path | None,
    force: bool,
    api_url: str,
) -> dict[str, str | int | bool | None]:
    """Sync the stack's workspace as services.yaml asks; the step outputs."""
    from codex_stacks.ci.sources import SlotFolder, slot_key, sync_host_path

    target, codex = stack_codex(settings)
    workspace = codex.workspace
    if workspace.source == "none":
        console.print(f"{stack}: codex.workspace.source is none: nothing to sync")
        return {"synced": False, "branch": "", "commit": ""}
    branch, _ = branch_of(binding, codex, github_api(api_url))
    if workspace.source == "pvc":
        assert workspace.pvc is not None
        console.print(
            f"{stack}: the agent's init container clones {workspace.pvc.repository_url} into claim "
            f"{workspace.pvc.claim_name} when its pod starts; deliver works on branch {branch}"
        )
        return {"synced": False, "branch": branch, "commit": ""}
    assert workspace.code_root is not None
    folder = SlotFolder(code_root=workspace.code_root, key=slot_key(stack, target.env))
    result = sync_host_path(
        source=source_dir(source, settings),
        slot=folder,
        branch=branch,
        force=force,
        token=os.environ.get("GITHUB_TOKEN"),
    )
    console.print(
        f"synced {result.branch} ({result.commit[:12]}) into {result.target}: "
        f"{result.written} written, {result.removed} removed"
    )
    return {"synced": True, "branch": result.branch, "commit": result.commit}


def register(app: typer.Typer) -> None:
    """Add the commands to ``codexctl ci``."""

    @app.command("sync-sources")
    @handle_errors
    @pulumi_errors
    def sync_sources_command(
        stack: StackOption,
        issue: IssueOption = None,
        pr: PrOption = None,
        source: SourceOption = None,
        force: Annotated[
            bool, typer.Option("--force", help="Replace a working copy that holds work not yet delivered.")
        ] = False,
        repository: RepositoryOption = None,
        api_url: ApiUrlOption = DEFAULT_API,
        project_dir: ProjectDirOption = None,
        program_dir: ProgramDirOption = None,
        output: OutputOption = "text",
    ) -> None:
        """Put the issue's branch into the slot's workspace, as codex.workspace of services.yaml says.

        hostPath: the checkout (--source) goes on the branch (codex/issue-N, or a pull request's
        head) and is copied into <codeRoot>/<slot>/src like rsync --delete, without owners,
        modes or links leaving the tree; a working copy with work not yet delivered is kept
        unless --force. pvc: the agent's init container clones the repository when its pod
        starts. Without --issue/--pr, the slot's claim says whose it is. Outputs: synced, branch, commit.

        Example: codexctl ci sync-sources --stack ai-slot-3 --issue 42 --source ../project
        """
        as_json = _check_output(output)
        settings = _settings(stack, program_dir=program_dir, project_dir=project_dir)
        binding = _binding_for(stack, issue=issue, pr=pr, repository=repository, settings=settings)
        outputs = run_sync(stack=stack, settings=settings, binding=binding, source=source, force=force, api_url=api_url)
        if as_json:
            _json({"stack": stack, **outputs})
        _publish(outputs, f"### Sources of `{stack}`\n{outputs['branch'] or 'nothing synced'} {outputs['commit']}")

    @app.command("deliver")
    @handle_errors
    @pulumi_errors
    def deliver_command(
        stack: StackOption,
        issue: IssueOption = None,
        pr: PrOption = None,
        source: SourceOption = None,
        secret_env: Annotated[
            list[str] | None,
            typer.Option(
                "--secret-env",
                metavar="NAME",
                help="Another environment variable whose value must never be committed (repeatable).",
            ),
        ] = None,
        repository: RepositoryOption = None,
        api_url: ApiUrlOption = DEFAULT_API,
        project_dir: ProjectDirOption = None,
        program_dir: ProgramDirOption = None,
        output: OutputOption = "text",
    ) -> None:
        """Commit the agent's work, push it to the issue's branch and open or update its pull request.

        The only writer: the agent never pushes. Takes the agent's working tree (hostPath: the
        slot's folder; pvc: from the agent's pod over the Kubernetes API), commits it on the
        runner's checkout with git's ignore rules, refuses a file holding a known secret's value
        (naming the file, never the value), never pushes over a commit it did not make (then it
        stops with a comment), and opens the pull request (Closes #N) or updates it. Title and
        body: the agent's .git/codex/pr.md (first line the title). Nothing to commit is a no-op
        with a comment. Token: $GITHUB_TOKEN (contents, pull-requests and issues write).
        Outputs: result, branch, commit, pr.

        \b
        Examples:
          codexctl ci deliver --stack ai-slot-3 --issue 42
          codexctl ci deliver --stack ai-slot-3 --pr 57 --secret-env DB_PASSWORD
        """
        from codex_stacks.ci.deliver import SECRET_ENV, HostPathTree, deliver, known_secrets
        from codex_stacks.ci.sources import SlotFolder, slot_key
        from codex_stacks.plan import load_settings

        as_json = _check_output(output)
        settings = _settings(stack, program_dir=program_dir, project_dir=project_dir)
        binding = _binding_for(stack, issue=issue, pr=pr, repository=repository, settings=settings)
        target, services, _ = load_settings(settings.with_mode("normal").request)
        codex = services.codex
        api = github_api(api_url)
        branch, linked = branch_of(binding, codex, api)
        names = (*SECRET_ENV, *(secret_env or ()), *(n for n, v in services.document.env_vars.items() if v.secret))
        secrets = known_secrets(os.environ, names=names)
        if codex.workspace.source == "hostPath":
            assert codex.workspace.code_root is not None
            folder = SlotFolder(code_root=codex.workspace.code_root, key=slot_key(stack, target.env))
            tree = HostPathTree(opener=lambda: folder.opened(create=False))
            records: object = folder
        elif codex.workspace.source == "pvc":
            from codex_stacks.ci.podtree import LocalRecords, PodTree

            tree = PodTree.for_stack(stack=stack, settings=settings)  # type: ignore[assignment]
            records = LocalRecords(stack)
        else:
            fail(f"{stack}: codex.workspace.source is none: no workspace to deliver from (docs/services-yaml.md)")
        result = deliver(
            source=source_dir(source, settings),
            tree=tree,
            records=records,  # type: ignore[arg-type]
            binding=binding,
            branch=branch,
            issue=linked,
            pull=binding.number if binding.kind == "pr" else None,
            api=api,
            token=os.environ.get("GITHUB_TOKEN"),
            secrets=secrets,
            progress=lambda line: console.print(f"· {line}", markup=False),
        )
        console.print(f"{stack}: {result.message}", markup=False)
        outputs: dict[str, str | int | bool | None] = {
            "result": result.result,
            "branch": result.branch,
            "commit": result.commit or "",
            "pr": result.pull or "",
        }
        if as_json:
            _json({"stack": stack, **outputs, "pr_url": result.pull_url or None})
        _publish(outputs, f"### Delivery of `{stack}`\n{result.message}")


def links_after_up(
    *,
    stack: str,
    settings: StackSettings,
    binding: Binding,
    mode: str,
    result: str,
    api_url: str,
) -> None:
    """The slot's links comment on the issue or pull request (posted once, then edited)."""
    from codex_stacks.ci.errors import ExternalError
    from codex_stacks.ci.links import SlotLinks, post_links, render_links
    from codex_stacks.ci.slots import slot_number
    from codex_stacks.plan import build_plan

    plan = build_plan(settings.with_mode(mode).request)
    body = render_links(
        SlotLinks(
            stack=stack,
            slot=slot_number(stack),
            namespace=plan.target.namespace,
            mode=mode,
            result=result,
            links=[(link.title, link.url) for link in plan.links],
        ),
        lang=plan.settings.codex.prompt_lang,
        project_dir=settings.project_dir,
    )
    try:
        action, _ = post_links(github_api(api_url), binding=binding, body=body)
    except ExternalError as exc:
        console.print("[bold yellow]warning:[/bold yellow] ", end="", markup=True)
        console.print(f"the links comment was not posted: {exc.message}", markup=False)
        return
    console.print(f"links comment {action} on {binding}")
