"""The one-owner rule for an imported project: objects outside a stack's namespace go to the
cluster environment (docs/security.md, "The cluster stack"; docs/migrating-from-codexctl.md).

Upstream applied every object of every group to every environment's namespace, so a project's
``kube-system/coredns`` or ClusterIssuer was written by each environment in turn. Here only the
stack of the one ``scope: cluster`` environment may own an object that is cluster-scoped or in
another namespace; any other stack that renders one fails to plan. So the importer:

1. renders every document of every manifest for every environment upstream deployed it in (the
   converted Jinja templates, with this project's own templating and the environment's values;
   ``ai`` as two slots, to see what a slot changes), and finds each document's objects and
   whether they land outside that stack's namespace;
2. takes those documents out of the stacks where they land outside (removed, or kept behind a
   condition where they land inside elsewhere) and writes them once into a file of a cluster
   group (``<item>-cluster``, ``when: env == 'cluster'``; the item itself when nothing of it
   is left), rendered as upstream rendered them: where the text reads the environment, its
   namespace or its slot, those are bound to the environment's own values (a Jinja ``with``);
3. renders the cluster files in the cluster stack and checks each object against upstream's,
   keeps every other item and stack-wide hook step out of the cluster stack, and reports every
   change and every case it cannot carry over faithfully (an object per slot, one object that
   differs between environments, a document that mixes both kinds of objects).

Rendering, not reading the text, decides: a kind, a namespace or a whole document can come from
a template. Where a file cannot be rendered, its documents are sorted by their text instead and
the report says so.
"""

from __future__ import annotations

import copy
import re
import secrets
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from codex_stacks.config.settings import Settings
from codex_stacks.config.templating import Outside, render_text, restore_outside
from codex_stacks.config.yamlio import load_documents
from codex_stacks.errors import CodexError, Location
from codex_stacks.importer import documents as docs
from codex_stacks.importer import gotemplate as go
from codex_stacks.importer.convert import literal, to_text
from codex_stacks.importer.project import AGENT_SERVICE, SLOT_ENVIRONMENT, Importer, Item, _expression_of, _forbidden
from codex_stacks.importer.report import Report
from codex_stacks.plan.cluster import CLUSTER_SCOPE, SYSTEM_NAMESPACE
from codex_stacks.plan.kinds import is_namespaced
from codex_stacks.plan.overlays import dropped
from codex_stacks.plan.target import PlanRequest, resolve

CLUSTER_ENVIRONMENT = "cluster"
"""The name of the environment the importer adds (another one if the project uses it)."""
DEFAULT_MAX_SLOTS = 10
"""maxSlots written where upstream had none (no limit): the cluster stack lists every slot."""
MAX_RENDERS = 20_000
"""Manifest renders (stacks x files) the import makes to find the objects outside the namespace;
beyond, it reads their text instead."""
_SLOTS = (1, 2)
"""The slots of ``ai`` rendered: two, to tell an object that reads the slot."""
_FILE = "services.yaml"


# ---- what each document renders ------------------------------------------------------------------


@dataclass(frozen=True)
class Stack:
    """One stack the analysis rendered: an environment (and a slot of ``ai``)."""

    name: str
    env: str
    slot: int | None
    namespace: str


@dataclass
class _Object:
    manifest: dict[str, Any]
    outside: bool


@dataclass
class Facts:
    """One leaf document of a manifest and what it renders in each stack."""

    path: str
    index: int
    document: docs.Document
    renders: dict[str, list[_Object]] = field(default_factory=dict)
    cluster: list[dict[str, Any]] | None = None
    """Its objects rendered as they stand in the cluster stack (None: not rendered there)."""


@dataclass
class Analysis:
    stacks: list[Stack]
    facts: dict[tuple[str, int], Facts]
    cluster: Settings | None
    enabled: dict[str, dict[tuple[str, str], bool | None]]
    """Per stack name (the cluster's too), each item's ``when:`` there (None: it does not evaluate)."""
    failed: dict[str, str]
    """Manifest path → why it could not be rendered (its documents are sorted by their text)."""
    unrenderable: set[tuple[str, str]] = field(default_factory=set)
    """Items enabled in the cluster environment that do not evaluate or render there."""


def _marker(nonce: str, index: int) -> go.Text:
    return go.Text(f"\n--- # codexctl-import-{nonce}-{index}:\n", 0)


def _marked(tree: go.Template, nonce: str) -> go.Template:
    """A copy of ``tree`` with a marker line before each leaf document, to tell whose output is whose."""
    marked = copy.deepcopy(tree)
    found = docs.documents(marked.nodes)
    for index in reversed(range(len(found))):
        document = found[index]
        document.container.insert(document.start, _marker(nonce, index))
    return marked


def _split(text: str, nonce: str) -> Iterator[tuple[int, str]]:
    pieces = re.split(rf"--- # codexctl-import-{nonce}-(\d+):\n?", text)
    for position in range(1, len(pieces), 2):
        yield int(pieces[position]), pieces[position + 1]


def _finished(manifest: dict[str, Any], namespace: str) -> tuple[dict[str, Any], bool]:
    """The object as a stack of ``namespace`` registers it, and whether it lies outside that namespace."""
    manifest = _copied(manifest)
    metadata = manifest.get("metadata")
    manifest["metadata"] = dict(metadata) if isinstance(metadata, dict) else {}
    kind = str(manifest.get("kind"))
    if is_namespaced(kind):
        if not manifest["metadata"].get("namespace"):
            manifest["metadata"]["namespace"] = namespace
    else:
        manifest["metadata"].pop("namespace", None)
    own = manifest["metadata"].get("namespace") == namespace or (
        kind == "Namespace" and manifest["metadata"].get("name") == namespace
    )
    return manifest, not own


def _copied(value: Any) -> Any:
    """A copy of parsed YAML that keeps the marks of outside text (``copy.deepcopy`` drops them)."""
    if isinstance(value, dict):
        return {key: _copied(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_copied(item) for item in value]
    return value


def _render(text: str, settings: Settings, source: Path, nonce: str) -> dict[int, list[dict[str, Any]]]:
    """Each marked document's objects, rendered with the stack's values (CodexError if it fails)."""
    try:
        rendered = render_text(text, settings.scope, source=source, known=settings.evaluator.known)
        found: dict[int, list[dict[str, Any]]] = {}
        for index, chunk in _split(rendered.text, nonce):
            objects = found.setdefault(index, [])
            for _, value in load_documents(chunk, source=source):
                if isinstance(value, dict):
                    secret_paths: list[str] = []
                    restored = restore_outside(value, rendered.outside, secret_paths)
                    for path in secret_paths:
                        _mark_secret(restored, path)
                    objects.append(restored)
    except CodexError:
        raise
    except Exception as exc:  # a failure below must not stop the import: the file is looked at by its text
        raise RenderFailedError(f"{type(exc).__name__}: {exc}", location=Location(file=source)) from None
    return found


_PATH_RE = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def _mark_secret(manifest: dict[str, Any], path: str) -> None:
    """The text at ``path`` (``a.b[0].c``) marked as a secret's, so the report never shows it."""
    parts: list[str | int] = [name if name else int(index) for name, index in _PATH_RE.findall(path)]
    node: Any = manifest
    for part in parts[:-1]:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            return
    try:
        if isinstance(node[parts[-1]], str):
            node[parts[-1]] = Outside(node[parts[-1]], origin="a secret variable", secret=True)
    except (KeyError, IndexError, TypeError):
        return


class RenderFailedError(CodexError):
    """Rendering a converted manifest failed with something other than a template's own error."""


def _services_copy(document: dict[str, Any], cluster_env: str) -> dict[str, Any]:
    trial = copy.deepcopy(document)
    trial["environments"] = {**trial.get("environments", {}), cluster_env: {"scope": CLUSTER_SCOPE}}
    max_slots = trial.get("maxSlots")
    if SLOT_ENVIRONMENT in trial["environments"] and (max_slots is None or max_slots == 0):
        trial["maxSlots"] = DEFAULT_MAX_SLOTS  # the trial's slot 2 must exist
    return trial


def _stacks(document: dict[str, Any]) -> Iterator[tuple[str, str, int | None]]:
    for env in document.get("environments", {}):
        if env == SLOT_ENVIRONMENT:
            for slot in _SLOTS:
                yield f"{SLOT_ENVIRONMENT}-slot-{slot}", env, slot
        else:
            yield env, env, None


def _enabled(settings: Settings, raw: Any) -> bool | None:
    try:
        return settings.enabled(raw)
    except CodexError:
        return None


def analyse(
    *,
    importer: Importer,
    document: dict[str, Any],
    items: Sequence[Item],
    trees: dict[str, go.Template],
    cluster_env: str,
    folder: Path,
    services_text: Callable[[dict[str, Any]], str],
) -> Analysis:
    """Render every document of ``trees`` for every stack of the imported project (written into
    ``folder`` with the cluster environment added), and as a cluster file would hold it."""
    nonce = secrets.token_hex(4)
    marked: dict[str, str] = {}
    for path, tree in trees.items():
        text, converter = to_text(_marked(tree, nonce), forbidden_env=_forbidden)
        importer._merge(converter.usage, path, 1)  # the same variables the written files declare
        marked[path] = text
    (folder / _FILE).write_text(services_text(_services_copy(document, cluster_env)), encoding="utf-8")
    facts: dict[tuple[str, int], Facts] = {}
    for path, tree in trees.items():
        for index, document_ in enumerate(docs.documents(tree.nodes)):
            facts[(path, index)] = Facts(path, index, document_)
    analysis = Analysis(stacks=[], facts=facts, cluster=None, enabled={}, failed={})
    by_name = {(item.section, item.name): item for item in items}
    stacks = list(_stacks(document))
    if len(stacks) * len(trees) > MAX_RENDERS:
        why = (
            f"{len(stacks)} stacks x {len(trees)} manifests are more than the {MAX_RENDERS:,} renders the import makes"
        )
        analysis.failed = dict.fromkeys(trees, why)
        importer.report.manual(_FILE, None, f"{why}: objects outside the namespace were sorted by their text alone")
        stacks = []
    for name, env, slot in [*stacks, (cluster_env, cluster_env, None)]:
        request = PlanRequest(stack=name, project_dir=folder, env=env, slot=slot)
        try:
            target, settings = resolve(request)
        except CodexError as exc:
            if slot is None or slot == _SLOTS[0]:
                importer.report.manual(
                    _FILE,
                    None,
                    f"environment {env} could not be evaluated ({exc.message}), so its objects outside the "
                    f"stack's namespace were not looked for: fix it, then run `codexctl validate --stack {name}`",
                    key=f"environments.{env}",
                )
            continue
        enabled: dict[tuple[str, str], bool | None] = {
            (str(ref.section), ref.name): _enabled(settings, ref.raw) for ref in settings.document.items
        }
        analysis.enabled[name] = enabled
        if name == cluster_env:
            analysis.cluster = settings
            _cluster_renders(analysis, trees, settings, folder)
            analysis.unrenderable = _failing_in(settings, by_name, marked, folder, nonce, enabled)
            continue
        stack = Stack(name, env, slot, target.namespace)
        analysis.stacks.append(stack)
        cache: dict[str, dict[int, list[dict[str, Any]]] | None] = {}
        for ref in settings.document.items:
            item = by_name.get((ref.section, ref.name))
            if item is None or enabled[(ref.section, ref.name)] is not True:
                continue
            overlay = None
            if ref.section == "services":
                try:
                    overlay = getattr(settings.item(ref), "overlays", {}).get(env)
                except CodexError:
                    overlay = None  # the plan says what is wrong with it; its manifests still count
            for path in dict.fromkeys(item.manifests):
                if path not in marked:
                    continue
                if path not in cache:
                    try:
                        cache[path] = _render(marked[path], settings, folder / path, nonce)
                    except CodexError as exc:
                        cache[path] = None
                        if path not in analysis.failed:
                            analysis.failed[path] = f"{exc.message}, for stack {name}"
                            importer.report.manual(
                                path,
                                exc.location.line,
                                f"could not render it for stack {name} ({exc.message}), so whether its objects "
                                "there lie outside the stack's namespace was not looked at; once it renders, "
                                f"`codexctl validate --stack {name}` says",
                            )
                rendered = cache[path]
                for index, objects in (rendered or {}).items():
                    if (path, index) not in facts:
                        continue
                    found = facts[(path, index)].renders.setdefault(name, [])
                    for obj in objects:
                        if not dropped(str(obj.get("kind")), overlay):
                            manifest, outside = _finished(obj, target.namespace)
                            found.append(_Object(manifest, outside))
    return analysis


def _cluster_renders(analysis: Analysis, trees: dict[str, go.Template], settings: Settings, folder: Path) -> None:
    """Each document as a cluster file holds it when nothing is bound: flat, after its declarations."""
    nonce = secrets.token_hex(4)
    for path, tree in trees.items():
        entries = [
            _Entry(facts.index, _unguarded(facts.document.nodes), list(facts.document.scope), None)
            for facts in analysis.facts.values()
            if facts.path == path
        ]
        text, _ = to_text(_flat(tree, entries, nonce), forbidden_env=_forbidden)
        try:
            rendered = _render(text, settings, folder / path, nonce)
        except CodexError:
            continue  # it reads something the cluster stack lacks: bound to its environment later
        for index, objects in rendered.items():
            analysis.facts[(path, index)].cluster = [_finished(obj, SYSTEM_NAMESPACE)[0] for obj in objects]


def _failing_in(
    settings: Settings,
    by_name: dict[tuple[str, str], Item],
    marked: dict[str, str],
    folder: Path,
    nonce: str,
    enabled: dict[tuple[str, str], bool | None],
) -> set[tuple[str, str]]:
    """Items enabled in the cluster environment whose ``when:``, fields or manifests do not
    evaluate there (``codexctl validate`` evaluates every enabled item for every environment)."""
    failing: set[tuple[str, str]] = set()
    for ref in settings.document.items:
        key = (ref.section, ref.name)
        if enabled.get(key) is False:
            continue
        if enabled.get(key) is None:
            failing.add(key)
            continue
        try:
            settings.item(ref)
            for path in by_name[key].manifests if key in by_name else []:
                if path in marked:
                    _render(marked[path], settings, folder / path, nonce)
        except CodexError:
            failing.add(key)
    return failing


# ---- what to do with each document ------------------------------------------------------------------


@dataclass
class Copy:
    """One copy of a document in the cluster stack: bound to a stack's values, or as it stands."""

    pin: Stack | None
    expected: list[dict[str, Any]]
    stacks: list[Stack]


@dataclass
class Decision:
    facts: Facts
    copies: list[Copy]
    keep_in: list[str]
    """Environments where the document stays in its item (its objects land inside there)."""
    leave_slots: bool = False
    """Taken out of the slot stacks without a copy (it differs per slot)."""
    nodes: list[go.Node] = field(default_factory=list)
    scope: list[go.Action] = field(default_factory=list)


def _key(manifest: dict[str, Any]) -> tuple[str, str, str]:
    metadata = manifest.get("metadata") or {}
    return str(manifest.get("kind")), str(metadata.get("namespace") or ""), str(metadata.get("name"))


def describe(manifest: dict[str, Any]) -> str:
    """``Kind namespace/name`` for the report; a part from a secret variable is never shown."""
    metadata = manifest.get("metadata") or {}
    kind, namespace, name = (
        "[secret]" if isinstance(part, Outside) and part.secret else str(part or "")
        for part in (manifest.get("kind"), metadata.get("namespace"), metadata.get("name"))
    )
    return f"{kind} {namespace}/{name}" if namespace else f"{kind} {name}"


def _where(manifests: Sequence[dict[str, Any]]) -> str:
    return ", ".join(describe(manifest) for manifest in manifests)


def _static_outside(document: docs.Document) -> bool | None:
    """Outside by its text alone (True/False), or None when the text does not say."""
    kind = document.kind
    if kind is None or "{{" in kind:
        return None
    if not is_namespaced(kind):
        return True
    namespace = document.namespace
    if namespace is None or re.fullmatch(r"\{\{-?\s*\.Namespace\s*-?\}\}", namespace):
        return False
    return None if "{{" in namespace else True


def decide(analysis: Analysis, report: Report, env_order: Sequence[str], cluster_env: str) -> list[Decision]:
    """What happens to every document with objects outside a stack's namespace."""
    decisions: list[Decision] = []
    owned: dict[tuple[str, str, str], tuple[dict[str, Any], Facts]] = {}
    slot_stacks = [stack for stack in analysis.stacks if stack.slot is not None]
    for facts in analysis.facts.values():
        stacks = [stack for stack in analysis.stacks if facts.renders.get(stack.name)]
        if facts.path in analysis.failed and not stacks:
            decision = _by_text(facts, analysis, report, cluster_env)
            if decision is not None:
                decisions.append(decision)
            continue
        outside = {stack.name: [o.manifest for o in facts.renders[stack.name] if o.outside] for stack in stacks}
        inside = {stack.name: [o.manifest for o in facts.renders[stack.name] if not o.outside] for stack in stacks}
        out_stacks = [stack for stack in stacks if outside[stack.name]]
        if not out_stacks:
            continue
        in_envs = {stack.env for stack in stacks if inside[stack.name]}
        clash = [stack for stack in out_stacks if inside[stack.name] or stack.env in in_envs]
        if clash:
            report.manual(
                facts.path,
                facts.document.line,
                f"this document renders objects outside the stack's namespace ({_where(outside[clash[0].name])}) "
                f"and, in environment {clash[0].env}, objects in it: only the cluster stack may own the former. "
                "Split it by hand and move the outside part to a group with "
                f"when: \"{{{{ env == '{cluster_env}' }}}}\"; until then stack {clash[0].name} does not plan",
            )
            continue
        decision = Decision(facts, [], sorted(in_envs, key=env_order.index))
        slot_out = [stack for stack in out_stacks if stack.slot is not None]
        seen_in_slots = {repr(outside.get(stack.name, [])) for stack in slot_stacks}
        if slot_out and len(seen_in_slots) > 1:
            decision.leave_slots = True
            report.manual(
                facts.path,
                facts.document.line,
                f"{_where(outside[slot_out[0].name])} differs from slot to slot (its template reads the slot) and lies "
                "outside the slot's namespace: only the cluster stack may own such objects, once, so the slot stacks "
                "no longer deploy it. Create it per slot another way, or make it the same for every slot and move "
                "it to the cluster group",
            )
        groups: list[Copy] = []
        for stack in out_stacks:
            if stack.slot is not None and (decision.leave_slots or stack is not slot_out[0]):
                continue  # per slot (reported), or the same as the first slot
            manifests = outside[stack.name]
            same = next((group for group in groups if group.expected == manifests), None)
            if same is not None:
                same.stacks.append(stack)
            else:
                groups.append(Copy(pin=None, expected=manifests, stacks=[stack]))
        for group in groups:
            if facts.cluster != group.expected:
                group.pin = next((stack for stack in group.stacks if stack.slot is None), group.stacks[0])
        others: list[Copy] = []
        for group in groups:
            repeated = [owned[_key(m)] for m in group.expected if _key(m) in owned]
            if not repeated:
                owned.update({_key(manifest): (manifest, facts) for manifest in group.expected})
                decision.copies.append(group)
                continue
            where = repeated[0][1]
            if all(owned[_key(m)][0] == m for m in group.expected):
                if where is not facts:
                    report.change(
                        facts.path,
                        facts.document.line,
                        f"{_where(group.expected)} is also written by {where.path}:{where.document.line}, the same "
                        "object: the cluster stack owns it once, from there",
                    )
            else:
                others.append(group)
        if others:
            kept = [stack.env for group in decision.copies for stack in group.stacks]
            report.manual(
                facts.path,
                facts.document.line,
                f"{_where(others[0].expected)} differs between environments (upstream's deploys each wrote their own "
                "and the last one won): the cluster stack owns one object, as upstream rendered it in "
                f"{', '.join(kept) or 'another file'}, not the versions of "
                f"{', '.join(stack.env for group in others for stack in group.stacks)}. Check which one you want",
            )
        decision.nodes = _unguarded(facts.document.nodes)
        decision.scope = copy.deepcopy(list(facts.document.scope))
        decisions.append(decision)
    return decisions


def _unguarded(nodes: list[go.Node]) -> list[go.Node]:
    """A document's nodes without the importer's own ``Guard`` around them: the analysis already
    knows where it rendered, and in the cluster stack the guard's condition means something else."""
    body = [node for node in nodes if not (isinstance(node, go.Text) and not node.text.strip())]
    if len(body) == 1 and isinstance(body[0], go.Guard):
        return copy.deepcopy(body[0].body)
    return copy.deepcopy(nodes)


def _by_text(facts: Facts, analysis: Analysis, report: Report, cluster_env: str) -> Decision | None:
    """A document of a file that could not be rendered: outside when its text says so."""
    verdict = _static_outside(facts.document)
    if verdict is False:
        return None
    reason = analysis.failed[facts.path]
    if verdict is None:
        if facts.document.kind is not None or facts.document.namespace is not None:
            report.manual(
                facts.path,
                facts.document.line,
                f"could not render this file ({reason}); whether {facts.document.kind} {facts.document.name} lies "
                "outside the stack's namespace depends on its template: if it does, move it to a group with "
                f"when: \"{{{{ env == '{cluster_env}' }}}}\"",
            )
        return None
    report.manual(
        facts.path,
        facts.document.line,
        f"could not render this file ({reason}); {facts.document.kind} {facts.document.name} was moved to the cluster "
        "stack by its text: check that it renders there as upstream rendered it",
    )
    return Decision(
        facts,
        [Copy(pin=None, expected=[], stacks=[])],
        [],
        nodes=_unguarded(facts.document.nodes),
        scope=copy.deepcopy(list(facts.document.scope)),
    )


# ---- the cluster files ---------------------------------------------------------------------------------


def _pin_levels(stack: Stack, document: dict[str, Any]) -> list[list[tuple[str, str]]]:
    """Jinja bindings that make a manifest see ``stack``'s environment, slot and namespace (what
    upstream's ``.Env``, ``.Slot`` and ``.Namespace`` were; a manifest never saw services.yaml's
    variables)."""
    levels: list[list[tuple[str, str]]] = [[("env", literal(stack.env)), ("slot", str(stack.slot or 0))]]
    patterns = (document.get("namespace") or {}).get("patterns") or {}
    environments = document.get("environments") or {}
    env: str | None = stack.env
    pattern = None
    seen: set[str] = set()
    while env is not None and env not in seen:
        seen.add(env)
        if env in patterns:
            pattern = patterns[env]
            break
        parent = (environments.get(env) or {}).get("from")
        env = parent if isinstance(parent, str) else None
    if pattern is None:
        namespace = literal(f"{document.get('project', '')}-{stack.env}" + (f"-{stack.slot}" if stack.slot else ""))
    else:
        namespace = f"(({_expression_of(pattern)}) | string | trim)"
    levels.append([("namespace", namespace)])
    return levels


@dataclass
class _Entry:
    marker: int
    nodes: list[go.Node]
    scope: list[go.Action]
    levels: list[list[tuple[str, str]]] | None


def _flat(tree: go.Template, entries: Sequence[_Entry], nonce: str | None) -> go.Template:
    """Documents one after the other, flat (outside any ``if`` upstream wrapped them in: the cluster
    stack deploys what upstream rendered in some environment), each after the declarations it sees
    and inside its bindings; a marker before each when ``nonce`` is given."""
    nodes: list[go.Node] = []
    for position, entry in enumerate(entries):
        if position:
            nodes.append(go.Text("\n---\n", 0))
        if nonce is not None:
            nodes.append(_marker(nonce, entry.marker))
        body: list[go.Node] = [*copy.deepcopy(entry.scope), *copy.deepcopy(entry.nodes)]
        line = next((node.line for node in entry.nodes if getattr(node, "line", 0)), 0)
        nodes.extend([go.Pin(entry.levels, body, line)] if entry.levels else body)
    if nodes and not (isinstance(nodes[-1], go.Text) and nodes[-1].text.endswith("\n")):
        nodes.append(go.Text("\n", 0))
    return go.Template(nodes=nodes, defines=copy.deepcopy(tree.defines), define_lines=dict(tree.define_lines))


def cluster_tree(
    tree: go.Template, decisions: Sequence[Decision], *, document: dict[str, Any], nonce: str | None = None
) -> tuple[go.Template, list[tuple[Decision, Copy]]]:
    """The cluster file of one manifest: the copies of its moved documents, pinned where they
    must be (see :func:`_flat`), and which copy each marker number stands for."""
    order = [(decision, copy_) for decision in decisions for copy_ in decision.copies]
    entries = [
        _Entry(
            position,
            decision.nodes,
            decision.scope,
            _pin_levels(copy_.pin, document) if copy_.pin is not None else None,
        )
        for position, (decision, copy_) in enumerate(order)
    ]
    return _flat(tree, entries, nonce), order


def _cluster_path(path: str, taken: Callable[[str], bool]) -> str:
    pure = PurePosixPath(path)
    suffix = pure.suffix
    stem = pure.name[: -len(suffix)] if suffix else pure.name
    number = 1
    while True:
        name = f"{stem}.cluster{'' if number == 1 else f'-{number}'}{suffix}"
        candidate = str(pure.with_name(name))
        if not taken(candidate):
            return candidate
        number += 1


def free_environment(names: set[str]) -> str:
    name = CLUSTER_ENVIRONMENT
    number = 2
    while name in names:
        name = f"{CLUSTER_ENVIRONMENT}-{number}"
        number += 1
    return name


def _free_item_name(base: str, names: set[str]) -> str:
    candidate = f"{base[:55]}-cluster"
    number = 2
    while candidate in names:
        candidate = f"{base[:52]}-cluster-{number}"
        number += 1
    return candidate


# ---- the whole step --------------------------------------------------------------------------------


@dataclass
class Outcome:
    """What :func:`separate` did: the cluster environment (None: nothing to move) and its groups."""

    environment: str | None = None
    groups: dict[str, list[str]] = field(default_factory=dict)
    """Cluster group name → the namespaces its objects name (its ``namespaces:``)."""
    sources: dict[str, str] = field(default_factory=dict)
    """A new cluster file → the upstream manifest its documents come from (for the report's lines)."""


def separate(
    *,
    importer: Importer,
    document: dict[str, Any],
    items: list[Item],
    trees: dict[str, go.Template],
    report: Report,
    services_text: Callable[[dict[str, Any]], str],
    taken: Callable[[str], bool],
) -> Outcome:
    """Move every document with objects outside its stack's namespace into the cluster
    environment (see the module's docstring). Edits ``document``, ``items`` and ``trees``."""
    environments: dict[str, Any] = document.setdefault("environments", {})
    cluster_env = free_environment(set(environments) | importer.env_names)
    with tempfile.TemporaryDirectory(prefix="codexctl-import-") as folder:
        analysis = analyse(
            importer=importer,
            document=document,
            items=items,
            trees=trees,
            cluster_env=cluster_env,
            folder=Path(folder),
            services_text=services_text,
        )
        decisions = decide(analysis, report, list(environments), cluster_env)
        if not decisions:
            return Outcome()
        return _apply(
            importer=importer,
            document=document,
            items=items,
            trees=trees,
            report=report,
            analysis=analysis,
            decisions=decisions,
            cluster_env=cluster_env,
            folder=Path(folder),
            taken=taken,
        )


def _apply(
    *,
    importer: Importer,
    document: dict[str, Any],
    items: list[Item],
    trees: dict[str, go.Template],
    report: Report,
    analysis: Analysis,
    decisions: list[Decision],
    cluster_env: str,
    folder: Path,
    taken: Callable[[str], bool],
) -> Outcome:
    environments: dict[str, Any] = document["environments"]
    outcome = Outcome(environment=cluster_env)
    on = f"{{{{ env == {literal(cluster_env)} }}}}"
    by_path: dict[str, list[Decision]] = {}
    for decision in decisions:
        by_path.setdefault(decision.facts.path, []).append(decision)
    # the stacks that keep a document, and those that lose it
    whole: set[str] = set()
    destination: dict[str, str] = {}
    for path, found in by_path.items():
        for decision in sorted(found, key=lambda d: (id(d.facts.document.container), -d.facts.document.start)):
            facts = decision.facts
            if decision.keep_in:
                docs.guard(facts.document, f"env in ({', '.join(literal(env) for env in decision.keep_in)},)")
                report.change(
                    path,
                    facts.document.line,
                    f"kept only in environments {', '.join(decision.keep_in)}, where its objects are in the stack's "
                    "namespace; elsewhere they lie outside it and belong to the cluster stack",
                )
            else:
                docs.remove(facts.document)
        docs.prune(trees[path].nodes)
        empty = not docs.documents(trees[path].nodes)
        if empty:
            whole.add(path)
        if not any(decision.copies for decision in found):
            if empty:
                trees.pop(path)
                report.change(path, None, "no longer used: the cluster stack owns its objects from another file")
            continue
        destination[path] = path if empty else _cluster_path(path, lambda p: p in trees or taken(p))
        outcome.sources[destination[path]] = path
    # the cluster files, checked in the cluster stack
    nonce = secrets.token_hex(4)
    moved: dict[str, list[tuple[Decision, Copy, list[dict[str, Any]]]]] = {}
    for path, found in by_path.items():
        if path not in destination:
            continue
        ordered = sorted(found, key=lambda d: d.facts.index)
        tree, _ = cluster_tree(trees[path], ordered, document=document)
        marked, order = cluster_tree(trees[path], ordered, document=document, nonce=nonce)
        rendered = _verify(marked, order, analysis, folder / destination[path], nonce, report, destination[path])
        trees[destination[path]] = tree
        moved[path] = [
            (decision, copy_, rendered.get(position) or copy_.expected)
            for position, (decision, copy_) in enumerate(order)
        ]
    # the items
    names = {item.name for item in items}
    new_items: list[Item] = []
    assigned: set[str] = set()
    for item in list(items):
        remaining = [path for path in item.manifests if path not in whole]
        moved_paths = [path for path in dict.fromkeys(item.manifests) if path in destination and path not in assigned]
        if not moved_paths:
            if remaining != item.manifests:
                item.manifests = remaining
                item.out["manifests"] = [{"path": path} for path in remaining]
            continue
        assigned |= set(moved_paths)
        files = [destination[path] for path in moved_paths]
        namespaces = _namespaces_of(files, trees, analysis, report, folder)
        upstream_when = item.out.get("when")
        if not remaining:
            _to_cluster(item, document, on, report, cluster_env)
            group = item
        else:
            name = _free_item_name(item.name, names)
            names.add(name)
            out: dict[str, Any] = {"name": name, "when": on, "manifests": [{"path": path} for path in files]}
            group = Item("infrastructure", name, out, files, f"env == {literal(cluster_env)}", item.line)
            _insert_after(document, item, out)
            new_items.append(group)
            item.out["manifests"] = [{"path": path} for path in remaining]
            item.manifests = remaining
            report.change(
                _FILE,
                item.line,
                f"{item.name}: its objects outside the stack's namespace are in the new group {name} "
                f"(when: env == {literal(cluster_env)}; manifests {', '.join(files)})",
                key=f"{item.section}.{item.name}",
            )
        group.out.pop("namespaces", None)
        if namespaces:
            group.out["namespaces"] = namespaces
        outcome.groups[group.name] = namespaces
        for path in moved_paths:
            for decision, copy_, objects in moved[path]:
                upstream = ", ".join(dict.fromkeys(stack.env for stack in copy_.stacks)) or "some environment"
                how = (
                    f"; its template reads the environment, its namespace or slot: bound to {copy_.pin.env}'s values"
                    if copy_.pin is not None
                    else ""
                )
                report.change(
                    path,
                    decision.facts.document.line,
                    f"{_where(objects) or 'this document'} (upstream rendered it in {upstream}) moved to "
                    f"{destination[path]} of group {group.name}, environment {cluster_env}{how}: only the cluster "
                    "stack may own objects outside a stack's namespace",
                )
        if upstream_when is not None and upstream_when is not True:
            report.change(
                _FILE,
                item.line,
                f"{group.name}: upstream deployed these objects where {item.name}'s when: held ({upstream_when}); the "
                f"cluster stack deploys them whenever it runs",
                key=f"{item.section}.{item.name}.when",
            )
        for namespace in namespaces:
            owners = [stack.name for stack in analysis.stacks if stack.namespace == namespace]
            if owners:
                report.manual(
                    _FILE,
                    item.line,
                    f"{group.name} writes into namespace {namespace}, the namespace of stack {owners[0]}: the cluster "
                    f"stack can create its objects there once that namespace exists (`pulumi up -s {owners[0]}`, then "
                    f"`pulumi up -s {cluster_env}` again)",
                    key=f"infrastructure.{group.name}",
                )
    items.extend(new_items)
    _keep_out_of_cluster(document, items, analysis, cluster_env, report, outcome)
    environments[cluster_env] = {"scope": CLUSTER_SCOPE}
    report.change(
        _FILE,
        None,
        f"environment {cluster_env} added with scope: cluster: its stack alone owns the objects outside the stacks' "
        "namespaces (cluster-scoped ones and those of other namespaces); upstream wrote them from every environment",
        key=f"environments.{cluster_env}",
    )
    report.manual(
        _FILE,
        None,
        f"deploy the cluster stack first, as a cluster admin: pulumi up -s {cluster_env} (docs/security.md, "
        '"The cluster stack"); objects it now owns that an old stack\'s state still holds: drop them from that '
        "state first (pulumi state delete), as that page says",
        key=f"environments.{cluster_env}",
    )
    _max_slots(document, analysis, report, cluster_env)
    return outcome


def _verify(
    marked: go.Template,
    order: list[tuple[Decision, Copy]],
    analysis: Analysis,
    source: Path,
    nonce: str,
    report: Report,
    destination: str,
) -> dict[int, list[dict[str, Any]]]:
    """Render the cluster file in the cluster stack; report each copy that differs from upstream's."""
    text, _ = to_text(marked, forbidden_env=_forbidden)
    found: dict[int, list[dict[str, Any]]] = {}
    if analysis.cluster is None:
        return found
    try:
        rendered = _render(text, analysis.cluster, source, nonce)
    except CodexError as exc:
        report.manual(
            destination,
            None,
            f"does not render in the cluster stack ({exc.message}): fix it by hand (upstream's render is the "
            "reference)",
        )
        return found
    for index, (decision, copy_) in enumerate(order):
        objects = [_finished(obj, SYSTEM_NAMESPACE)[0] for obj in rendered.get(index, [])]
        found[index] = objects
        if copy_.stacks and objects != copy_.expected:
            env = copy_.pin.env if copy_.pin else copy_.stacks[0].env
            report.manual(
                destination,
                None,
                f"{_where(copy_.expected)} (from {decision.facts.path}:{decision.facts.document.line}) renders in the "
                f"cluster stack as {_where(objects) or 'nothing'}, not as upstream rendered it in {env}"
                f"{_first_difference(copy_.expected, objects)}: its template reads something of the environment "
                "the importer cannot bind; write the object as it must be",
            )
    return found


def _first_difference(expected: list[dict[str, Any]], got: list[dict[str, Any]]) -> str:
    def walk(left: Any, right: Any, path: str) -> str | None:
        if isinstance(left, dict) and isinstance(right, dict):
            for key in sorted(set(left) | set(right), key=str):
                if key not in left or key not in right:
                    return f"{path}.{key}".lstrip(".")
                found = walk(left[key], right[key], f"{path}.{key}")
                if found:
                    return found
            return None
        if isinstance(left, list) and isinstance(right, list) and len(left) == len(right):
            for index, (a, b) in enumerate(zip(left, right, strict=True)):
                found = walk(a, b, f"{path}[{index}]")
                if found:
                    return found
            return None
        return None if left == right else (path.lstrip(".") or "(whole object)")

    for left, right in zip(expected, got, strict=False):
        found = walk(left, right, "")
        if found:
            return f" (first at {describe(left)}: {found})"
    return ""


def _namespaces_of(
    files: Sequence[str], trees: dict[str, go.Template], analysis: Analysis, report: Report, folder: Path
) -> list[str]:
    """The namespaces the cluster group's objects name, as the cluster stack renders them."""
    found: list[str] = []
    if analysis.cluster is None:
        return found
    for path in files:
        text, _ = to_text(trees[path], forbidden_env=_forbidden)
        try:
            rendered = render_text(
                text, analysis.cluster.scope, source=folder / path, known=analysis.cluster.evaluator.known
            )
            values = [
                restore_outside(value, rendered.outside)
                for _, value in load_documents(rendered.text, source=folder / path)
                if isinstance(value, dict)
            ]
        except CodexError:
            continue
        for value in values:
            manifest, _ = _finished(value, SYSTEM_NAMESPACE)
            metadata = manifest["metadata"]
            name = metadata.get("name") if manifest.get("kind") == "Namespace" else metadata.get("namespace")
            if not isinstance(name, str) or not name or name in found:
                continue
            if isinstance(name, Outside) and name.secret:
                report.manual(
                    path,
                    None,
                    f"{describe(manifest)}: its namespace comes from a secret variable: declare it by hand in the "
                    "group's namespaces: (as a template)",
                )
                continue
            found.append(str(name))
    return found


def _to_cluster(item: Item, document: dict[str, Any], on: str, report: Report, cluster_env: str) -> None:
    """Every object of ``item`` lies outside: the item itself becomes a cluster group."""
    item.out["when"] = on
    item.condition = f"env == {literal(cluster_env)}"
    _when_first(item.out)
    if item.section == "services":
        document["services"].remove(item.out)
        if not document["services"]:
            del document["services"]
        for key in ("image", "overlays"):
            if key in item.out:
                item.out.pop(key)
                report.change(
                    _FILE,
                    item.line,
                    f"{item.name}: {key} dropped: the cluster stack deploys no services",
                    key=f"services.{item.name}.{key}",
                )
        item.section = "infrastructure"
        document.setdefault("infrastructure", []).append(item.out)
        report.change(
            _FILE,
            item.line,
            f"{item.name}: every object of this service lies outside the stack's namespace: it is an infrastructure "
            f"group of environment {cluster_env} now (the cluster stack deploys groups only)",
            key=f"services.{item.name}",
        )
    else:
        report.change(
            _FILE,
            item.line,
            f"{item.name}: every object of this group lies outside the stack's namespace: it is deployed by the "
            f"cluster stack alone now (when: env == {literal(cluster_env)})",
            key=f"infrastructure.{item.name}.when",
        )
    if item.out.get("hooks"):
        report.manual(
            _FILE,
            item.line,
            f"{item.name}'s hooks run in the cluster stack now (environment {cluster_env}, namespace "
            f"{SYSTEM_NAMESPACE}): check what they expect",
            key=f"infrastructure.{item.name}.hooks",
        )


def _insert_after(document: dict[str, Any], item: Item, out: dict[str, Any]) -> None:
    groups: list[dict[str, Any]] = document.setdefault("infrastructure", [])
    if item.section == "infrastructure" and item.out in groups:
        groups.insert(groups.index(item.out) + 1, out)
    else:
        groups.append(out)


def _and_not_cluster(condition: str | None, cluster_env: str) -> str:
    """The condition, and not in the cluster stack (checked first, so the rest is not evaluated there)."""
    off = f"env != {literal(cluster_env)}"
    return off if condition is None else f"{off} and ({condition})"


def _step_condition(when: Any) -> str | None:
    """The Jinja condition of a hook step's converted ``when:`` (None: always)."""
    if when is None or when is True:
        return None
    if isinstance(when, str):
        match = re.fullmatch(r"\{\{ (.*) \}\}", when, re.DOTALL)
        if match:
            return match.group(1)
    words = ", ".join(literal(word) for word in ("", "false", "0", "no"))
    return f"(({literal(str(when))}) | string | trim | lower) not in ({words})"


def _keep_out_of_cluster(
    document: dict[str, Any],
    items: Sequence[Item],
    analysis: Analysis,
    cluster_env: str,
    report: Report,
    outcome: Outcome,
) -> None:
    """Items and stack-wide hook steps that would run in the cluster stack get ``env != cluster``."""
    enabled = analysis.enabled.get(cluster_env, {})
    for item in items:
        key = (item.section, item.name)
        if item.name in outcome.groups or enabled.get(key) is False:
            continue
        if item.section == "services" and key not in analysis.unrenderable:
            continue  # the cluster stack skips services; it renders in that environment, so validate passes
        item.condition = _and_not_cluster(item.condition, cluster_env)
        item.out["when"] = "{{ " + item.condition + " }}"
        _when_first(item.out)
        why = (
            f"the cluster stack would deploy it too, in {SYSTEM_NAMESPACE}"
            if item.section == "infrastructure"
            else f"it does not evaluate in environment {cluster_env}, which codexctl validate checks too"
        )
        report.change(
            _FILE, item.line, f"{item.name}: when: {item.out['when']} ({why})", key=f"{item.section}.{item.name}.when"
        )
    hooks = document.get("hooks") or {}
    settings = analysis.cluster
    raw_hooks = settings.document.raw("hooks") if settings is not None else None
    for stage, steps in hooks.items():
        raw_steps = raw_hooks.get(stage) if raw_hooks is not None else None
        for index, step in enumerate(steps):
            raw = raw_steps[index] if raw_steps is not None and index < len(raw_steps) else None
            if settings is not None and raw is not None and _enabled(settings, raw) is False:
                continue
            step["when"] = "{{ " + _and_not_cluster(_step_condition(step.get("when")), cluster_env) + " }}"
            _when_first(step)
            report.change(
                _FILE,
                None,
                f"hook step {step.get('name')}: when: {step['when']} (it would run in the cluster stack too)",
                key=f"hooks.{stage}[{index}].when",
            )


def _when_first(out: dict[str, Any]) -> None:
    """``name`` then ``when`` first, as a person writes an item (in place: the document holds this dict)."""
    head: dict[str, Any] = {key: out[key] for key in ("name", "when") if key in out}
    ordered = {**head, **{key: value for key, value in out.items() if key not in head}}
    out.clear()
    out.update(ordered)


def _max_slots(document: dict[str, Any], analysis: Analysis, report: Report, cluster_env: str) -> None:
    """The cluster stack lists every slot's folders in the containment policy: it needs maxSlots."""
    slots = [stack for stack in analysis.stacks if stack.slot is not None]
    if not slots or not any(
        (("services", AGENT_SERVICE) in analysis.enabled.get(stack.name, set())) for stack in slots
    ):
        return
    value = document.get("maxSlots")
    if value is None or value == 0:
        document["maxSlots"] = DEFAULT_MAX_SLOTS
        report.manual(
            _FILE,
            None,
            f"maxSlots was {'unset' if value is None else 0} (no limit); the cluster stack's containment policy lists "
            f"every slot's folders, so it needs the number of slots: written as {DEFAULT_MAX_SLOTS}, set it to how "
            "many slots your runners use",
            key="maxSlots",
        )
    elif not isinstance(value, int):
        report.manual(
            _FILE,
            None,
            f"maxSlots must come to a number above 0 for the cluster stack ({cluster_env}): its containment policy "
            "lists every slot's folders",
            key="maxSlots",
        )
