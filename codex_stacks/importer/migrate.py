"""The whole import: services.yaml, every manifest it references, the written project and its report."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from codex_stacks.errors import Location
from codex_stacks.importer import cluster
from codex_stacks.importer import documents as docs
from codex_stacks.importer import gotemplate as go
from codex_stacks.importer.convert import BASE_DOMAINS_VAR, NOW_VARIABLE, literal, to_text, to_value
from codex_stacks.importer.project import (
    _CREDENTIALS,
    _SECRET_NAME,
    AGENT_ACCOUNT,
    AGENT_SERVICE,
    MAX_FILE,
    MAX_MANIFESTS,
    Importer,
    ImportSourceError,
    Item,
    _expression_of,
    _forbidden,
)
from codex_stacks.importer.report import Report


def _read(path: Path, root: Path, what: str) -> str:
    resolved = path.resolve()
    if not resolved.is_relative_to(root.resolve()):
        raise ImportSourceError(f"{what} leaves the project folder", location=Location(file=path))
    try:
        if not resolved.is_file():
            raise ImportSourceError(f"{what} not found", location=Location(file=path))
        if resolved.stat().st_size > MAX_FILE:
            raise ImportSourceError(f"{what} is larger than {MAX_FILE:,} bytes", location=Location(file=path))
        return resolved.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ImportSourceError(f"{what} is not UTF-8 text", location=Location(file=path)) from None
    except OSError as exc:
        raise ImportSourceError(f"cannot read {what}: {exc.strerror or exc}", location=Location(file=path)) from None


def check_out(source: Path, out: Path) -> None:
    """The output folder: the source itself (in place), or new or empty."""
    if out.resolve() == source.resolve():
        return
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ImportSourceError(
            f"--out {out} exists and is not an empty folder",
            hint="give a new or empty folder, or the source folder itself to convert in place",
        )


@dataclass
class _Occurrence:
    item: int
    path: str
    document: docs.Document


def import_project(source: Path, out: Path) -> tuple[Report, dict[str, str]]:
    """Convert the upstream project in ``source``; the report and the files to write (relative
    path → text). Nothing is written here (see :func:`write`)."""
    if not source.is_dir():
        raise ImportSourceError(f"{source} is not a folder", hint="give the folder that holds upstream's services.yaml")
    report = Report(source=str(source), out=str(out))
    text = _read(source / "services.yaml", source, "services.yaml")
    importer = Importer(source, out, report)
    importer._text = text
    document = importer.run(text)
    items = sorted(importer.items, key=lambda item: item.section != "infrastructure")
    trees: dict[str, go.Template] = {}
    broken: dict[str, str] = {}
    for item in items:
        for path in item.manifests:
            if path in trees or path in broken:
                continue
            if len(trees) >= MAX_MANIFESTS:
                raise ImportSourceError(f"more than {MAX_MANIFESTS} manifests")
            relative = PurePosixPath(path)
            if relative.is_absolute() or ".." in relative.parts:
                report.manual(path, None, "a manifest path outside the project folder; not converted")
                broken[path] = ""
                continue
            try:
                source_text = _read(source / path, source, f"manifest {path}")
            except ImportSourceError as exc:
                report.manual(path, None, f"{exc.message}; not converted")
                broken[path] = ""
                continue
            try:
                tree = go.parse(source_text)
            except go.GoTemplateError as exc:
                report.manual(
                    path, exc.line, f"not a valid Go template ({exc.message}); written as a comment, to convert by hand"
                )
                broken[path] = source_text
                continue
            docs.split_separators(tree.nodes)
            trees[path] = tree
    hooks = _documents(importer, items, trees, report)
    for item, params in hooks.items():
        hooks_out = item.out.setdefault("hooks", {})
        step: dict[str, Any] = {"name": "ensure-codex-secrets", "use": "codex.ensure-codex-secrets"}
        if params:
            step["with"] = params
        hooks_out["afterApply"] = [step, *hooks_out.get("afterApply", [])]
    outcome = cluster.separate(
        importer=importer,
        document=document,
        items=items,
        trees=trees,
        report=report,
        services_text=lambda trial: _services_text(importer, trial, Report(source="", out="")),
        taken=lambda path: path in broken or (source / path).exists() or (out / path).exists(),
    )
    by_path = {path: docs.documents(tree.nodes) for path, tree in trees.items()}
    _namespaces([item for item in items if item.name not in outcome.groups], by_path, set(), report)
    files: dict[str, str] = {}
    seen: set[tuple[str, int, str]] = set()
    for path, tree in trees.items():
        converted, converter = to_text(tree, forbidden_env=_forbidden)
        origin = outcome.sources.get(path, path)  # a cluster file's nodes keep their upstream lines
        for issue in converter.issues:
            if (origin, issue.line, issue.message) in seen:
                continue  # a document copied for several environments says it once
            seen.add((origin, issue.line, issue.message))
            if issue.manual:
                report.manual(origin, issue.line, issue.message)
            else:
                report.change(origin, issue.line, issue.message)
        importer._merge(converter.usage, path, 1)
        files[path] = converted
    for path, original in broken.items():
        if original:
            body = original.replace("#}", "# }")
            files[path] = (
                "{#- codexctl import could not convert this file (see its report); upstream's text:\n"
                + body
                + "\n-#}\n"
            )
    files["services.yaml"] = _services_text(importer, document, report)
    report.written = sorted(files)
    return report, files


def _documents(
    importer: Importer, items: list[Item], trees: dict[str, go.Template], report: Report
) -> dict[Item, dict[str, str]]:
    """Whole-document changes: credential Secrets → a hook, the agent's ServiceAccount → CodexAgent,
    objects two items define → the later one's; images with no Deployment to set; dropKinds' spelling."""
    by_path = {path: docs.documents(tree.nodes) for path, tree in trees.items()}
    removed: set[int] = set()
    guards: dict[int, list[str]] = {}
    hooks: dict[Item, dict[str, str]] = {}
    agent = next((item for item in items if item.section == "services" and item.name == AGENT_SERVICE), None)
    has_agent_item = any(item.name == "codex-agent" for item in items)

    def all_docs() -> Iterator[tuple[int, Item, str, docs.Document]]:
        for index, item in enumerate(items):
            for path in item.manifests:
                for document in by_path.get(path, []):
                    yield index, item, path, document

    for _, item, path, document in all_docs():
        if document.kind != "Secret" or id(document) in removed:
            continue
        read = sorted({name for name in _env_reads(document) if _forbidden(name)})
        if not read:
            continue
        if len(read) == 1 and read[0] in _CREDENTIALS and document.name and "{{" not in document.name:
            parameter, default = _CREDENTIALS[read[0]]
            params = hooks.setdefault(item, {})
            if document.name != default:
                params[parameter] = document.name
            if read[0] == "CODEX_GH_PAT" and not re.search(r"^\s+CODEX_GH_PAT:", document.text, re.MULTILINE):
                found_key = re.search(
                    r"^\s+([A-Za-z0-9_.-]+):\s*['\"]?\{\{[^}]*CODEX_GH_PAT", document.text, re.MULTILINE
                )
                if found_key:
                    params["githubKey"] = found_key.group(1)
            removed.add(id(document))
            report.change(
                path,
                document.line,
                f"Secret {document.name} (from the runner's {read[0]}) is made by the codex.ensure-codex-secrets "
                f"hook of {item.name} here (afterApply): templates never read the agent's credentials",
            )
        else:
            report.manual(
                path,
                document.line,
                f"Secret {document.name} reads the runner's credentials ({', '.join(read)}), which templates may "
                "not read here: create it another way (a hook, or a secret in the cluster)",
            )
    if agent is not None and not has_agent_item:
        for _, item, path, document in all_docs():
            if id(document) in removed or document.kind != "ServiceAccount" or document.name != AGENT_ACCOUNT:
                continue
            if _namespace_key(document.namespace) != ".Namespace":
                continue
            if item is agent or agent.condition is None:
                removed.add(id(document))
                report.change(
                    path, document.line, f"ServiceAccount {AGENT_ACCOUNT} is made by the CodexAgent component here"
                )
            else:
                guards.setdefault(id(document), []).append(agent.condition)
                report.change(
                    path,
                    document.line,
                    f"ServiceAccount {AGENT_ACCOUNT} is made by the CodexAgent component where the codex service runs",
                )
    occurrences: dict[tuple[str, str, str], list[_Occurrence]] = {}
    for index, _, path, document in all_docs():
        if id(document) in removed or not document.kind or not document.name:
            continue
        identity = (document.kind, document.name, _namespace_key(document.namespace))
        occurrences.setdefault(identity, []).append(_Occurrence(index, path, document))
    for key, found in occurrences.items():
        owners = {occurrence.item for occurrence in found}
        if len(owners) < 2:
            if len(found) > 1 and len({o.path for o in found}) == 1 and len({id(o.document) for o in found}) > 1:
                report.manual(
                    found[0].path, found[0].document.line, f"{key[0]} {key[1]} is defined twice in this file; keep one"
                )
            continue
        if len({occurrence.path for occurrence in found}) < len(found):
            report.manual(
                found[0].path,
                found[0].document.line,
                f"{key[0]} {key[1]}: the same file is listed by two items; keep it in one",
            )
            continue
        for position, occurrence in enumerate(found[:-1]):
            later = [items[other.item] for other in found[position + 1 :] if other.item != occurrence.item]
            if not later:
                continue
            names = ", ".join(item.name for item in later)
            same = all(other.document.normalized == occurrence.document.normalized for other in found[position + 1 :])
            why = "the same document" if same else "a different version (upstream applied both; the later one won)"
            if any(item.condition is None for item in later):
                removed.add(id(occurrence.document))
                report.change(
                    occurrence.path,
                    occurrence.document.line,
                    f"{key[0]} {key[1]} left out: {names} defines {why}, and an object belongs to one component here",
                )
            else:
                guards.setdefault(id(occurrence.document), []).extend(
                    item.condition for item in later if item.condition
                )
                report.change(
                    occurrence.path,
                    occurrence.document.line,
                    f"{key[0]} {key[1]} kept only where {names} is off: it defines {why}, and an object "
                    "belongs to one component here",
                )
    for item in items:
        if item.section != "services" or "image" not in item.out:
            continue
        deployments = [
            document.name or ""
            for path in item.manifests
            for document in by_path.get(path, [])
            if document.kind == "Deployment"
        ]
        if item.name not in deployments and not any("{{" in name for name in deployments):
            item.out.pop("image")
            report.change(
                "services.yaml",
                item.line,
                f"{item.name}: image dropped: upstream set it only on a Deployment named {item.name}, "
                "and there is none",
            )
        kinds = {document.kind for path in item.manifests for document in by_path.get(path, []) if document.kind}
        for overlay in (item.out.get("overlays") or {}).values():
            drop = overlay.get("dropKinds")
            if isinstance(drop, list):
                spelled = []
                for kind in drop:
                    match = next((known for known in kinds if known.lower() == str(kind).lower()), str(kind))
                    if match != kind:
                        report.change(
                            "services.yaml",
                            item.line,
                            f"{item.name}: dropKinds {kind!r} written as {match!r} (upstream ignored case)",
                        )
                    spelled.append(match)
                overlay["dropKinds"] = spelled
    for found_docs in by_path.values():
        for document in sorted(found_docs, key=lambda d: d.start, reverse=True):
            if id(document) in removed:
                docs.remove(document)
            elif id(document) in guards:
                conditions = " or ".join(f"({condition})" for condition in guards[id(document)])
                docs.guard(document, f"not ({conditions})")
    return hooks


def _namespaces(items: list[Item], by_path: dict[str, list[docs.Document]], removed: set[int], report: Report) -> None:
    """``namespaces:`` of each item: the namespaces its objects name other than the stack's (and
    Namespace objects other than the stack's), which this project asks an item to declare."""
    for item in items:
        found: list[str] = []
        for path in item.manifests:
            for document in by_path.get(path, []):
                if id(document) in removed:
                    continue
                text = document.name if document.kind == "Namespace" else document.namespace
                if text is None or _namespace_key(text) == ".Namespace":
                    continue
                if "{{" not in text:
                    value: Any = text
                else:
                    converted = to_value(text)
                    if any(issue.manual for issue in converted.converter.issues) or not isinstance(
                        converted.value, str
                    ):
                        report.manual(
                            path,
                            document.line,
                            f"{document.kind} {document.name} names namespace {text!r}: declare it by hand in "
                            f"{item.name}'s namespaces:",
                        )
                        continue
                    value = converted.value
                if value not in found:
                    found.append(value)
        if found:
            item.out["namespaces"] = found
            report.change(
                "services.yaml",
                item.line,
                f"{item.name}: namespaces: {', '.join(found)} (its objects name them; here an item declares the "
                "namespaces it writes into besides the stack's)",
            )


def _namespace_key(namespace: str | None) -> str:
    if namespace is None:
        return ".Namespace"
    compact = re.sub(r"\s+", " ", namespace)
    if re.fullmatch(r"\{\{-? ?\.Namespace ?-?\}\}", compact):
        return ".Namespace"
    return compact


def _env_reads(document: docs.Document) -> Iterator[str]:
    for action in document.actions():
        yield from re.findall(r'envOr\s+"([A-Za-z_][A-Za-z0-9_]*)"', action.source)
        yield from re.findall(r"\.EnvMap\.([A-Za-z_][A-Za-z0-9_]*)", action.source)


# ---- services.yaml out -----------------------------------------------------------------------------


class _Dumper(yaml.SafeDumper):
    """Block scalars for text with line breaks; keys in the order written."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


def _text(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    if "\n" in value and not value.startswith((" ", "\t")) and all(ord(c) >= 32 or c in "\n\t" for c in value):
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", value)


_Dumper.add_representer(str, _text)


def _services_text(importer: Importer, document: dict[str, Any], report: Report) -> str:
    out: dict[str, Any] = {"project": document.pop("project")}
    env_vars: dict[str, Any] = {}
    marked: list[str] = []
    for name in sorted(importer.env_vars):
        if _forbidden(name):
            continue
        if _SECRET_NAME.search(name):
            env_vars[name] = {"secret": True}
            marked.append(name)
        else:
            env_vars[name] = {}
    if importer.usage.now:
        env_vars[NOW_VARIABLE] = {
            "description": "The time upstream's now gave: UTC, as 2006-01-02T15:04:05.000000000Z."
        }
        report.manual(
            "services.yaml",
            None,
            f"templates used now: set {NOW_VARIABLE} in the runner (e.g. `date -u +%Y-%m-%dT%H:%M:%S.%NZ`); a "
            "value that changes on every run changes the objects on every pulumi up",
            key=f"envVars.{NOW_VARIABLE}",
        )
    if marked:
        report.change(
            "services.yaml",
            None,
            f"declared secret by their names (masked in previews and state): {', '.join(marked)}",
            key="envVars",
        )
    if env_vars:
        out["envVars"] = env_vars
    variables = dict(importer.var_values)
    if importer.usage.base_domains:
        raw = getattr(importer, "_base_domain_raw", {}) or {}
        pairs = ", ".join(f"{literal(env)}: {_expression_of(value)}" for env, value in raw.items())
        entry = "{{ {" + pairs + "} }}"
        names = list(variables)
        last = max((index for index, name in enumerate(names) if re.search(rf"\b{name}\b", entry)), default=-1)
        ordered = [*names[: last + 1], BASE_DOMAINS_VAR, *names[last + 1 :]]
        variables[BASE_DOMAINS_VAR] = entry
        variables = {name: variables[name] for name in ordered}
        if "baseDomain" in document:
            rewritten = {}
            for env in document["baseDomain"]:
                reference = "{{ " + f"{BASE_DOMAINS_VAR}[{literal(env)}]" + " }}"
                rewritten[env] = ("dev-{{ slot }}." + reference) if env == "ai" else reference
            document["baseDomain"] = rewritten
        report.change(
            "services.yaml", None, f"upstream's .BaseDomain (every environment's) → vars.{BASE_DOMAINS_VAR}", key="vars"
        )
    if variables:
        out["vars"] = variables
    if getattr(importer, "_added_data_paths", False) and importer.data_paths is not None:
        document.setdefault("dataPaths", importer.data_paths)
        order = list(document)
        if "hooks" in order:
            document = {key: document[key] for key in order if key != "dataPaths"}
            position = list(document).index("hooks")
            keys = list(document)
            document = (
                {key: document[key] for key in keys[:position]}
                | {"dataPaths": importer.data_paths}
                | {key: document[key] for key in keys[position:]}
            )
    out.update(document)
    header = (
        "# Imported from upstream codexctl by `codexctl import` (docs/migrating-from-codexctl.md).\n"
        "# YAML first: templates live only inside values ({{ … }}), evaluated for the stack that uses them.\n"
    )
    body = yaml.dump(out, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=120, default_flow_style=False)
    return header + body


def write(out: Path, files: dict[str, str]) -> None:
    """Write the converted project into ``out`` (created if needed)."""
    for relative, text in files.items():
        target = out / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(target.name + ".codexctl-import")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, target)
