"""What the API server would refuse (codex_stacks.plan.kube_rules), checked before registering.

Expected verdicts come from the Kubernetes rules themselves (the docs' "Object Names and IDs",
"Labels and Selectors", the Secret and ConfigMap references), not from the module's regexes.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from codex_stacks.errors import CombinedError
from codex_stacks.plan import PlanRequest, build_plan
from codex_stacks.plan.kube_rules import check_objects, ensure_accepted, is_base64, name_problem
from codex_stacks.plan.objects import KubeObject
from tests.conftest import MakeProject

NAMESPACE = "demo-dev"


def _object(manifest: Mapping[str, Any], line: int = 1) -> KubeObject:
    manifest = dict(manifest)
    metadata = dict(manifest.get("metadata") or {})
    if manifest["kind"] not in ("Namespace", "ClusterRole"):  # what the plan does: the stack's namespace
        metadata.setdefault("namespace", NAMESPACE)
    manifest["metadata"] = metadata
    return KubeObject(manifest=manifest, source=Path("/nowhere/web.yaml"), line=line)


def _messages(manifest: Mapping[str, Any], *, allowed: tuple[str, ...] = ()) -> list[str]:
    return [
        error.message for error in check_objects([_object(manifest)], namespace=NAMESPACE, allowed_namespaces=allowed)
    ]


@pytest.mark.parametrize(
    ("kind", "name", "accepted"),
    [
        ("ConfigMap", "app.config-1", True),  # a DNS subdomain may have dots
        ("ConfigMap", "App", False),
        ("ConfigMap", "-app", False),
        ("ConfigMap", "app-", False),
        ("ConfigMap", "a" * 253, True),
        ("ConfigMap", "a" * 254, False),
        ("Secret", "tls_cert", False),
        ("Namespace", "team-a", True),
        ("Namespace", "team.a", False),  # a namespace is a DNS label: no dots
        ("Namespace", "n" * 64, False),
        ("Service", "web", True),
        ("Service", "1web", False),  # a Service name is a DNS-1035 label: a letter first
        ("Service", "web.internal", False),
        ("Deployment", "9lives", True),
        ("CronJob", "c" * 52, True),
        ("CronJob", "c" * 53, False),
        ("Job", "j" * 63, True),
        ("Job", "j" * 64, False),
        ("ClusterRole", "system:aggregate-to-edit", True),  # RBAC names are path segments
        ("RoleBinding", "Read Only", True),
        ("Role", "a/b", False),
        ("Role", "..", False),
        ("Role", "50%", False),
        ("Certificate", "Web", False),  # custom resources: DNS subdomains
    ],
)
def test_names_per_kind(kind: str, name: str, accepted: bool) -> None:
    assert (name_problem(kind, name) is None) == accepted


@pytest.mark.parametrize(
    ("labels", "problems"),
    [
        ({"app": "web", "app.kubernetes.io/name": "web", "tier": "", "v": "1.2_3-x"}, 0),
        ({"app": "web app"}, 1),
        ({"app": "v" * 63}, 0),
        ({"app": "v" * 64}, 1),
        ({"app": "-web"}, 1),
        ({"a/b/c": "x"}, 1),
        ({"/name": "x"}, 1),
        ({"Example.com/name": "x"}, 1),  # the prefix is a DNS subdomain: lowercase
        ({"example.com/Name_1": "x"}, 0),
        ({"version": 1.0}, 1),  # not a string: YAML reads 1.0 as a number
        ({"enabled": True}, 1),
    ],
)
def test_labels(labels: dict[str, Any], problems: int) -> None:
    assert len(_messages({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "web", "labels": labels}})) == (
        problems
    )


def test_pod_template_and_selector_labels_are_labels_too() -> None:
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web"},
        "spec": {
            "selector": {"matchLabels": {"app": "web app"}},
            "template": {"metadata": {"labels": {"app": "web app"}}, "spec": {"containers": []}},
        },
    }
    assert [message.split(": ")[1] for message in _messages(deployment)] == [
        "spec.template.metadata.labels.app",
        "spec.selector.matchLabels.app",
    ]


def test_annotations_keys_and_total_size() -> None:
    def configmap(annotations: dict[str, Any]) -> dict[str, Any]:
        return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "web", "annotations": annotations}}

    assert _messages(configmap({"Example.COM/Note": "free text, any: characters\n"})) == []  # keys are lowercased
    assert len(_messages(configmap({"bad key": "x"}))) == 1
    assert len(_messages(configmap({"count": 3}))) == 1
    assert _messages(configmap({"a": "x" * (256 * 1024 - 1)})) == []
    assert len(_messages(configmap({"a": "x" * (256 * 1024)}))) == 1


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("aGk=", True),
        ("", True),
        ("aGVsbG8gd29ybGQ=\n", True),
        ("aGk", False),
        ("hunter2!", False),
        ("aGk=aGk=", False),
    ],
)
def test_secret_data_is_standard_padded_base64(value: str, valid: bool) -> None:
    assert is_base64(value) == valid


def test_secret_problems_name_keys_never_values() -> None:
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "api"},
        "data": {"TOKEN": "plain-text-password!", "bad key": "aGk=", "NUMBER": 12345},
        "stringData": {"LIST": ["item-secret-1"], "OK": "fine"},
    }
    messages = _messages(secret)
    assert messages == [
        "Secret/demo-dev/api: data.TOKEN: is not valid base64",
        "Secret/demo-dev/api: data.bad key: key 'bad key' must be letters, digits, '-', '_' and '.' (at most 253)",
        "Secret/demo-dev/api: data.NUMBER: must be a string, not a number",
        "Secret/demo-dev/api: stringData.LIST: must be a string, not a list",
    ]
    text = "\n".join(messages)
    for value in ("plain-text-password!", "item-secret-1", "12345"):
        assert value not in text


def test_configmaps_strings_one_key_one_place_and_one_mebibyte() -> None:
    def configmap(**fields: Any) -> dict[str, Any]:
        return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "web"}, **fields}

    assert _messages(configmap(data={"PORT": "8080", "empty": None}, binaryData={"logo": "aGk="})) == []
    assert _messages(configmap(data={"PORT": 8080})) == [
        "ConfigMap/demo-dev/web: data.PORT: must be a string, not a number"
    ]
    assert len(_messages(configmap(data={"a": "x"}, binaryData={"a": "aGk="}))) == 1
    assert _messages(configmap(data={"big": "x" * (1 << 20)})) == []
    assert len(_messages(configmap(data={"big": "x" * (1 << 20), "more": "x"}))) == 1


def test_namespaces_other_than_the_stacks_need_the_item_to_declare_them() -> None:
    other = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "coredns", "namespace": "kube-system"}}
    assert _messages(other) == [
        "ConfigMap/kube-system/coredns: metadata.namespace: 'kube-system' is not the stack's namespace (demo-dev)"
    ]
    assert _messages(other, allowed=("kube-system",)) == []
    assert len(_messages(other, allowed=("monitoring",))) == 1
    cluster_wide = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "reader"}}
    assert _messages(cluster_wide) == []
    own = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}}
    assert _messages(own) == []
    created = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "monitoring"}}
    assert len(_messages(created)) == 1
    assert _messages(created, allowed=("monitoring",)) == []


def test_every_problem_is_raised_together() -> None:
    objects = [
        _object({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "A"}}),
        _object({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "ok"}}),
        _object({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "B"}}),
    ]
    with pytest.raises(CombinedError) as info:
        ensure_accepted(objects, namespace=NAMESPACE)
    assert [problem.message.split(":")[0] for problem in info.value.problems] == [
        "ConfigMap/demo-dev/A",
        "ConfigMap/demo-dev/B",
    ]
    ensure_accepted(objects[1:2], namespace=NAMESPACE)  # nothing to say: no error


SERVICES = """\
project: demo
environments:
  dev: {}
  cluster: {scope: cluster}  # only the cluster stack may own objects of other namespaces (docs/security.md)
infrastructure:
  - name: base
    manifests:
      - path: ns.yaml
  - name: cluster-dns
    namespaces: [kube-system]
    manifests:
      - path: dns.yaml
"""


def test_a_plan_may_use_the_namespaces_its_items_declare(make_project: MakeProject) -> None:
    files = {
        "ns.yaml": "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: '{{ namespace }}'\n",
        "dns.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: coredns\n  namespace: kube-system\n",
    }
    project = make_project(SERVICES, files)
    plan = build_plan(PlanRequest(stack="cluster", project_dir=project))
    own = [
        obj.key for component in plan.components if component.kind == "InfrastructureGroup" for obj in component.objects
    ]
    assert own == ["Namespace/codex-system", "ConfigMap/kube-system/coredns"]
    undeclared = make_project(SERVICES.replace("    namespaces: [kube-system]\n", ""), files)
    with pytest.raises(Exception, match="'kube-system' is not the stack's namespace") as info:
        build_plan(PlanRequest(stack="cluster", project_dir=undeclared))
    assert info.value.location.line == 5  # type: ignore[attr-defined]
