"""What the Kubernetes API server would refuse, checked before anything is registered.

The JSON schemas (``codexctl validate``) check types and field names; they do not check the
rules the API server applies in code: name formats per kind, label and annotation syntax,
Secret and ConfigMap data. A plan that breaks them fails in the middle of ``pulumi up`` (or, for a
Secret's ``stringData`` that is not text, inside the SDK's serializer), so :func:`check_objects`
finds them first, all in one pass.

The rules, from the Kubernetes source (kubernetes/kubernetes):

- names: ``staging/src/k8s.io/apimachinery/pkg/util/validation/validation.go`` (``IsDNS1123Label``,
  ``IsDNS1123Subdomain``, ``IsDNS1035Label``, ``IsConfigMapKey``); which rule each kind uses:
  ``pkg/apis/core/validation/validation.go`` (``ValidateNamespaceName`` is a DNS-1123 label,
  ``ValidateServiceName`` a DNS-1035 label, ConfigMap, Secret, ServiceAccount, PVC, Pod … DNS-1123
  subdomains), ``pkg/apis/apps/validation`` and ``pkg/apis/batch/validation`` (subdomains;
  ``ValidateCronJobCreate`` allows at most 52 characters, since its Jobs get an 11-character
  suffix), ``pkg/apis/rbac/validation`` (roles and bindings only need a valid path segment:
  ``path.IsValidPathSegmentName``), custom resources a DNS-1123 subdomain
  (apiextensions-apiserver's ``customResourceValidator``). A Job's name is also the value of its
  pods' ``job-name`` label, so at most 63 characters.
- labels and annotations: ``staging/src/k8s.io/apimachinery/pkg/api/validate/content/kube.go``
  (``IsLabelKey``, ``IsLabelValue``) and ``pkg/api/validation/objectmeta.go``
  (``ValidateAnnotations``: keys are label keys, lowercased; keys and values together at most
  256 KiB).
- Secret and ConfigMap: ``ValidateSecret`` / ``ValidateConfigMap`` in
  ``pkg/apis/core/validation/validation.go``: keys match ``[-._a-zA-Z0-9]+`` (at most 253), the
  data adds up to at most 1 MiB (``MaxSecretSize``); Secret ``data`` and ConfigMap ``binaryData``
  are ``[]byte``, which JSON carries as standard, padded base64 (Go's ``encoding/json``).

Messages name the object and the field, never a Secret's values.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from codex_stacks.config import files
from codex_stacks.config.yamlio import line_of
from codex_stacks.errors import CodexError, ConfigError, Location, PlanError, raise_all
from codex_stacks.plan.kinds import POD_TEMPLATE_PATHS, is_namespaced
from codex_stacks.plan.objects import KubeObject

_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
DNS1123_LABEL_RE = re.compile(rf"^{_LABEL}$")
DNS1123_SUBDOMAIN_RE = re.compile(rf"^{_LABEL}(\.{_LABEL})*$")
DNS1035_LABEL_RE = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
_QUALIFIED_NAME_RE = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
_LABEL_VALUE_RE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
_DATA_KEY_RE = re.compile(r"^[-._a-zA-Z0-9]+$")

LABEL_MAX = 63
SUBDOMAIN_MAX = 253
CRONJOB_NAME_MAX = 52
ANNOTATIONS_MAX = 256 << 10
DATA_MAX = 1 << 20
_SHOWN_VALUE = 40
"""Characters of a (non-secret) offending value quoted in a message."""

_PATH_SEGMENT_KINDS = frozenset({"Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding"})


def _show(value: str) -> str:
    """A value for a message: quoted, control characters escaped, long ones cut."""
    if len(value) <= _SHOWN_VALUE:
        return repr(value)
    return f"{value[:_SHOWN_VALUE]!r}… ({len(value)} characters)"


def dns1123_label(value: str) -> str | None:
    """Why ``value`` is not a DNS-1123 label (a namespace name), or None."""
    if len(value) > LABEL_MAX:
        return f"must be at most {LABEL_MAX} characters"
    if not DNS1123_LABEL_RE.match(value):
        return "must be lowercase letters, digits and '-', starting and ending with a letter or digit"
    return None


def dns1123_subdomain(value: str) -> str | None:
    """Why ``value`` is not a DNS-1123 subdomain (most object names), or None."""
    if len(value) > SUBDOMAIN_MAX:
        return f"must be at most {SUBDOMAIN_MAX} characters"
    if not DNS1123_SUBDOMAIN_RE.match(value):
        return "must be lowercase letters, digits, '-' and '.', starting and ending with a letter or digit"
    return None


def dns1035_label(value: str) -> str | None:
    """Why ``value`` is not a DNS-1035 label (a Service name), or None."""
    if len(value) > LABEL_MAX:
        return f"must be at most {LABEL_MAX} characters"
    if not DNS1035_LABEL_RE.match(value):
        return "must be lowercase letters, digits and '-', starting with a letter and ending with a letter or digit"
    return None


def path_segment(value: str) -> str | None:
    """Why ``value`` cannot be a path segment of the API (RBAC names), or None."""
    if value in (".", ".."):
        return f"may not be {value!r}"
    bad = [char for char in ("/", "%") if char in value]
    return f"may not contain {' or '.join(map(repr, bad))}" if bad else None


def _cronjob(value: str) -> str | None:
    if len(value) > CRONJOB_NAME_MAX:
        return f"must be at most {CRONJOB_NAME_MAX} characters (its Jobs get an 11-character suffix)"
    return dns1123_subdomain(value)


def _job(value: str) -> str | None:
    if len(value) > LABEL_MAX:
        return f"must be at most {LABEL_MAX} characters (it is also the value of its pods' job-name label)"
    return dns1123_subdomain(value)


NAME_RULES: Mapping[str, Callable[[str], str | None]] = {
    "Namespace": dns1123_label,
    "Service": dns1035_label,
    "CronJob": _cronjob,
    "Job": _job,
    **dict.fromkeys(_PATH_SEGMENT_KINDS, path_segment),
}
"""Kinds whose names follow another rule than the DNS-1123 subdomain most kinds use."""


def name_problem(kind: str, name: str) -> str | None:
    """Why the API server would refuse ``name`` for an object of ``kind``, or None."""
    return NAME_RULES.get(kind, dns1123_subdomain)(name)


def label_key_problem(key: str) -> str | None:
    """Why ``key`` is not a label key (an optional DNS subdomain prefix, '/', a name), or None."""
    prefix, slash, name = key.rpartition("/")
    if slash:
        if "/" in prefix:
            return "may have at most one '/'"
        if not prefix:
            return "has an empty prefix before '/'"
        why = dns1123_subdomain(prefix)
        if why:
            return f"prefix {why}"
    if not name:
        return "has an empty name"
    if len(name) > LABEL_MAX:
        return f"name part must be at most {LABEL_MAX} characters"
    if not _QUALIFIED_NAME_RE.match(name):
        return "name part must be letters, digits, '-', '_' and '.', starting and ending with a letter or digit"
    return None


def label_value_problem(value: str) -> str | None:
    """Why ``value`` is not a label value, or None."""
    if len(value) > LABEL_MAX:
        return f"must be at most {LABEL_MAX} characters"
    if not _LABEL_VALUE_RE.match(value):
        return "must be empty or letters, digits, '-', '_' and '.', starting and ending with a letter or digit"
    return None


def is_base64(value: str) -> bool:
    """What Go's ``encoding/json`` accepts for ``[]byte``: standard, padded base64 (newlines ignored)."""
    try:
        base64.b64decode(value.replace("\r", "").replace("\n", ""), validate=True)
    except (binascii.Error, ValueError):
        return False
    return True


def object_problem(
    obj: KubeObject,
    path: Sequence[str | int],
    message: str,
    *,
    hint: str | None = None,
    texts: dict[Path, str | None] | None = None,
    line_path: Sequence[str | int] | None = None,
) -> PlanError:
    """``<file>:<line>: <Kind/namespace/name>: <field.path>: <message>``, at the line of the
    field (or of ``line_path``, when the line to show is deeper than the path to name)."""
    line = field_line(obj, path if line_path is None else line_path, texts) or None
    where = Location(file=obj.source, line=line) if obj.line > 0 else Location(file=obj.source)
    field = f"{_dotted(path)}: " if path else ""
    return PlanError(f"{obj.key}: {field}{message}", location=where, hint=hint)


def _dotted(path: Sequence[str | int]) -> str:
    return ".".join(str(part) for part in path)


def field_line(obj: KubeObject, path: Sequence[str | int], texts: dict[Path, str | None] | None = None) -> int:
    """The line of ``path`` inside ``obj``'s document in its manifest file, else the object's line.

    The template is read again (only on the error path); when Jinja makes it unparsable as YAML,
    or the field is not in it (an overlay added it), the object's first line is the best there is.
    """
    if not path or obj.line <= 0:
        return obj.line
    cache = {} if texts is None else texts
    if obj.source not in cache:
        try:
            cache[obj.source] = files.read_text(obj.source)
        except ConfigError:
            cache[obj.source] = None
    text = cache[obj.source]
    if text is None:
        return obj.line
    lines = text.splitlines()
    start = obj.line + 1 if 0 < obj.line <= len(lines) and lines[obj.line - 1].startswith("---") else obj.line
    document = lines[start - 1 :]
    end = next((index for index, line in enumerate(document) if line.startswith("---")), len(document))
    found = line_of("\n".join(document[:end]), list(path))
    return start + found - 1 if found else obj.line


Issue = tuple[tuple[str | int, ...], str, str | None]
"""A problem of one object before it is located: (field path, message, hint)."""


def _mapping_at(manifest: Mapping[str, Any], path: Sequence[str]) -> dict[str, Any] | None:
    node: Any = manifest
    for part in path:
        if not isinstance(node, dict):  # what YAML and the overlays make (and a fast check)
            return None
        node = node.get(part)
    return node if isinstance(node, dict) else None


def _label_maps(kind: str) -> tuple[tuple[str, ...], ...]:
    """Where an object of ``kind`` keeps labels (and label selectors of plain key/value pairs)."""
    template = POD_TEMPLATE_PATHS.get(kind)
    if template is not None:
        found = [("metadata", "labels"), (*template[:-1], "metadata", "labels"), ("spec", "selector", "matchLabels")]
        if kind == "CronJob":
            found.append(("spec", "jobTemplate", "metadata", "labels"))
        return tuple(found)
    if kind == "Service":
        return (("metadata", "labels"), ("spec", "selector"))
    return (("metadata", "labels"),)


POD_LISTS = ("containers", "initContainers", "volumes")
"""Lists of a pod spec whose items must be mappings (what the plan edits and reads)."""


def pod_shape_issues(manifest: Mapping[str, Any]) -> list[Issue]:
    """A workload's pod template path and its container, volume and mount lists, where they are
    not what the API server's schema asks (a mapping, a list of mappings): the plan reads and
    edits them, so it refuses them at their line instead of failing on them."""
    path = POD_TEMPLATE_PATHS.get(str(manifest.get("kind")))
    if path is None:
        return []
    node: Any = manifest
    for depth, key in enumerate(path, start=1):
        node = node.get(key)
        if node is None:
            return []
        if not isinstance(node, dict):
            return [(path[:depth], f"must be a mapping, not {_type(node)}", None)]
    issues: list[Issue] = []
    for field in POD_LISTS:
        items = node.get(field)
        if items is not None and not _mappings(items):
            issues.append(((*path, field), f"must be a list of mappings, not {_described(items)}", None))
    for field in ("containers", "initContainers"):
        items = node.get(field)
        for index, container in enumerate(items if _mappings(items) else []):
            mounts = container.get("volumeMounts")
            if mounts is not None and not _mappings(mounts):
                where: tuple[str | int, ...] = (*path, field, index, "volumeMounts")
                issues.append((where, f"must be a list of mappings, not {_described(mounts)}", None))
    return issues


def _mappings(items: object) -> bool:
    return isinstance(items, list) and all(isinstance(item, dict) for item in items)


def _described(items: object) -> str:
    if isinstance(items, list):
        return f"a list holding {_type(next(item for item in items if not isinstance(item, dict)))}"
    return _type(items)


def _check_namespace(
    issues: list[Issue], kind: str, name: str, metadata: dict[str, Any], namespace: str, allowed: Collection[str]
) -> None:
    if kind == "Namespace":
        if name != namespace and name not in allowed:
            issues.append(
                (
                    ("metadata", "name"),
                    f"creates namespace {_show(name)}, not the stack's ({namespace})",
                    f"if the item means to, declare it on the item: namespaces: [{name}]",
                )
            )
        return
    value = metadata.get("namespace")
    if value is None or value == namespace or not is_namespaced(kind):
        return
    if not isinstance(value, str):
        issues.append((("metadata", "namespace"), f"must be a string, not {_type(value)}", None))
        return
    why = dns1123_label(value)
    if why:
        issues.append((("metadata", "namespace"), f"{_show(value)} {why}", None))
    elif value not in allowed:
        issues.append(
            (
                ("metadata", "namespace"),
                f"{value!r} is not the stack's namespace ({namespace})",
                f"if the item means to, declare it on the item: namespaces: [{value}]",
            )
        )


def _check_labels(issues: list[Issue], kind: str, manifest: Mapping[str, Any]) -> None:
    for where in _label_maps(kind):
        labels = _mapping_at(manifest, where)
        if not labels:
            continue
        for key, value in labels.items():
            path = (*where, str(key))
            why = label_key_problem(key) if isinstance(key, str) else "must be a string"
            if why:
                issues.append((path, f"label key {_show(str(key))} {why}", None))
            if not isinstance(value, str):
                issues.append((path, f"a label value must be a string, not {_type(value)} (quote it)", None))
                continue
            why = label_value_problem(value)
            if why:
                issues.append((path, f"label value {_show(value)} {why}", None))


def _check_annotations(issues: list[Issue], annotations: dict[str, Any]) -> None:
    total = 0
    for key, value in annotations.items():
        path = ("metadata", "annotations", str(key))
        why = label_key_problem(key.lower()) if isinstance(key, str) else "must be a string"
        if why:
            issues.append((path, f"annotation key {_show(str(key))} {why}", None))
        if not isinstance(value, str):
            issues.append((path, f"an annotation value must be a string, not {_type(value)} (quote it)", None))
            continue
        total += len(str(key).encode()) + len(value.encode())
    if total > ANNOTATIONS_MAX:
        issues.append((("metadata", "annotations"), f"add up to {total} bytes; at most {ANNOTATIONS_MAX}", None))


def _type(value: Any) -> str:
    return {
        dict: "a mapping",
        list: "a list",
        str: "a string",
        bool: "a boolean",
        int: "a number",
        float: "a number",
    }.get(type(value), type(value).__name__)


def _check_data(issues: list[Issue], kind: str, manifest: Mapping[str, Any]) -> None:
    """Secret ``data``/``stringData`` and ConfigMap ``data``/``binaryData``: keys, types, size.

    Secret values are never quoted: only their keys are named.
    """
    secret = kind == "Secret"
    encoded_field, text_field = ("data", "stringData") if secret else ("binaryData", "data")
    total = 0
    over_in: str | None = None  # the field whose values take the total past the limit
    seen: dict[str, str] = {}
    for field, encoded in ((encoded_field, True), (text_field, False)):
        values = manifest.get(field)
        if values is None:
            continue
        if not isinstance(values, dict):
            issues.append(((field,), f"must be a mapping of keys to strings, not {_type(values)}", None))
            continue
        for key, value in values.items():
            path = (field, str(key))
            if not isinstance(key, str) or len(key) > SUBDOMAIN_MAX or not _DATA_KEY_RE.match(key):
                issues.append(
                    (path, f"key {_show(str(key))} must be letters, digits, '-', '_' and '.' (at most 253)", None)
                )
            elif key in seen and not secret:
                issues.append((path, f"key {key!r} is in both {seen[key]} and {field}", None))
            seen.setdefault(str(key), field)
            if value is None:
                continue
            if not isinstance(value, str):
                issues.append((path, f"must be a string, not {_type(value)}", None))
            elif encoded and not is_base64(value):
                hint = "Kubernetes decodes Secret data as base64: put plain text under stringData" if secret else None
                issues.append((path, "is not valid base64", hint))
            elif encoded:
                total += len(value) * 3 // 4
            else:
                total += len(value.encode())
            if over_in is None and total > DATA_MAX:
                over_in = field
    if over_in is not None:
        issues.append(((over_in,), f"the {kind}'s data adds up to more than 1 MiB, the API server's limit", None))


def _issues(manifest: Mapping[str, Any], namespace: str, allowed: Collection[str]) -> list[Issue]:
    """What the API server would refuse about one object (``metadata.name`` is a non-empty string:
    the plan checked that when it read the object)."""
    issues: list[Issue] = []
    kind = manifest["kind"]
    metadata = manifest["metadata"]
    name = metadata["name"]
    why = name_problem(kind, name)
    if why:
        issues.append((("metadata", "name"), f"{_show(name)} {why}", None))
    _check_namespace(issues, kind, name, metadata, namespace, allowed)
    _check_labels(issues, kind, manifest)
    issues.extend(pod_shape_issues(manifest))
    annotations = metadata.get("annotations")
    if annotations:
        if isinstance(annotations, dict):
            _check_annotations(issues, annotations)
        else:
            issues.append((("metadata", "annotations"), f"must be a mapping, not {_type(annotations)}", None))
    if kind in ("Secret", "ConfigMap") and manifest.get("apiVersion") == "v1":
        _check_data(issues, kind, manifest)
    return issues


def check_object(obj: KubeObject, *, namespace: str, allowed_namespaces: Collection[str] = ()) -> list[PlanError]:
    """Everything the API server would refuse about one (finished) object."""
    return check_objects([obj], namespace=namespace, allowed_namespaces=allowed_namespaces)


def check_objects(
    objects: Iterable[KubeObject], *, namespace: str, allowed_namespaces: Collection[str] = ()
) -> list[PlanError]:
    """Every problem the API server would refuse in ``objects``, in order, each located at its
    field's line: names per kind, labels, annotations, Secret and ConfigMap data, and an explicit
    ``metadata.namespace`` (or a Namespace object) other than the stack's ``namespace`` unless it
    is in ``allowed_namespaces`` (what the item declares).

    Give it objects after the stack's namespace was set on them (the plan's finished objects).
    """
    texts: dict[Path, str | None] = {}
    problems: list[PlanError] = []
    for obj in objects:
        for path, message, hint in _issues(obj.manifest, namespace, allowed_namespaces):
            problems.append(object_problem(obj, path, message, hint=hint, texts=texts))
    return problems


def ensure_accepted(objects: Iterable[KubeObject], *, namespace: str, allowed_namespaces: Collection[str] = ()) -> None:
    """Raise every problem :func:`check_objects` finds (a CombinedError when there are several)."""
    problems: list[CodexError] = [*check_objects(objects, namespace=namespace, allowed_namespaces=allowed_namespaces)]
    raise_all(problems)
