"""A test double of the Kubernetes API server's ValidatingAdmissionPolicy step, on the CEL
project's own runtime (``cel-expr-python``, cel-cpp underneath).

What it models, and where Kubernetes defines it (docs: kubernetes.io/docs/reference/
access-authn-authz/validating-admission-policy/; API: ``admissionregistration.k8s.io/v1``
types, as the kubernetes-client docs ``V1ValidatingAdmissionPolicySpec.md``,
``V1ValidatingAdmissionPolicyBindingSpec.md``, ``V1ParamRef.md`` and ``V1MatchResources.md``
copy them from the Go types):

- ``matchConstraints.resourceRules``: group, version, operation and resource must match; a
  subresource (``pods/ephemeralcontainers``) matches only when listed as ``resource/sub``;
  ``namespaceSelector`` ``matchLabels`` must be a subset of the namespace's labels.
- ``matchConditions`` see ``params`` but not ``variables``; any false skips the policy; an error
  with none false falls to ``failurePolicy`` (``Fail``: the request is refused).
- ``variables`` in order, each seeing the earlier ones; Kubernetes evaluates them lazily, so a
  variable that fails refuses the request only when an expression uses it — here a failed
  variable is left out of the ``variables`` map, and using it fails the same way.
- ``validations``: false refuses with ``messageExpression`` when it gives a non-blank single-line
  string, else ``message``; an error refuses too (``failurePolicy: Fail``).
- ``paramRef``: the named object of ``paramKind`` (in ``namespace`` when given); none found and
  ``parameterNotFoundAction: Deny`` refuses every matched request.
- The CEL environment: Kubernetes compiles ``object``/``oldObject``/``params`` as ``dyn``,
  and 1.30 adds optional types and the strings extension (v2) to standard CEL
  (``k8s.io/apiserver/pkg/cel/environment/base.go``). Functions outside what both Kubernetes
  1.30 and this library know are refused up front by :func:`portable` (the library knows
  more, e.g. ``reverse``, which Kubernetes does not).

Unkind parts kept on: an absent field is an error (not false), errors refuse, and a binding
whose parameter is missing refuses everything it matches.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from cel_expr_python import cel
from cel_expr_python.ext import ext_optional, ext_strings

ROOTS = ("object", "oldObject", "request", "params", "namespaceObject", "variables")
ENV = cel.NewEnv(
    variables=dict.fromkeys(ROOTS, cel.Type.DYN),
    extensions=[ext_strings.ExtStrings(), ext_optional.ExtOptional()],
)

PORTABLE_FUNCTIONS = frozenset(
    {
        # standard CEL macros and functions
        "has",
        "all",
        "exists",
        "exists_one",
        "map",
        "filter",
        "size",
        "startsWith",
        "endsWith",
        "contains",
        "matches",
        "int",
        "uint",
        "double",
        "string",
        "bool",
        # optional types (Kubernetes 1.28+)
        "orValue",
        "hasValue",
        "value",
        "of",
        "none",
        # strings extension v2 (Kubernetes 1.29+)
        "charAt",
        "indexOf",
        "lastIndexOf",
        "lowerAscii",
        "upperAscii",
        "replace",
        "split",
        "substring",
        "trim",
        "join",
    }
)
_STRING = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"")
_CALL = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\s*\(")


def portable(expression: str) -> list[str]:
    """Functions the expression calls that Kubernetes 1.30 or this library lacks."""
    code = _STRING.sub("''", expression)
    return sorted({name for name in _CALL.findall(code) if name not in PORTABLE_FUNCTIONS})


class CelError(Exception):
    """An expression did not compile or failed at run time (what failurePolicy covers)."""


def evaluate(expression: str, data: Mapping[str, Any]) -> Any:
    unportable = portable(expression)
    if unportable:
        raise CelError(f"not portable to Kubernetes 1.30 CEL: {', '.join(unportable)} in {expression}")
    try:
        program = ENV.compile(expression)
    except RuntimeError as error:
        raise CelError(str(error)) from None
    value = program.eval(data=dict(data))
    if value.type() == cel.Type.ERROR:
        raise CelError(str(value.plain_value()))
    return value.plain_value()


@dataclass(frozen=True)
class Request:
    """The attributes of an admission request the policy sees (``request.*``)."""

    operation: str
    group: str
    version: str
    resource: str
    kind: str
    namespace: str
    username: str
    groups: Sequence[str] = ()
    sub_resource: str = ""
    name: str = "x"

    def as_cel(self) -> dict[str, Any]:
        return {
            "operation": self.operation,
            "namespace": self.namespace,
            "name": self.name,
            "kind": {"group": self.group, "version": self.version, "kind": self.kind},
            "resource": {"group": self.group, "version": self.version, "resource": self.resource},
            "subResource": self.sub_resource,
            "userInfo": {"username": self.username, "groups": list(self.groups)},
            "dryRun": False,
        }


@dataclass
class Decision:
    allowed: bool
    matched: bool
    messages: list[str] = field(default_factory=list)


def _rule_matches(rule: Mapping[str, Any], request: Request) -> bool:
    resource = f"{request.resource}/{request.sub_resource}" if request.sub_resource else request.resource
    return (
        (request.group in rule.get("apiGroups", []) or "*" in rule.get("apiGroups", []))
        and (request.version in rule.get("apiVersions", []) or "*" in rule.get("apiVersions", []))
        and (request.operation in rule.get("operations", []) or "*" in rule.get("operations", []))
        and (resource in rule.get("resources", []) or "*" in rule.get("resources", []))
    )


def _selected(selector: Mapping[str, Any] | None, labels: Mapping[str, str]) -> bool:
    if not selector:
        return True
    if set(selector) - {"matchLabels"}:
        raise AssertionError(f"this double models matchLabels only, not {sorted(selector)}")
    return all(labels.get(key) == value for key, value in (selector.get("matchLabels") or {}).items())


def admit(
    policy: Mapping[str, Any],
    binding: Mapping[str, Any],
    *,
    request: Request,
    obj: Mapping[str, Any] | None,
    old: Mapping[str, Any] | None = None,
    namespace: Mapping[str, Any],
    param_objects: Sequence[Mapping[str, Any]] = (),
) -> Decision:
    """What the API server decides for one request under one policy and its binding."""
    spec, binding_spec = policy["spec"], binding["spec"]
    assert binding_spec["policyName"] == policy["metadata"]["name"]
    constraints = spec["matchConstraints"]
    labels = (namespace.get("metadata") or {}).get("labels") or {}
    if not any(_rule_matches(rule, request) for rule in constraints["resourceRules"]):
        return Decision(allowed=True, matched=False)
    if not _selected(constraints.get("namespaceSelector"), labels):
        return Decision(allowed=True, matched=False)
    failure_policy = spec.get("failurePolicy", "Fail")
    params = None
    if "paramKind" in spec:
        ref = binding_spec["paramRef"]
        kind = spec["paramKind"]
        found = [
            item
            for item in param_objects
            if item.get("apiVersion") == kind["apiVersion"]
            and item.get("kind") == kind["kind"]
            and item["metadata"]["name"] == ref["name"]
            and item["metadata"].get("namespace") == ref.get("namespace")
        ]
        if not found:
            if ref["parameterNotFoundAction"] == "Deny":
                return Decision(allowed=failure_policy != "Fail", matched=True, messages=["no params found"])
            return Decision(allowed=True, matched=True)
        params = found[0]
    data: dict[str, Any] = {
        "object": obj,
        "oldObject": old,
        "request": request.as_cel(),
        "params": params,
        "namespaceObject": namespace,
    }
    errors = []
    for condition in spec.get("matchConditions", []):
        try:
            result = evaluate(condition["expression"], data)
        except CelError as error:
            errors.append(str(error))
            continue
        if result is False:
            return Decision(allowed=True, matched=False)
    if errors:
        return Decision(allowed=failure_policy != "Fail", matched=True, messages=errors)
    variables: dict[str, Any] = {}
    for variable in spec.get("variables", []):
        try:
            variables[variable["name"]] = evaluate(variable["expression"], {**data, "variables": variables})
        except CelError:
            continue  # lazily evaluated in Kubernetes: fails only where used
    data["variables"] = variables
    messages = []
    for validation in spec.get("validations", []):
        try:
            passed = evaluate(validation["expression"], data) is True
        except CelError as error:
            messages.append(f"error: {error}")
            continue
        if passed:
            continue
        message = validation.get("message") or f"failed expression: {validation['expression']}"
        if "messageExpression" in validation:
            try:
                text = evaluate(validation["messageExpression"], data)
            except CelError:
                text = None
            if isinstance(text, str) and text.strip() and "\n" not in text:
                message = text
        messages.append(message)
    refused = bool(messages) and "Deny" in binding_spec["validationActions"]
    if any(message.startswith("error: ") for message in messages) and failure_policy != "Fail":
        refused = any(not message.startswith("error: ") for message in messages)
    return Decision(allowed=not refused, matched=True, messages=messages)
