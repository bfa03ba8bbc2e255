"""``codexctl import``: an upstream codexctl project → this project's structure-first dialect.

Upstream templated services.yaml as one text (Go ``text/template``) and then read the result as
YAML, after reading a few keys (``project``, ``versions``, ``envFiles``, ``baseDomain``,
``namespace.patterns``) from the raw file. This project reads the YAML first and templates only
values. The importer therefore reads the raw file as YAML (as upstream's first read did), keeps
its structure, turns every templated value into an expression of the target dialect
(:mod:`codex_stacks.importer.convert`), turns the ``$var :=`` lines upstream writes in YAML
comments into ``vars:``, maps upstream's keys onto this project's schema, converts every
manifest the file references into a Jinja2 template, and reports every change it made and every
step left to a person (:class:`codex_stacks.importer.report.Report`).
docs/migrating-from-codexctl.md is the user's guide to all of it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from codex_stacks.config.templating import forbidden_env
from codex_stacks.errors import CodexError, ConfigError, Location
from codex_stacks.importer import gotemplate as go
from codex_stacks.importer.convert import (
    ANY,
    BASE_DOMAINS_VAR,
    BOOL,
    INT,
    NOW_VARIABLE,
    STR,
    Binding,
    Converter,
    Issue,
    UnsupportedError,
    Usage,
    Value,
    literal,
    printed,
    snake,
    to_value,
)
from codex_stacks.importer.report import Report
from codex_stacks.importer.shell import NotConvertibleError, convert_script

MAX_FILE = 2_000_000
"""Bytes of services.yaml or of one manifest the importer reads."""
MAX_MANIFESTS = 2_000
SLOT_ENVIRONMENT = "ai"
AGENT_SERVICE = "codex"
AGENT_ACCOUNT = "codex-sa"
_DNS_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$")
_SECRET_NAME = re.compile(r"PASSWORD|PASSWD|SECRET|TOKEN|(^|_)KEY$|_PAT$|CREDENTIAL|PRIVATE", re.IGNORECASE)
_GO_DURATION = re.compile(r"^(?:(\d+)h)?(?:(\d+)m(?!s))?(?:(\d+)s)?$")
_CREDENTIALS = {
    "OPENAI_API_KEY": ("openaiSecret", "openai-secret"),
    "CODEX_GH_PAT": ("githubSecret", "github-secret"),
    "CONTEXT7_API_KEY": ("context7Secret", "context7-secret"),
}
"""The agent's credentials upstream's manifests wrote into Secrets, and the codex.ensure-codex-secrets
parameter that names each Secret here (its default name)."""


class ImportSourceError(CodexError):
    """The source cannot be imported at all (not found, not YAML, not a Go template)."""


# ---- the raw YAML, with lines ---------------------------------------------------------------------


@dataclass
class Y:
    """A node of the raw file: a dict of Y, a list of Y, or a scalar; and its first line."""

    value: Any
    line: int


def _build(loader: yaml.SafeLoader, node: yaml.Node, count: list[int]) -> Y:
    count[0] += 1
    if count[0] > 200_000:
        raise ConfigError("the file has too many values", location=Location(line=node.start_mark.line + 1))
    line = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        loader.flatten_mapping(node)
        mapping: dict[str, Y] = {}
        for key_node, value_node in node.value:
            key = _construct(loader, key_node)
            mapping[str(key)] = _build(loader, value_node, count)
            mapping[str(key)].line = (
                mapping[str(key)].line
                if not isinstance(mapping[str(key)].value, dict | list)
                else key_node.start_mark.line + 1
            )
        return Y(mapping, line)
    if isinstance(node, yaml.SequenceNode):
        return Y([_build(loader, child, count) for child in node.value], line)
    return Y(_construct(loader, node), line)


def _construct(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    """A scalar's value; one its tag cannot make (``2024-13-01`` is a timestamp by its form,
    ``!!int x``) is an error on its line, not a Python traceback."""
    try:
        return loader.construct_object(node, deep=True)
    except (ArithmeticError, AttributeError, LookupError, TypeError, ValueError):
        tag = str(node.tag).replace("tag:yaml.org,2002:", "!!", 1)[:60]
        raise yaml.constructor.ConstructorError(
            problem=f"not a valid {tag} (quote the value to keep it as text)", problem_mark=node.start_mark
        ) from None


def read_raw(text: str, source: Path) -> Y:
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            raise ImportSourceError("services.yaml is empty", location=Location(file=source))
        return _build(loader, node, [0])
    except RecursionError:
        raise ImportSourceError("services.yaml is nested too deeply", location=Location(file=source)) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise ImportSourceError(
            f"not YAML before templating (upstream reads it as YAML first, too): {getattr(exc, 'problem', exc)}",
            location=Location(file=source, line=mark.line + 1 if mark else None),
        ) from None
    finally:
        loader.dispose()


def _get(node: Y | None, key: str) -> Y | None:
    if node is None or not isinstance(node.value, dict):
        return None
    return node.value.get(key)


# ---- the importer --------------------------------------------------------------------------------


@dataclass(eq=False)
class Item:
    """An infrastructure group or a service of the output, with what the manifests pass needs."""

    section: str
    name: str
    out: dict[str, Any]
    manifests: list[str]
    condition: str | None
    """Jinja condition of its ``when:`` (None: always on)."""
    line: int


@dataclass
class _Var:
    line: int
    go_name: str
    binding: Binding


@dataclass
class Importer:
    source: Path
    out: Path
    report: Report
    file: str = "services.yaml"
    vars: list[_Var] = field(default_factory=list)
    var_values: dict[str, Any] = field(default_factory=dict)
    env_vars: dict[str, tuple[str, int]] = field(default_factory=dict)
    usage: Usage = field(default_factory=Usage)
    environments: dict[str, dict[str, Any]] = field(default_factory=dict)
    env_names: set[str] = field(default_factory=set)
    items: list[Item] = field(default_factory=list)
    project: str = ""
    patterns: dict[str, str] = field(default_factory=dict)
    data_paths: dict[str, Any] | None = None

    # -- values

    def visible(self, line: int) -> dict[str, Binding]:
        bindings: dict[str, Binding] = {}
        for var in self.vars:
            if var.line < line:
                bindings[var.go_name] = var.binding
        return bindings

    def _merge(self, usage: Usage, file: str, line: int) -> None:
        for name in usage.env_vars:
            if name != NOW_VARIABLE:
                self.env_vars.setdefault(name, (file, line))
        self.usage.now |= usage.now
        self.usage.base_domains |= usage.base_domains
        self.usage.user_vars |= usage.user_vars
        for name in usage.forbidden:
            self.usage.forbidden.setdefault(name, line)

    def _issues(self, issues: list[Issue], file: str, first_line: int, key: str | None) -> None:
        for issue in issues:
            line = first_line + issue.line - 1
            if issue.manual:
                self.report.manual(file, line, issue.message, key=key)
            else:
                self.report.change(file, line, issue.message, key=key)

    def convert(self, node: Y, key: str, *, want: str = STR) -> tuple[Any, Value | None]:
        """A raw value as a value of the target dialect, with the lone expression when it is one."""
        raw = node.value
        if not isinstance(raw, str) or "{{" not in raw:
            if isinstance(raw, str) and ("{%" in raw or "{#" in raw):
                return "{{ " + literal(raw) + " }}", None
            return raw, None
        try:
            converted = to_value(raw, want=want, file_vars=self.visible(node.line), forbidden_env=_forbidden)
        except go.GoTemplateError as exc:
            self.report.manual(
                self.file, node.line + exc.line - 1, f"not a valid Go template ({exc.message}); kept as text", key=key
            )
            return "{{ " + literal(raw) + " }}", None
        self._issues(converted.converter.issues, self.file, node.line, key)
        self._merge(converted.converter.usage, self.file, node.line)
        return converted.value, converted.single

    def value(self, node: Y | None, key: str, *, want: str = STR) -> Any:
        if node is None:
            return None
        if isinstance(node.value, dict):
            return {k: self.value(v, f"{key}.{k}", want=want) for k, v in node.value.items()}
        if isinstance(node.value, list):
            return [self.value(v, f"{key}[{i}]", want=want) for i, v in enumerate(node.value)]
        return self.convert(node, key, want=want)[0]

    def condition(self, node: Y | None, key: str, *, empty_is_true: bool) -> tuple[Any, str | None]:
        """A ``when:`` with upstream's meaning (items: empty is true; hook steps: empty is false),
        and the Jinja condition for guards (None: always true)."""
        if node is None:
            return None, None
        raw = node.value
        falsy = ("false", "0", "no") if empty_is_true else ("", "false", "0", "no")
        if isinstance(raw, bool):
            return raw, None if raw else "false"
        if not isinstance(raw, str) or "{{" not in raw:
            on = str(raw if raw is not None else "").strip().lower() not in falsy
            return on, None if on else "false"
        value, single = self.convert(node, key, want=ANY)
        if single is not None and single.type == BOOL:
            return value, single.expr
        if single is not None:
            text = printed(single)
        else:
            converted = to_value(raw, want=STR, file_vars=self.visible(node.line), forbidden_env=_forbidden)
            text = _expression_of(converted.value)
        words = ", ".join(literal(word) for word in falsy)
        expression = f"(({text}) | string | trim | lower) not in ({words})"
        return "{{ " + expression + " }}", expression

    # -- the file

    def run(self, text: str) -> dict[str, Any]:
        source = self.source / "services.yaml"
        try:
            tree = go.parse(text)
        except go.GoTemplateError as exc:
            raise ImportSourceError(
                f"not a Go template: {exc.message}", location=Location(file=source, line=exc.line)
            ) from None
        root = read_raw(text, source)
        if not isinstance(root.value, dict):
            raise ImportSourceError("the top level must be a mapping", location=Location(file=source, line=1))
        self._file_level(tree, root)
        return self._document(root)

    def _scalar_lines(self, node: Y, found: set[int]) -> None:
        if isinstance(node.value, dict):
            for child in node.value.values():
                self._scalar_lines(child, found)
        elif isinstance(node.value, list):
            for child in node.value:
                self._scalar_lines(child, found)
        elif isinstance(node.value, str) and "{{" in node.value:
            for offset in range(node.value.count("\n") + 1):
                found.add(node.line + offset)

    def _file_level(self, tree: go.Template, root: Y) -> None:
        """Upstream's top-level ``$var :=`` (usually in YAML comments) → ``vars:``; any other action
        outside a value changed the YAML's text upstream and is reported."""
        in_values: set[int] = set()
        self._scalar_lines(root, in_values)
        for node in tree.nodes:
            line = getattr(node, "line", 0)
            if isinstance(node, go.Text | go.Comment) or line in in_values:
                continue
            if isinstance(node, go.Action) and node.pipe.decl:
                self._declare(node)
                continue
            what = node.source.strip() if isinstance(node, go.Action) else f"{{{{{type(node).__name__.lower()} …}}}}"
            self.report.manual(
                self.file,
                line,
                f"{what} sits outside any value: upstream put its output into the file's text (structure "
                "included); here values are templates, the structure is not. Rewrite it as when: or per-"
                "environment values",
            )
        for node in tree.nodes:
            if isinstance(node, go.Action) and node.pipe.decl and node.source.rstrip().endswith("-}}"):
                following = self._line_after(node.line)
                if following is not None:
                    self.report.change(
                        self.file,
                        node.line + 1,
                        f"upstream's render joined this line to the comment above (the -}}}} on line {node.line} "
                        f"removes the line break), so {following!r} was commented out there; "
                        "upstream still read project from the raw file. It is kept",
                    )

    def _line_after(self, line: int) -> str | None:
        text = self._text.splitlines()
        if line < len(text):
            following = text[line]
            if following.strip() and not following.lstrip().startswith("#") and "{{" not in following:
                return following.strip()
        return None

    def _declare(self, node: go.Action) -> None:
        go_name = node.pipe.decl[0]
        converter = Converter(go.Template([node]), "value", file_vars=self.visible(node.line), forbidden_env=_forbidden)
        try:
            value = converter.pipeline(node.pipe)
        except UnsupportedError as exc:
            self.report.manual(self.file, node.line, f"{node.source.strip()}: {exc}; the variable is left out")
            return
        self._merge(converter.usage, self.file, node.line)
        self._issues(converter.issues, self.file, 1, None)
        taken = {var.binding.jinja for var in self.vars} | {BASE_DOMAINS_VAR}
        name = snake(go_name)
        if name in _CONTEXT or name in taken:
            base = name
            number = 2
            while name in _CONTEXT or name in taken:
                name = f"{base}_{number}"
                number += 1
        self.vars.append(_Var(node.line, go_name, Binding(Value(name, value.type), jinja=name)))
        self.var_values[name] = "{{ " + value.expr + " }}"
        verb = "reassigned" if node.pipe.is_assign else "declared"
        self.report.change(self.file, node.line, f"{go_name} ({verb} in a template action) → vars.{name}", key="vars")

    # -- sections

    def _document(self, root: Y) -> dict[str, Any]:
        top = root.value
        out: dict[str, Any] = {}
        project = top.get("project")
        if project is None or not isinstance(project.value, str) or not project.value:
            raise ImportSourceError(
                "missing project (upstream reads it from the raw file)",
                location=Location(file=self.source / "services.yaml"),
            )
        name = project.value
        if "{{" in name or not _DNS_LABEL.match(name) or len(name) > 63:
            fixed = _slug(name.replace("{{", "").replace("}}", "")) or "project"
            self.report.manual(
                self.file,
                project.line,
                f"project {name!r} is not a plain DNS name; written as {fixed!r}",
                key="project",
            )
            name = fixed
        self.project = name
        out["project"] = name
        self._environment_names(top)
        sections: dict[str, Any] = {}

        def put(key: str, value: Any) -> None:
            if value is not None and value != {} and value != []:
                sections[key] = value

        for key, node in top.items():
            if key == "project":
                continue
            if key == "envFiles":
                files = node.value if isinstance(node.value, list) else [node]
                names = ", ".join(str(item.value) for item in files)
                self.report.manual(
                    self.file,
                    node.line,
                    f"envFiles ({names}): templates read only the runner's environment here (env_or); load "
                    "these files into it before codexctl and pulumi run, e.g. `set -a; . ./.env; set +a`",
                    key="envFiles",
                )
            elif key == "codex":
                put("codex", self._codex(node))
            elif key == "namespace":
                put("namespace", self._namespace(node))
            elif key == "maxSlots":
                put("maxSlots", self.value(node, "maxSlots", want=INT))
            elif key == "registry":
                put("registry", self.value(node, "registry"))
            elif key == "baseDomain":
                put("baseDomain", self._base_domain(node))
            elif key == "versions":
                put(
                    "versions",
                    {str(k): self._versions_value(v, k) for k, v in node.value.items()}
                    if isinstance(node.value, dict)
                    else None,
                )
            elif key == "images":
                put("images", self._images(node))
            elif key == "environments":
                continue
            elif key == "dataPaths":
                self.data_paths = self._data_paths(node)
                put("dataPaths", self.data_paths)
            elif key == "hooks":
                put("hooks", self._hooks(node, ("beforeAll", "afterAll"), "hooks"))
            elif key == "infrastructure":
                put("infrastructure", self._items(node, "infrastructure"))
            elif key == "services":
                put("services", self._items(node, "services"))
            elif key == "state":
                self.report.change(
                    self.file,
                    node.line,
                    "state (slot records in ConfigMaps) dropped: a slot here is a Pulumi stack",
                    key="state",
                )
            elif key == "storage":
                self.report.manual(
                    self.file,
                    node.line,
                    "storage (PVC-backed workspace, data and registry) has no equivalent here: give services "
                    "pvcMounts in their overlays and declare the claims in a manifest",
                    key="storage",
                )
            else:
                self.report.change(
                    self.file, node.line, f"unknown key {key!r} dropped (upstream ignored it too)", key=key
                )
        environments = self._environments(top.get("environments"))
        sections["environments"] = environments
        self._namespace_defaults(sections)
        order = [
            "codex",
            "namespace",
            "maxSlots",
            "registry",
            "baseDomain",
            "versions",
            "images",
            "environments",
            "dataPaths",
            "hooks",
            "infrastructure",
            "services",
        ]
        for key in order:
            if key in sections:
                out[key] = sections[key]
        return out

    def _versions_value(self, node: Y, key: str) -> Any:
        if isinstance(node.value, str) and "{{" in node.value:
            self.report.change(
                self.file,
                node.line,
                "upstream's templates saw this version unrendered while services.yaml was templated (it read "
                "versions from the raw file); here every template sees its rendered value",
                key=f"versions.{key}",
            )
        value = self.value(node, f"versions.{key}")
        return value if isinstance(value, str) else str(value)

    def _environment_names(self, top: dict[str, Y]) -> None:
        names: set[str] = set()
        environments = top.get("environments")
        if environments is not None and isinstance(environments.value, dict):
            names |= set(environments.value)
        for path in (("namespace", "patterns"), ("baseDomain",)):
            node: Y | None = top.get(path[0])
            for part in path[1:]:
                node = _get(node, part)
            if node is not None and isinstance(node.value, dict):
                names |= set(node.value)
        services = top.get("services")
        if services is not None and isinstance(services.value, list):
            for service in services.value:
                overlays = _get(service, "overlays")
                if overlays is not None and isinstance(overlays.value, dict):
                    names |= set(overlays.value)
        self.env_names = names

    def _codex(self, node: Y) -> dict[str, Any] | None:
        if not isinstance(node.value, dict):
            return None
        out: dict[str, Any] = {}
        for key, child in node.value.items():
            if key in ("model", "extraTools", "links", "projectContext", "servicesOverview"):
                out[key] = self.value(child, f"codex.{key}")
            elif key == "modelReasoningEffort":
                value = self.value(child, "codex.modelReasoningEffort")
                if value in ("minimal", "low", "medium", "high"):
                    out[key] = value
                else:
                    self.report.manual(
                        self.file,
                        child.line,
                        f"modelReasoningEffort {value!r} is not one of minimal, low, medium, high; left out",
                        key="codex.modelReasoningEffort",
                    )
            elif key == "promptLang":
                value = self.value(child, "codex.promptLang")
                if value in ("en", "ru"):
                    out[key] = value
                else:
                    self.report.manual(
                        self.file,
                        child.line,
                        f"promptLang {value!r}: prompts here are en or ru; left out",
                        key="codex.promptLang",
                    )
            elif key == "timeouts" and isinstance(child.value, dict):
                timeouts = {}
                for name, value in child.value.items():
                    if name in ("exec", "rollout", "deployWait"):
                        timeouts[name] = self._duration(value, f"codex.timeouts.{name}")
                    else:
                        self.report.change(
                            self.file,
                            value.line,
                            f"codex.timeouts.{name} has no meaning here; dropped",
                            key=f"codex.timeouts.{name}",
                        )
                out["timeouts"] = {k: v for k, v in timeouts.items() if v is not None}
            elif key == "configTemplate":
                self.report.manual(
                    self.file,
                    child.line,
                    "configTemplate: codexctl writes the agent's config.toml itself here; put extra TOML in "
                    "codex.configBlocks and MCP servers in codex.mcp.servers (docs/services-yaml.md)",
                    key="codex.configTemplate",
                )
            else:
                self.report.change(
                    self.file, child.line, f"codex.{key} has no meaning here; dropped", key=f"codex.{key}"
                )
        return out

    def _duration(self, node: Y, key: str) -> str | int | None:
        raw = self.value(node, key)
        text = str(raw).strip()
        if isinstance(raw, int) or text.isdigit():
            return int(text)
        match = _GO_DURATION.match(text)
        if match and any(match.groups()):
            return text
        self.report.manual(
            self.file, node.line, f"duration {text!r} is not one this project reads (30s, 5m, 1h30m); left out", key=key
        )
        return None

    def _namespace(self, node: Y) -> dict[str, Any] | None:
        patterns = _get(node, "patterns")
        if patterns is None or not isinstance(patterns.value, dict):
            return None
        out: dict[str, Any] = {}
        for env, child in patterns.value.items():
            out[env] = self.value(child, f"namespace.patterns.{env}")
        self.patterns = out
        return {"patterns": out}

    def _namespace_defaults(self, sections: dict[str, Any]) -> None:
        """Upstream named a slot's namespace ``<project>-dev-<slot>`` when no pattern said otherwise;
        this project's default is ``<project>-ai-<slot>``: write upstream's name out."""
        if SLOT_ENVIRONMENT in sections.get("environments", {}) and SLOT_ENVIRONMENT not in self.patterns:
            self.patterns[SLOT_ENVIRONMENT] = "{{ project }}-dev-{{ slot }}"
            namespace = sections.setdefault("namespace", {"patterns": {}})
            namespace["patterns"] = {**namespace.get("patterns", {}), SLOT_ENVIRONMENT: "{{ project }}-dev-{{ slot }}"}
            self.report.change(
                self.file,
                None,
                "namespace.patterns.ai written out as upstream's default, {{ project }}-dev-{{ slot }}",
                key="namespace.patterns.ai",
            )

    def _base_domain(self, node: Y) -> dict[str, Any] | None:
        if not isinstance(node.value, dict):
            return None
        self._base_domain_raw = {env: self.value(child, f"baseDomain.{env}") for env, child in node.value.items()}
        out = dict(self._base_domain_raw)
        if SLOT_ENVIRONMENT in out:
            out[SLOT_ENVIRONMENT] = "dev-{{ slot }}." + str(out[SLOT_ENVIRONMENT])
            self.report.change(
                self.file,
                node.value[SLOT_ENVIRONMENT].line,
                "baseDomain.ai is a slot's own host here (links, host checks): upstream's dev-<slot>.<baseDomain.ai>",
                key="baseDomain.ai",
            )
        return out

    def _images(self, node: Y) -> dict[str, Any] | None:
        if not isinstance(node.value, dict):
            return None
        out: dict[str, Any] = {}
        for name, child in node.value.items():
            if not isinstance(child.value, dict):
                continue
            image: dict[str, Any] = {}
            fields = child.value
            kind = fields.get("type")
            kind_value = kind.value if kind is not None else None
            if kind_value not in ("external", "build"):
                self.report.manual(
                    self.file,
                    child.line,
                    f"images.{name}: type {kind_value!r} is neither external nor build; left out",
                    key=f"images.{name}",
                )
                continue
            image["type"] = kind_value
            for key, value in fields.items():
                path = f"images.{name}.{key}"
                if key == "type":
                    continue
                if (kind_value == "external" and key in ("from", "local")) or (
                    kind_value == "build"
                    and key
                    in (
                        "repository",
                        "tagTemplate",
                        "dockerfile",
                        "context",
                        "buildArgs",
                    )
                ):
                    image[key] = self.value(value, path)
                elif kind_value == "build" and key == "tag":
                    image.setdefault("tagTemplate", self.value(value, path))
                    self.report.change(self.file, value.line, "tag written as tagTemplate", key=path)
                elif key == "buildContexts":
                    self.report.manual(
                        self.file,
                        value.line,
                        "buildContexts are not supported by codexctl ci images; left out",
                        key=path,
                    )
                else:
                    self.report.change(
                        self.file, value.line, f"{key} has no meaning for a {kind_value} image here; dropped", key=path
                    )
            required = ("from", "local") if kind_value == "external" else ("repository", "tagTemplate")
            missing = [key for key in required if key not in image]
            if missing:
                self.report.manual(
                    self.file,
                    child.line,
                    f"images.{name} needs {', '.join(missing)} here; left out",
                    key=f"images.{name}",
                )
                continue
            out[name] = image
        return out

    def _environments(self, node: Y | None) -> dict[str, Any]:
        out: dict[str, Any] = {}
        raw = node.value if node is not None and isinstance(node.value, dict) else {}
        for env, child in raw.items():
            path = f"environments.{env}"
            fields = child.value if isinstance(child.value, dict) else {}
            entry: dict[str, Any] = {}
            for key, value in fields.items():
                if key == "from":
                    entry["from"] = value.value
                elif key == "context":
                    entry["kubeContext"] = self.value(value, f"{path}.context")
                    self.report.change(self.file, value.line, "context → kubeContext", key=f"{path}.context")
                elif key == "kubeconfig":
                    self.report.manual(
                        self.file,
                        value.line,
                        f"kubeconfig {value.value!r}: give the runner this cluster's kubeconfig (KUBECONFIG, "
                        "or ~/.kube/config) and name its context in kubeContext if it is not the current one",
                        key=f"{path}.kubeconfig",
                    )
                elif key == "imagePullPolicy":
                    self.report.change(
                        self.file,
                        value.line,
                        f"imagePullPolicy {value.value!r} dropped: upstream never wrote it into manifests; here it "
                        "fills every service workload's missing imagePullPolicy (add it back to get that)",
                        key=f"{path}.imagePullPolicy",
                    )
                elif key == "localRegistry":
                    self.report.change(
                        self.file,
                        value.line,
                        "localRegistry dropped: codexctl ci images pushes to registry",
                        key=f"{path}.localRegistry",
                    )
                elif key == "slotBootstrapInfra":
                    self.report.change(
                        self.file,
                        value.line,
                        "slotBootstrapInfra dropped: upstream applied these groups once when a slot was created and "
                        "then everything; here slotBootstrapInfra limits what a slot stack deploys, and a slot stack "
                        "deploys every active group by default, these included",
                        key=f"{path}.slotBootstrapInfra",
                    )
                else:
                    self.report.change(
                        self.file, value.line, f"{key} has no meaning here; dropped", key=f"{path}.{key}"
                    )
            out[env] = entry
        for env in sorted(self.env_names - set(out)):
            out[env] = {}
            self.report.change(
                self.file,
                None,
                f"environment {env!r} is used but was not declared; declared",
                key=f"environments.{env}",
            )
        for env, entry in out.items():
            parent = entry.get("from")
            if parent is not None and parent not in out:
                self.report.manual(
                    self.file,
                    None,
                    f"environments.{env}.from names unknown environment {parent!r}; dropped",
                    key=f"environments.{env}.from",
                )
                entry.pop("from")
        self.environments = out
        return out

    def _data_paths(self, node: Y) -> dict[str, Any] | None:
        if not isinstance(node.value, dict):
            return None
        out: dict[str, Any] = {}
        for key, value in node.value.items():
            if key in ("root", "envDir", "dirs"):
                out[key] = self.value(value, f"dataPaths.{key}")
            elif key == "paths":
                self.report.manual(
                    self.file,
                    value.line,
                    "dataPaths.paths has no equivalent: list the folders as dirs under envDir",
                    key="dataPaths.paths",
                )
            else:
                self.report.change(self.file, value.line, f"dataPaths.{key} dropped", key=f"dataPaths.{key}")
        return out

    # -- items

    def _items(self, node: Y, section: str) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        if not isinstance(node.value, list):
            return out
        for index, child in enumerate(node.value):
            path = f"{section}[{index}]"
            if not isinstance(child.value, dict) or "name" not in child.value:
                self.report.manual(self.file, child.line, "an item without a name; left out", key=path)
                continue
            fields = child.value
            name = str(fields["name"].value)
            if "{{" in name or not _DNS_LABEL.match(name) or len(name) > 63:
                fixed = _slug(name) or f"item-{index}"
                self.report.change(
                    self.file,
                    fields["name"].line,
                    f"name {name!r} is not a DNS name here; written as {fixed!r}",
                    key=f"{path}.name",
                )
                name = fixed
            item: dict[str, Any] = {"name": name}
            manifests: list[str] = []
            condition: str | None = None
            for key, value in fields.items():
                key_path = f"{path}.{key}"
                if key == "name":
                    continue
                if key == "when":
                    item["when"], condition = self.condition(value, key_path, empty_is_true=True)
                elif key == "manifests" and isinstance(value.value, list):
                    entries = []
                    for position, manifest in enumerate(value.value):
                        manifest_path = _get(manifest, "path")
                        if manifest_path is None or not isinstance(manifest_path.value, str):
                            self.report.manual(
                                self.file,
                                manifest.line,
                                "a manifest entry without a path; left out",
                                key=f"{key_path}[{position}]",
                            )
                            continue
                        text = manifest_path.value
                        if "{{" in text:
                            self.report.manual(
                                self.file,
                                manifest.line,
                                f"manifest path {text!r} is a template; paths are fixed here",
                                key=f"{key_path}[{position}]",
                            )
                            continue
                        entries.append({"path": text})
                        manifests.append(text)
                    item["manifests"] = entries
                elif key == "hooks":
                    hooks = self._hooks(value, ("beforeApply", "afterApply", "beforeDestroy", "afterDestroy"), key_path)
                    if hooks:
                        item["hooks"] = hooks
                elif section == "services" and key == "image":
                    image = self._service_image(value, key_path)
                    if image:
                        item["image"] = image
                elif section == "services" and key == "overlays":
                    item["overlays"] = self._overlays(value, key_path)
                elif section == "services" and key == "ingress":
                    self.report.change(
                        self.file,
                        value.line,
                        "ingress.hosts dropped: upstream never read it (its Ingress manifests stay)",
                        key=key_path,
                    )
                else:
                    self.report.change(self.file, value.line, f"{key} has no meaning here; dropped", key=key_path)
            out.append(item)
            self.items.append(Item(section, name, item, manifests, condition, child.line))
        return out

    def _service_image(self, node: Y, path: str) -> dict[str, Any] | None:
        repository = _get(node, "repository")
        tag = _get(node, "tagTemplate")
        if repository is None:
            self.report.manual(self.file, node.line, "an image without repository; left out", key=path)
            return None
        if tag is None:
            self.report.manual(
                self.file,
                node.line,
                "an image without tagTemplate: give one (the image reference is repository:tagTemplate here)",
                key=path,
            )
            return None
        return {
            "repository": self.value(repository, f"{path}.repository"),
            "tagTemplate": self.value(tag, f"{path}.tagTemplate"),
        }

    def _overlays(self, node: Y, path: str) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if not isinstance(node.value, dict):
            return out
        for env, child in node.value.items():
            overlay: dict[str, Any] = {}
            fields = child.value if isinstance(child.value, dict) else {}
            for key, value in fields.items():
                key_path = f"{path}.{env}.{key}"
                if key == "hostMounts" and isinstance(value.value, list):
                    mounts = []
                    for position, mount in enumerate(value.value):
                        entry = self._host_mount(mount, f"{key_path}[{position}]")
                        if entry:
                            mounts.append(entry)
                    overlay["hostMounts"] = mounts
                elif key == "pvcMounts" and isinstance(value.value, list):
                    overlay["pvcMounts"] = self.value(value, key_path)
                elif key == "dropKinds":
                    overlay["dropKinds"] = self.value(value, key_path)
                    self._drop_kind_lines[id(overlay)] = value.line
                else:
                    self.report.change(self.file, value.line, f"{key} has no meaning here; dropped", key=key_path)
            out[env] = overlay
        return out

    def _host_mount(self, node: Y, path: str) -> dict[str, Any] | None:
        fields = node.value if isinstance(node.value, dict) else {}
        if not all(key in fields and fields[key].value for key in ("name", "hostPath", "mountPath")):
            self.report.change(
                self.file,
                node.line,
                "a host mount without name, hostPath and mountPath dropped (upstream skipped it too)",
                key=path,
            )
            return None
        entry = {
            "name": self.value(fields["name"], f"{path}.name"),
            "hostPath": self.value(fields["hostPath"], f"{path}.hostPath"),
            "mountPath": self.value(fields["mountPath"], f"{path}.mountPath"),
        }
        if "hostPathType" in fields:
            entry["type"] = self.value(fields["hostPathType"], f"{path}.hostPathType")
            self.report.change(
                self.file, fields["hostPathType"].line, "hostPathType → type", key=f"{path}.hostPathType"
            )
        for key in fields:
            if key not in ("name", "hostPath", "mountPath", "hostPathType"):
                self.report.change(self.file, fields[key].line, f"{key} dropped", key=f"{path}.{key}")
        return entry

    # -- hooks

    def _hooks(self, node: Y, stages: tuple[str, ...], path: str) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if not isinstance(node.value, dict):
            return out
        for stage, steps in node.value.items():
            if stage not in stages:
                self.report.manual(
                    self.file,
                    steps.line,
                    f"hook stage {stage!r} does not exist here ({', '.join(stages)}); left out",
                    key=f"{path}.{stage}",
                )
                continue
            converted = []
            for index, step in enumerate(steps.value if isinstance(steps.value, list) else []):
                result = self._step(step, f"{path}.{stage}[{index}]", index)
                if result is not None:
                    converted.append(result)
            if converted:
                out[stage] = converted
        return out

    def _step(self, node: Y, path: str, index: int) -> dict[str, Any] | None:
        fields = node.value if isinstance(node.value, dict) else {}
        raw_name = str(fields["name"].value) if "name" in fields else ""
        use = fields.get("use")
        name = _slug(raw_name) or _slug(str(use.value) if use else "") or f"step-{index + 1}"
        if raw_name and name != raw_name:
            self.report.change(
                self.file, fields["name"].line, f"step name {raw_name!r} written as {name!r}", key=f"{path}.name"
            )
        step: dict[str, Any] = {"name": name}
        if "when" in fields:
            step["when"], _ = self.condition(fields["when"], f"{path}.when", empty_is_true=False)
        if "run" in fields:
            action = self._run(fields["run"], name, f"{path}.run")
            if action is None:
                return None
            step.update(action)
        elif use is not None:
            action = self._use(str(use.value), fields.get("with"), f"{path}", use.line)
            if action is None:
                return None
            step.update(action)
        else:
            self.report.change(
                self.file, node.line, "a step with neither run nor use dropped (upstream skipped it)", key=path
            )
            return None
        if "continueOnError" in fields:
            step["continueOnError"] = self.value(fields["continueOnError"], f"{path}.continueOnError", want=BOOL)
        if "timeout" in fields:
            timeout = self._duration(fields["timeout"], f"{path}.timeout")
            if timeout is not None:
                step["timeout"] = timeout
        for key in fields:
            if key not in ("name", "when", "run", "use", "with", "continueOnError", "timeout"):
                self.report.change(self.file, fields[key].line, f"{key} dropped", key=f"{path}.{key}")
        return step

    def _run(self, node: Y, name: str, path: str) -> dict[str, Any] | None:
        script = str(node.value)
        recognised = self._domain_hook(name, script, node.line, path)
        if recognised is not None:
            return recognised
        try:
            converted = convert_script(script, file_vars=self.visible(node.line), forbidden_env=_forbidden)
        except go.GoTemplateError as exc:
            self.report.manual(
                self.file,
                node.line + exc.line,
                f"the script is not a valid Go template ({exc.message}); the step is left out",
                key=path,
            )
            return None
        except NotConvertibleError as exc:
            reasons = "; ".join(issue.message for issue in exc.issues)
            self.report.manual(
                self.file,
                node.line,
                f"{reasons}. The step is left out; its script, as upstream wrote it:\n" + _indent(script),
                key=path,
            )
            return None
        self._issues(converted.issues, self.file, node.line + 1, path)
        self._merge(converted.usage, self.file, node.line)
        if converted.env:
            names = ", ".join(f"{{{{…}}}} → ${{{name}}}" for name in converted.env)
            self.report.change(self.file, node.line, f"template values of the script moved to env: ({names})", key=path)
        result: dict[str, Any] = {"run": converted.script}
        if converted.env:
            result["env"] = converted.env
        if re.search(r"\bkubectl\b", script):
            self.report.manual(
                self.file,
                node.line,
                "the script runs kubectl: it uses the runner's kubeconfig, as upstream's did; check that the "
                "runner that runs pulumi up has one",
                key=path,
            )
        return result

    def _domain_hook(self, name: str, script: str, line: int, path: str) -> dict[str, Any] | None:
        """A shell hook that does what one of the four domain built-ins does (the built-ins were made
        from these scripts upstream), recognised by its name and what it runs."""
        lowered = name.lower()
        actions = re.findall(r"\{\{.*?\}\}", script, re.DOTALL)
        if "data-dir" in lowered and "mkdir -p" in script and "/slots/" in script:
            roots = [action for action in actions if not re.search(r"\.(Env|Slot|Namespace|Project)\b", action)]
            mkdir = next((text for text in script.splitlines() if "mkdir -p" in text), "")
            dirs = sorted(set(re.findall(r'/([A-Za-z0-9._-]+)"?(?=[ \t]|$)', mkdir.split("mkdir -p", 1)[-1])))
            if len(roots) == 1 and dirs:
                root_value, _ = self.convert(Y(roots[0], line + 1), f"{path} (data root)")
                step: dict[str, Any] = {"use": "codex.ensure-data-dirs"}
                if self.data_paths is None:
                    self.data_paths = {"root": root_value, "dirs": dirs}
                    self._added_data_paths = True
                else:
                    step["with"] = {"root": root_value, "dirs": dirs}
                self.report.change(
                    self.file,
                    line,
                    "recognised as codex.ensure-data-dirs (<root>/slots/<slot> or <root>/<env>, dirs "
                    f"{', '.join(dirs)}); "
                    "check the root and dirs",
                    key=path,
                )
                return step
        if "tls" in lowered and "get secret" in script and "apply -f" in script:
            source = re.search(r"-n\s+([a-z0-9][a-z0-9-]*)\s+get secret", script)
            step = {"use": "codex.reuse-dev-tls-secret", "with": {}}
            if source is None:
                return None
            step["with"]["sourceNamespace"] = source.group(1)
            secret = re.search(r"([A-Za-z0-9.-]+)-dev-\$\{?SLOT\}?-tls", script)
            if secret is not None and secret.group(1) != self.project:
                step["with"]["secretName"] = f"{secret.group(1)}-dev-{{{{ slot }}}}-tls"
            self.report.change(
                self.file,
                line,
                f"recognised as codex.reuse-dev-tls-secret (from {source.group(1)}); check its parameters",
                key=path,
            )
            return step
        if "port" in lowered and "nc -z" in script:
            self.report.change(
                self.file, line, "recognised as codex.check-dev-host-ports; check its parameters", key=path
            )
            return {"use": "codex.check-dev-host-ports"}
        if "secret" in lowered and "create secret generic" in script and "openai" in script.lower():
            self.report.change(
                self.file, line, "recognised as codex.ensure-codex-secrets; check its parameters", key=path
            )
            return {"use": "codex.ensure-codex-secrets"}
        return None

    def _use(self, use: str, with_node: Y | None, path: str, line: int) -> dict[str, Any] | None:
        params = self.value(with_node, f"{path}.with") if with_node is not None else {}
        params = params if isinstance(params, dict) else {}
        if use in ("codex.ensure-data-dirs", "codex.ensure-codex-secrets", "preflight"):
            if params:
                self.report.manual(
                    self.file,
                    line,
                    f"{use}: its with: parameters differ here ({', '.join(params)}); left out",
                    key=f"{path}.with",
                )
            return {"use": use}
        if use == "codex.check-dev-host-ports":
            result: dict[str, Any] = {"use": use}
            if "host" in params:
                result["with"] = {"httpHost": params["host"]}
            return result
        if use == "codex.reuse-dev-tls-secret":
            with_: dict[str, Any] = {}
            if "secretName" in params:
                with_["secretName"] = params["secretName"]
            source = params.get("stagingNamespace")
            if source is None:
                source = self.patterns.get("staging") if "staging" in self.patterns else "{{ project }}-staging"
                if isinstance(source, str) and ("env" in source or "slot" in source) and "{{" in source:
                    self.report.manual(
                        self.file, line, "reuse-dev-tls-secret: name the staging namespace in sourceNamespace", key=path
                    )
                self.report.change(
                    self.file,
                    line,
                    f"sourceNamespace written out: upstream's default, the namespace of environment staging ({source})",
                    key=path,
                )
            with_["sourceNamespace"] = source
            return {"use": use, "with": with_}
        if use == "kubectl.wait":
            keep = {key: params[key] for key in ("kind", "name", "namespace", "condition", "timeout") if key in params}
            if "timeout" not in keep:
                self.report.change(
                    self.file,
                    line,
                    "kubectl.wait: upstream's default timeout was longer in some versions (20m); here it is 5m",
                    key=path,
                )
            return {"use": use, "with": keep}
        if use == "sleep":
            duration = str(params.get("duration", "0s"))
            match = _GO_DURATION.match(duration.strip())
            if not match or not any(match.groups()):
                self.report.manual(
                    self.file, line, f"sleep {duration!r}: not a duration this project reads; left out", key=path
                )
                return None
            hours, minutes, seconds = (int(group or 0) for group in match.groups())
            return {"use": use, "with": {"seconds": hours * 3600 + minutes * 60 + seconds}}
        if use == "github.comment":
            number = params.get("pr") or params.get("issue")
            self.env_vars.setdefault("GITHUB_REPOSITORY", (self.file, line))
            self.report.change(
                self.file,
                line,
                "github.comment: the repository comes from GITHUB_REPOSITORY (upstream used gh's current repository)",
                key=path,
            )
            return {
                "use": use,
                "with": {
                    "repository": '{{ env_or("GITHUB_REPOSITORY", "") }}',
                    "number": number,
                    "body": params.get("body", ""),
                },
            }
        self.report.manual(self.file, line, f"use: {use} is not a built-in here; the step is left out", key=path)
        return None

    _text: str = ""
    _base_domain_raw: dict[str, Any] = field(default_factory=dict)
    _drop_kind_lines: dict[int, int] = field(default_factory=dict)
    _added_data_paths: bool = False


_CONTEXT = frozenset(
    {
        "project",
        "env",
        "slot",
        "namespace",
        "mode",
        "project_root",
        "versions",
        "base_domain",
        "registry",
        "vars",
        "storage",
        "env_or",
    }
)


def _forbidden(name: str) -> bool:
    return forbidden_env(name) is not None


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:63].strip("-")


def _indent(text: str) -> str:
    return "\n".join("      " + line for line in text.rstrip("\n").splitlines())


def _expression_of(value: Any) -> str:
    """A Jinja string expression for a converted value (text with ``{{ }}`` parts)."""
    if not isinstance(value, str):
        return literal(str(value))
    parts: list[str] = []
    position = 0
    for match in re.finditer(r"\{\{ (.*?) \}\}", value, re.DOTALL):
        if match.start() > position:
            parts.append(literal(value[position : match.start()]))
        parts.append(f"({match.group(1)})")
        position = match.end()
    if position < len(value):
        parts.append(literal(value[position:]))
    return " ~ ".join(parts) if parts else '""'
