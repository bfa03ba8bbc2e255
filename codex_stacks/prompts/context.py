"""What a prompt may say: one typed model, built from a Plan and what the caller knows."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, computed_field

from codex_stacks.config import files
from codex_stacks.config.model import McpServer
from codex_stacks.errors import CodexError, ConfigError, Location
from codex_stacks.plan import Plan

Kind = Literal["dev_issue", "dev_review", "plan_issue", "plan_review", "repair_issue", "repair_plan"]
PR_DESCRIPTION_FILE = ".git/codex/pr.md"
"""Where the agent writes the pull request's title and body, relative to its workspace; ``ci deliver``
reads it (inside ``.git``, so it is never committed). First line the title, a blank line, the body."""
KINDS: tuple[Kind, ...] = ("dev_issue", "dev_review", "plan_issue", "plan_review", "repair_issue", "repair_plan")
REPAIR_KINDS: frozenset[str] = frozenset({"repair_issue", "repair_plan"})
_NEEDS: dict[str, tuple[str, ...]] = {
    "dev_issue": ("issue",),
    "plan_issue": ("issue",),
    "plan_review": ("pr", "issue"),
    "dev_review": ("pr",),
    "repair_issue": ("issue", "pr"),
    "repair_plan": ("issue", "pr"),
}
"""The numbers each kind works on; two names mean "at least one of them" (the first is the usual one).

``plan_review`` answers a pull request's review with a plan (the review workflow passes ``--pr``);
with only ``--issue`` it revises the plan posted on that issue."""


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


FailureKind = Literal["component", "stack hook", "provider", "program"]


class FailedComponent(_Frozen):
    """One part of the stack that did not come up, and why (as the caller saw it).

    ``kind`` says what ``component`` names: a services.yaml item (``component``; ``step`` is set
    when one of its hook steps failed, e.g. ``beforeApply/ensure-codex-secrets``), a stack-level
    hook step (``stack hook``: ``beforeAll/preflight``), a resource provider (``provider``:
    ``kubernetes``) or the program itself before any resource (``program``)."""

    component: str = Field(min_length=1)
    reason: str = ""
    kind: FailureKind = "component"
    step: str = ""

    @property
    def title(self) -> str:
        """How a person names it: ``stack hook beforeAll/preflight``, ``codex (hook beforeApply/x)``."""
        if self.kind == "component":
            return f"{self.component} (hook {self.step})" if self.step else self.component
        return f"{self.kind} {self.component}"


class BrokenConfig(_Frozen):
    """services.yaml itself could not be read: the agent's first job is to fix it."""

    file: str = Field(min_length=1)
    line: int | None = None
    message: str = Field(min_length=1)
    commit: str = ""
    """The commit whose services.yaml the repair set came from instead (empty: none was found)."""
    project_dir: str = ""
    """That commit's project folder as ``ci up`` wrote it out (``ci prompt`` plans the agent from it)."""


class InfraReport(_Frozen):
    """The caller's verdict on the environment: a failed deploy is the reason for repair."""

    healthy: bool
    failed: list[FailedComponent] = Field(default_factory=list)
    summary: str = ""
    services_yaml: BrokenConfig | None = None

    @classmethod
    def from_file(cls, path: Path) -> InfraReport:
        """Read the JSON file that ``ci up --fallback-repair`` (or a person) wrote."""
        try:
            text = files.read_text(path)
        except ConfigError as exc:
            raise CodexError(
                f"cannot read the infrastructure report: {exc.message}", location=exc.location, hint=exc.hint
            ) from None
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise CodexError(
                f"the infrastructure report is not JSON: {exc.msg}", location=Location(file=path, line=exc.lineno)
            ) from None
        except (ValueError, RecursionError) as exc:  # a number of 5,000 digits, arrays nested too deep
            reason = "nested too deep" if isinstance(exc, RecursionError) else str(exc).split(";")[0]
            raise CodexError(
                f"the infrastructure report is not usable JSON: {reason}", location=Location(file=path)
            ) from None
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(part) for part in first["loc"]) or None
            raise CodexError(
                f"the infrastructure report is not valid: {first['msg']}",
                location=Location(file=path, path=where),
                hint='expected {"healthy": bool, "failed": [{"component": str, "reason": str, "kind": str}], '
                '"summary": str, "services_yaml": {"file": str, "line": int, "message": str} | null}',
            ) from None


class PromptLink(_Frozen):
    title: str
    url: str


class McpServerInfo(_Frozen):
    """An MCP server as the agent should know it: its name and where it is, never a secret."""

    name: str
    type: str
    where: str


class PromptContext(_Frozen):
    """Everything a prompt template can use; templates see these fields as variables."""

    kind: Kind
    lang: str
    project: str
    stack: str
    env: str
    slot: int | None
    namespace: str
    mode: str
    base_domain: str
    issue: int | None = Field(default=None, ge=1)
    pr: int | None = Field(default=None, ge=1)
    agent_deployment: str | None
    links: list[PromptLink]
    services_overview: str
    project_context: str
    extra_tools: list[str]
    mcp_servers: list[McpServerInfo]
    components: list[str]
    infra: InfraReport | None = None
    pr_file: str = PR_DESCRIPTION_FILE
    """The pull request description file the prompts tell the agent to write (``ci deliver`` reads it)."""

    @computed_field  # type: ignore[prop-decorator]
    @property
    def unhealthy(self) -> bool:
        """True only when a report says so: no report means nobody checked."""
        return self.infra is not None and not self.infra.healthy


def _where(server: McpServer, namespace: str) -> str:
    if server.type == "stdio":
        return " ".join([server.command or "", *server.args]).strip()
    if server.type == "cluster":
        return cluster_url(server, namespace)
    return server.url or ""


def cluster_url(server: McpServer, namespace: str) -> str:
    """The in-cluster address of an MCP server that runs as a Service of the slot."""
    path = server.path if server.path.startswith("/") else f"/{server.path}"
    return f"http://{server.service}.{namespace}.svc.cluster.local:{server.port}{path}"


def check_numbers(*, kind: str, issue: int | None, pr: int | None) -> None:
    """A dev run without an issue number cannot do anything useful: say so before rendering."""
    if kind not in _NEEDS:
        raise CodexError(
            f"unknown prompt kind {kind!r}", location=Location(path="--kind"), hint=f"kinds: {', '.join(KINDS)}"
        )
    needs = _NEEDS[kind]
    given = {"issue": issue, "pr": pr}
    if not any(given[name] is not None for name in needs):
        flags = " or ".join(f"--{name}" for name in needs)
        raise CodexError(
            f"prompt kind {kind} needs {flags}", location=Location(path=f"--{needs[0]}"), hint=f"e.g. --{needs[0]} 42"
        )


def build_context(
    *,
    plan: Plan,
    kind: str,
    lang: str,
    issue: int | None = None,
    pr: int | None = None,
    infra_report: InfraReport | None = None,
) -> PromptContext:
    """The prompt's facts, taken from the plan so a prompt cannot disagree with the deploy."""
    check_numbers(kind=kind, issue=issue, pr=pr)
    codex = plan.settings.codex
    target = plan.target
    return PromptContext(
        kind=kind,  # type: ignore[arg-type]
        lang=lang,
        project=target.project,
        stack=target.stack,
        env=target.env,
        slot=target.slot,
        namespace=target.namespace,
        mode=target.mode,
        base_domain=target.base_domain,
        issue=issue,
        pr=pr,
        agent_deployment=plan.agent_deployment,
        links=[PromptLink(title=link.title, url=link.url) for link in plan.links],
        services_overview=codex.services_overview.strip(),
        project_context=codex.project_context.strip(),
        extra_tools=list(codex.extra_tools),
        mcp_servers=[
            McpServerInfo(name=server.name, type=server.type, where=_where(server, target.namespace))
            for server in codex.mcp.servers
        ],
        components=[component.name for component in plan.components],
        infra=infra_report,
    )
