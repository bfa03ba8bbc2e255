"""The services.yaml model: the single source of validation, defaults, the JSON Schema and the
reference (docs/services-yaml-reference.md); each field's docstring is its description."""

from __future__ import annotations

import ipaddress
import posixpath
import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BeforeValidator, Field, NonNegativeInt, ValidationInfo, model_validator

from codex_stacks.config.base import Model
from codex_stacks.config.hooks import ComponentHooks, Duration, StackHooks, parse_duration
from codex_stacks.config.tomlblocks import BlockError, check_blocks

DNS_LABEL = r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$"
Name = Annotated[str, Field(pattern=DNS_LABEL, max_length=63)]

STACK_NAME_MAX = 100
STACK_NAME_CHAR = re.compile(r"[A-Za-z0-9_.-]")
"""Pulumi's rule for a stack name (pulumi/pulumi ``sdk/go/common/tokens/stack_name.go``,
``ParseStackName``): 1 to 100 of these characters. An environment is picked by a stack's name, so
an environment's name follows it too."""


def environment_name_problem(name: str) -> str | None:
    """Why ``name`` cannot name an environment (it must be usable as a stack name), or None."""
    if not name:
        return "it is empty"
    if len(name) > STACK_NAME_MAX:
        return f"it is {len(name)} characters long; a stack name has at most {STACK_NAME_MAX}"
    bad = next((index for index, char in enumerate(name) if not STACK_NAME_CHAR.fullmatch(char)), None)
    if bad is not None:
        return f"invalid character {name[bad]!r} at position {bad + 1}"
    if not name[0].isalnum():
        return f"it starts with {name[0]!r}; it must start with a letter or a digit"
    return None


def _stringify(value: Any) -> Any:
    """YAML reads ``16`` or ``0.1`` as numbers; versions and build args are strings."""
    if isinstance(value, dict):
        return {k: str(v) if isinstance(v, int | float) and not isinstance(v, bool) else v for k, v in value.items()}
    return value


StrMap = Annotated[dict[str, str], BeforeValidator(_stringify)]
When = Annotated[
    str | bool | None,
    Field(description="Rendered template; false, empty, 0 or no disable the item."),
]


class Link(Model):
    title: str
    """The link's text in the agent's prompt and the stack's `links` output."""
    path: str = "/"
    """Path under the environment's base domain (https://<baseDomain><path>)."""


class Timeouts(Model):
    """How long ``codexctl prompt run`` waits for each part of the agent's run."""

    exec: Duration = Field(default="60m", description="How long the agent (codex exec) may run.")
    rollout: Duration = Field(
        default="30m",
        description="How long to wait, once deployment/codex exists, for it to become available.",
    )
    deploy_wait: Duration = Field(
        default="10m",
        description="How long to wait for deployment/codex to exist at all (the deploy may still be creating it).",
    )

    @model_validator(mode="after")
    def _durations(self) -> Timeouts:
        for value in (self.exec, self.rollout, self.deploy_wait):
            parse_duration(value)
        return self


class EnvSource(Model):
    """Where an MCP server's variable comes from: a runner env var name, or a literal value."""

    env_ref: str | None = None
    """Name of the runner's environment variable that holds the value (only its name is written)."""
    value: str | None = None
    """A literal value, written into config.toml as it is (never for a secret)."""

    @model_validator(mode="after")
    def _one_source(self) -> EnvSource:
        if (self.env_ref is None) == (self.value is None):
            raise ValueError("give exactly one of 'envRef' or 'value'")
        return self


class McpServer(Model):
    """An MCP server for the agent: a local command, a URL, or a Service in the slot namespace."""

    name: str = Field(pattern=r"^[A-Za-z0-9_-]+$")
    """The server's name in config.toml ([mcp_servers.<name>])."""
    type: Literal["stdio", "http", "cluster"]
    """stdio: a local command; http: a URL; cluster: a Service in the slot's namespace."""
    command: str | None = None
    """The command of a stdio server."""
    args: list[str] = Field(default_factory=list)
    """The command's arguments (stdio)."""
    url: str | None = None
    """The URL of an http server."""
    service: str | None = None
    """The Service of a cluster server (in the slot's namespace)."""
    port: int | None = Field(default=None, ge=1, le=65535)
    """The port of the cluster server's Service."""
    path: str = "/mcp"
    """The URL path of a cluster server."""
    env: dict[str, EnvSource] = Field(default_factory=dict)
    """Environment variables of a stdio server: envRef (a runner variable, by name) or value."""
    bearer_token_env: str | None = None
    """Name of the variable holding an http server's bearer token (the token is never written)."""
    startup_timeout: Duration | None = None
    """How long the agent waits for the server to start."""

    @model_validator(mode="after")
    def _by_type(self) -> McpServer:
        required = {"stdio": ("command",), "http": ("url",), "cluster": ("service", "port")}[self.type]
        missing = [key for key in required if getattr(self, key) is None]
        if missing:
            raise ValueError(f"an MCP server of type {self.type!r} needs {', '.join(missing)}")
        return self


class Mcp(Model):
    servers: list[McpServer] = Field(default_factory=list)
    """The MCP servers the agent may use, each written to config.toml."""

    @model_validator(mode="after")
    def _unique(self) -> Mcp:
        names = [server.name for server in self.servers]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"MCP server names must be unique; repeated: {', '.join(duplicates)}")
        return self


def _toml_block(block: str, info: ValidationInfo) -> str:
    """A block must be TOML on its own, and must not set what codexctl writes itself."""
    mcp = info.data.get("mcp")
    names = [server.name for server in mcp.servers] if isinstance(mcp, Mcp) else []
    check_blocks([block], server_names=names)
    return block


def _blocks_apart(blocks: list[str]) -> list[str]:
    """No two blocks set the same key (TOML itself would reject the pasted result)."""
    try:
        check_blocks(blocks)
    except BlockError as exc:
        raise ValueError(f"block [{exc.index}] repeats an earlier block: {exc.message}") from None
    return blocks


ConfigBlock = Annotated[str, AfterValidator(_toml_block)]


ReasoningEffort = Literal["minimal", "low", "medium", "high"]
"""The reasoning efforts codex's config.toml accepts (``model_reasoning_effort``)."""


_BRANCH_CHARS = re.compile(r"^[A-Za-z0-9._/-]+$")


def branch_name_problem(name: str) -> str | None:
    """Why ``name`` is not a usable branch name (the rules of git check-ref-format a name from
    services.yaml or a stack's config can break), or None."""
    problems = (
        not _BRANCH_CHARS.match(name),
        name.startswith(("/", "-", ".")),
        name.endswith(("/", ".", ".lock")),
        ".." in name or "//" in name or "/." in name,
        len(name) > 200,
    )
    if any(problems):
        return (
            "letters, digits, '.', '_', '-' and '/' only, no '..', '//', leading '/', '-' or '.', "
            "nor a trailing '/', '.' or '.lock'"
        )
    return None


def _branch_pattern(pattern: str) -> str:
    """A branch name once ``{issue}`` is a number, so a bad pattern fails when services.yaml
    loads, not at the first push."""
    if pattern.count("{issue}") != 1:
        raise ValueError("the branch pattern must hold {issue} exactly once, e.g. codex/issue-{issue}")
    problem = branch_name_problem(pattern.replace("{issue}", "1"))
    if problem is not None:
        raise ValueError(f"{pattern!r} is not a usable branch name: {problem}")
    return pattern


class Delivery(Model):
    """How ``codexctl ci deliver`` publishes the agent's work (docs/operations.md, "Delivery")."""

    branch: Annotated[str, AfterValidator(_branch_pattern)] = Field(
        default="codex/issue-{issue}",
        description="The one branch per issue the agent's work is pushed to; {issue} is the issue number.",
    )

    def branch_for(self, issue: int) -> str:
        return self.branch.replace("{issue}", str(issue))


_QUANTITY = r"^[0-9]+(\.[0-9]+)?(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$"
_SECRET_KEY = r"^[-._a-zA-Z0-9]+$"


class SecretKeyRef(Model):
    """A key of a Secret in the slot's namespace; its value reaches a pod only as a secretKeyRef."""

    name: Name
    """The Secret's name."""
    key: str = Field(pattern=_SECRET_KEY, max_length=253)
    """The key inside it."""


def _https_repository(url: str) -> str:
    if not url.startswith("https://") or "@" in url or any(c.isspace() for c in url) or len(url) > 500:
        raise ValueError("the repository URL must be https://host/owner/name(.git), without credentials")
    return url


class PvcWorkspace(Model):
    """The workspace on a PersistentVolumeClaim: an init container clones the repository into it."""

    claim_name: Name = Field(default="codex-workspace", description="The PersistentVolumeClaim of the workspace.")
    size: str = Field(default="10Gi", pattern=_QUANTITY, description="Its requested storage.")
    storage_class: Name | None = Field(default=None, description="Its storageClassName; unset: the default class.")
    repository_url: Annotated[str, AfterValidator(_https_repository)] = Field(
        description="https URL the init container clones (no credentials in it)."
    )
    token: SecretKeyRef | None = Field(
        default=None,
        description="Secret key with a token that may read the repository (a secretKeyRef; unset: a public one).",
    )
    image: str | None = Field(
        default=None, description="Image of the clone init container (needs git and sh); default: the agent's."
    )


def _absolute_root(path: str | None) -> str | None:
    if path is None:
        return None
    normal = posixpath.normpath(path)
    if not posixpath.isabs(path) or normal.strip("/") == "":  # normpath keeps "//" (POSIX): the root too
        raise ValueError(f"codeRoot {path!r} must be an absolute folder other than /")
    return normal


class Workspace(Model):
    """Where the agent's /workspace comes from (docs/services-yaml.md, "The agent's workspace")."""

    source: Literal["none", "hostPath", "pvc"] = Field(
        default="none",
        description="none: nothing is synced; hostPath: the runner copies the checkout to <codeRoot>/<slot>/src "
        "on a node folder the agent mounts; pvc: an init container clones the repository into a PVC.",
    )
    code_root: Annotated[str | None, AfterValidator(_absolute_root)] = Field(
        default=None,
        description="hostPath: the host folder whose <slot>/src is each slot's working copy; it must lie inside "
        "the runner's CODEX_CODE_ROOT_ALLOWED (or away from system folders).",
    )
    mount_path: str = Field(
        default="/workspace", pattern=r"^/[A-Za-z0-9._/-]*$", description="Where the agent sees it."
    )
    pvc: PvcWorkspace | None = None
    """source pvc: the claim and the repository its init container clones."""

    @model_validator(mode="after")
    def _by_source(self) -> Workspace:
        if self.source == "hostPath" and self.code_root is None:
            raise ValueError("source hostPath needs codeRoot")
        if self.source == "pvc" and self.pvc is None:
            raise ValueError("source pvc needs pvc: {repositoryUrl: …}")
        return self


class CodexSettings(Model):
    """The agent: model, prompt language, what it is told about the project, MCP servers.

    ``model`` is the default model; ``models`` lists every model a run may choose with an
    ``[ai-model-<name>]`` label (``model`` among them; empty: ``model`` only). The effort of a run
    is ``modelReasoningEffort`` unless an ``[ai-reasoning-<level>]`` label picks another level."""

    model: str = "gpt-5-codex"
    """The model the agent runs (config.toml's model)."""
    models: list[Annotated[str, Field(min_length=1, max_length=100)]] = Field(
        default_factory=list,
        description="The models an [ai-model-<name>] label may choose; must include model. Empty: model only.",
    )
    model_reasoning_effort: ReasoningEffort = "medium"
    """The model's reasoning effort (an [ai-reasoning-<level>] label picks another for a run)."""
    prompt_lang: Literal["en", "ru"] = "en"
    """Language of the agent's prompts; --lang overrides it, a missing translation falls back to en."""
    extra_tools: list[str] = Field(default_factory=list)
    """Command-line tools the agent's image has, named in its prompt."""
    links: list[Link] = Field(default_factory=list)
    """Pages of the environment the prompt links to (and the stack output links)."""
    project_context: str = ""
    """What the agent is told about the project (Markdown, in every prompt)."""
    services_overview: str = ""
    """What each service does, for the agent's prompt (Markdown)."""
    timeouts: Timeouts = Field(default_factory=Timeouts)
    """How long codexctl prompt run waits for each part of the agent's run."""
    mcp: Mcp = Field(default_factory=Mcp)
    """MCP servers for the agent."""
    config_blocks: Annotated[list[ConfigBlock], AfterValidator(_blocks_apart)] = Field(
        default_factory=list,
        description="Extra TOML for config.toml, merged as data: each block must be TOML on its own.",
    )
    service: Name = Field(
        default="codex", description="The service that runs the agent (its Deployment is the one prompt run uses)."
    )
    rbac: Literal["builtin", "none"] = Field(
        default="builtin",
        description="builtin: codex stacks makes the agent's ServiceAccount codex-sa, Role and RoleBinding; none: "
        "the project ships its own (in the repair set, within the same limits: docs/security.md).",
    )
    workspace: Workspace = Field(default_factory=Workspace)
    """Where the agent's /workspace comes from (none, a host folder the runner syncs, or a PVC)."""
    delivery: Delivery = Field(default_factory=Delivery)
    """How `codexctl ci deliver` publishes the agent's work: branch, commit and pull request."""

    @model_validator(mode="after")
    def _default_model_allowed(self) -> CodexSettings:
        if self.models and self.model not in self.models:
            raise ValueError(f"model {self.model!r} must be one of models ({', '.join(self.models)})")
        return self


class NamespaceSettings(Model):
    patterns: dict[str, str] = Field(default_factory=dict)
    """The namespace of each environment (a template); default <project>-<env>, <project>-<env>-<slot> for slots."""


class ExternalImage(Model):
    """An upstream image mirrored into the local registry."""

    type: Literal["external"]
    """external: an upstream image mirrored into the registry."""
    from_: str = Field(alias="from")
    """The upstream image reference."""
    local: str
    """Where it is mirrored to (the reference manifests use)."""


class BuildImage(Model):
    """An image built from this repository."""

    type: Literal["build"]
    """build: an image built from this repository."""
    repository: str
    """Repository of the built image, without the tag."""
    tag_template: str
    """Its tag (a template, e.g. {{ versions['api'] }})."""
    dockerfile: str = "Dockerfile"
    """The Dockerfile, relative to the project folder."""
    context: str = "."
    """The build context, relative to the project folder."""
    build_args: StrMap = Field(default_factory=dict)
    """Build arguments (--build-arg), values as text."""


Image = Annotated[ExternalImage | BuildImage, Field(discriminator="type")]


class Environment(Model):
    """An environment; ``from`` inherits every field the child leaves unset."""

    from_: str | None = Field(default=None, alias="from")
    """The environment this one inherits every unset field from."""
    image_pull_policy: Literal["Always", "IfNotPresent", "Never"] | None = None
    """imagePullPolicy for containers whose manifest sets none."""
    slot_bootstrap_infra: list[str] | None = Field(
        default=None,
        description="Infrastructure groups a slot stack deploys; unset means every active group.",
    )
    kube_context: str | None = Field(default=None, description="kubeconfig context of the cluster.")
    mode: Literal["normal", "repair"] | None = Field(
        default=None,
        description="The only mode this environment runs in (e.g. a repair-only stack beside staging).",
    )
    scope: Literal["namespace", "cluster"] | None = Field(
        default=None,
        description="cluster: this environment's stack owns every object outside the project's namespaces "
        "(cluster-scoped ones, kube-system/…), the agent containment policy and codex-system; at most one "
        "environment has it, and it neither inherits nor is inherited (docs/security.md).",
    )


class DataPaths(Model):
    """Host data directories: ``<root>/<env>``, or ``<root>/slots/<slot>`` for AI slots."""

    root: str
    """Absolute host folder of the data folders (not /); inside the runner's CODEX_DATA_ROOT_ALLOWED."""
    env_dir: str | None = None
    """The stack's folder under root; default slots/<slot> for a slot, else <env>."""
    dirs: list[str] = Field(default_factory=lambda: ["postgres", "redis", "rabbitmq"])
    """The data folders made under the stack's folder (codex.ensure-data-dirs)."""


def _no_nul(path: str) -> str:
    """The system refuses a file name with a NUL character (Python raises ValueError for it)."""
    if "\0" in path:
        raise ValueError("a file path cannot hold a NUL character (\\0)")
    return path


class ManifestRef(Model):
    path: Annotated[str, AfterValidator(_no_nul)] = Field(min_length=1)
    """A manifest (a Jinja2 template of YAML documents), relative to the project folder."""


class HostMount(Model):
    name: Name
    """The volume's name."""
    host_path: str
    """The folder on the node (a hostPath volume)."""
    mount_path: str
    """Where the workload's containers see it."""
    read_only: bool = False
    """Mount it read-only."""
    type: str | None = None
    """The hostPath type; default Directory (the folder must exist)."""


class PvcMount(Model):
    name: Name
    """The volume's name."""
    claim_name: str
    """The PersistentVolumeClaim mounted."""
    mount_path: str
    """Where the workload's containers see it."""
    sub_path: str | None = None
    """A folder inside the volume to mount instead of its root."""
    read_only: bool = False
    """Mount it read-only."""


class Overlay(Model):
    host_mounts: list[HostMount] = Field(default_factory=list)
    """Host folders mounted into the service's workload in this environment."""
    pvc_mounts: list[PvcMount] = Field(default_factory=list)
    """PersistentVolumeClaims mounted into the service's workload in this environment."""
    drop_kinds: list[str] = Field(default_factory=list)
    """Kinds of the service's manifests left out in this environment (e.g. Ingress)."""


class ServiceImage(Model):
    repository: str
    """The image's repository, without the tag (set on the service's workload)."""
    tag_template: str
    """The image's tag (a template)."""

    @property
    def reference(self) -> str:
        return f"{self.repository}:{self.tag_template}"


NAMESPACES_DESCRIPTION = "Namespaces other than the stack's that this item's objects may name explicitly."


class Infrastructure(Model):
    """A group of manifests deployed together (databases, config, ingress …)."""

    name: Name
    """The group's name (a DNS label, unique; written out)."""
    when: When = None
    """Whether the stack deploys the group: a template evaluated first; false, empty, 0 or no skip it."""
    manifests: list[ManifestRef] = Field(default_factory=list)
    """The group's manifests, applied together."""
    hooks: ComponentHooks = Field(default_factory=ComponentHooks)
    """Steps around the group's objects."""
    depends_on: list[str] = Field(default_factory=list)
    """Items (groups or services) whose objects this group waits for."""
    namespaces: list[Name] = Field(default_factory=list, description=NAMESPACES_DESCRIPTION)


class Service(Model):
    """One of the project's services, with its image and per-environment overlays."""

    name: Name
    """The service's name (a DNS label, unique; written out)."""
    manifests: list[ManifestRef] = Field(default_factory=list)
    """The service's manifests."""
    image: ServiceImage | None = None
    """The image set on the service's workload (first container, and init containers that used the same image)."""
    workload: Name | None = Field(
        default=None,
        description="The workload (Deployment, StatefulSet, …) that gets the image, pull policy and mounts; "
        "default: the one named like the service.",
    )
    when: When = None
    """Whether the stack deploys the service: a template evaluated first; false, empty, 0 or no skip it."""
    overlays: dict[str, Overlay] = Field(default_factory=dict)
    """Per environment: mounts and kinds to drop."""
    hooks: ComponentHooks = Field(default_factory=ComponentHooks)
    """Steps around the service's objects."""
    depends_on: list[str] = Field(default_factory=list)
    """Items (groups or services) whose objects this service waits for."""
    namespaces: list[Name] = Field(default_factory=list, description=NAMESPACES_DESCRIPTION)


class Subject(Model):
    """Who a RoleBinding names: a user, a group or a ServiceAccount."""

    kind: Literal["User", "Group", "ServiceAccount"]
    """User, Group or ServiceAccount."""
    name: str = Field(min_length=1)
    """The subject's name."""
    namespace: Name | None = Field(default=None, description="The ServiceAccount's namespace.")

    @model_validator(mode="after")
    def _namespace(self) -> Subject:
        if (self.kind == "ServiceAccount") != (self.namespace is not None):
            raise ValueError("a ServiceAccount subject needs its namespace; users and groups have none")
        return self


def _cidrs(values: list[str]) -> list[str]:
    """IPv4 or IPv6 networks, as a NetworkPolicy's ipBlock takes them."""
    for value in values:
        try:
            ipaddress.ip_network(value, strict=False)
        except ValueError:
            raise ValueError(f"{value!r} is not a CIDR such as 10.0.0.1/32") from None
    return values


class NetworkPolicySettings(Model):
    """Default-deny NetworkPolicies in the agent's namespace, with the project's traffic allowed."""

    enabled: bool = Field(default=True, description="false: no NetworkPolicies (the opt-out).")
    ingress_from: list[Name] = Field(
        default_factory=lambda: ["ingress-nginx"],
        description="Namespaces whose pods may connect to the slot's pods (the ingress controller's).",
    )
    internet_egress: list[Annotated[dict[str, str], Field(min_length=1)]] = Field(
        default_factory=list,
        description="Pod label selectors (matchLabels) of pods that may reach the internet; the agent's may.",
    )
    api_server: Annotated[list[str], AfterValidator(_cidrs)] = Field(
        default_factory=list,
        description="CIDRs of the Kubernetes API for the agent; empty: TCP 443 and 6443 to any address.",
    )


class SecuritySettings(Model):
    """What contains the agent besides its Role (docs/security.md)."""

    runners: list[Subject] = Field(
        default_factory=list,
        description="CI runners' identities: the cluster stack lets them claim slots (Leases in codex-system).",
    )
    network_policy: NetworkPolicySettings = Field(default_factory=NetworkPolicySettings)
    """The slot's NetworkPolicies: default deny, the project's traffic allowed."""


class RepairSettings(Model):
    """What repair mode deploys."""

    infrastructure: list[str] | None = Field(
        default=None, description="Default: the group that holds the Namespace object."
    )
    services: list[str] | None = Field(default=None, description="Default: the agent's service (codex.service).")


class EnvVar(Model):
    """A runner environment variable templates may read with ``env_or()``."""

    secret: bool = Field(default=False, description="Masked like a Secret wherever its value ends up.")
    description: str = ""
    """What the variable is for (for people; never read by codexctl)."""


ENV_VAR_NAME = r"^[A-Za-z_][A-Za-z0-9_]*$"
VAR_NAME = r"^[A-Za-z_][A-Za-z0-9_]*$"


class ServicesFile(Model):
    """A project's services.yaml (docs/services-yaml.md): YAML whose values may be templates."""

    project: Name
    """The project's name: a DNS label, written out (namespaces, images and Leases are named after it)."""
    vars: dict[Annotated[str, Field(pattern=VAR_NAME)], Any] = Field(
        default_factory=dict,
        description="Values computed once per stack, in order: each a template that may use the stack's context "
        "and the vars above it; every template of the project sees them by name.",
    )
    env_vars: dict[Annotated[str, Field(pattern=ENV_VAR_NAME)], EnvVar] = Field(
        default_factory=dict,
        description="The runner environment variables env_or() may read; nothing else is readable.",
    )
    codex: CodexSettings = Field(default_factory=CodexSettings)
    """The agent: model, prompts, what it is told, MCP servers, its service and RBAC."""
    namespace: NamespaceSettings = Field(default_factory=NamespaceSettings)
    """Namespaces of the environments."""
    max_slots: NonNegativeInt = 0
    """How many slot stacks ai-slot-<N> may exist (0: no limit)."""
    registry: str | None = None
    """The image registry, for templates (registry)."""
    base_domain: dict[str, str] = Field(default_factory=dict)
    """Per environment: the domain it is served under (base_domain in templates)."""
    versions: StrMap = Field(default_factory=dict)
    """Versions by name, for templates (versions['api'])."""
    images: dict[str, Image] = Field(default_factory=dict)
    """Images codexctl ci images mirrors or builds, by name."""
    environments: dict[str, Environment] = Field(default_factory=dict)
    """The environments, by name; a stack ai-slot-<N> is environment ai, slot N."""
    data_paths: DataPaths | None = None
    """Host data folders of the stack (storage in templates)."""
    hooks: StackHooks = Field(default_factory=StackHooks)
    """Steps around the whole stack."""
    infrastructure: list[Infrastructure] = Field(default_factory=list)
    """Groups of manifests (databases, config, ingress, …), each its own component."""
    services: list[Service] = Field(default_factory=list)
    """The project's services, each its own component."""
    repair: RepairSettings = Field(default_factory=RepairSettings)
    """What repair mode deploys (docs/repair.md)."""
    security: SecuritySettings = Field(default_factory=SecuritySettings)
    """The agent's containment besides its Role: runners that claim slots, NetworkPolicies (docs/security.md)."""
