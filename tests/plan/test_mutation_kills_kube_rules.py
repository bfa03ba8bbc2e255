"""What the API server would refuse, said before deploy (codex_stacks.plan.kube_rules): each
problem names the object, the field path and the rule.

The rules are Kubernetes' own ("Object Names and IDs", "Labels and Selectors", "Annotations" in
the Kubernetes docs): names of most kinds are DNS-1123 subdomains, a namespace is a string, label
values in a Service's ``spec.selector`` follow the label rules, annotation keys are strings.
Written against mutants of kube_rules.py that lived (issue #19).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from codex_stacks.plan.kube_rules import check_object, check_objects
from codex_stacks.plan.objects import KubeObject

NAMESPACE = "demo-dev"


def obj(kind: str, metadata: dict[str, Any], **fields: Any) -> KubeObject:
    api = "v1"
    return KubeObject(
        manifest={"apiVersion": api, "kind": kind, "metadata": metadata, **fields},
        source=Path("/project/deploy/app.yaml"),
        line=0,
    )


def messages(item: KubeObject) -> list[str]:
    return [problem.message for problem in check_objects([item], namespace=NAMESPACE)]


def test_a_name_with_capitals_is_explained() -> None:
    found = messages(obj("ConfigMap", {"name": "Settings", "namespace": NAMESPACE}))
    assert found == [
        f"ConfigMap/{NAMESPACE}/Settings: metadata.name: 'Settings' must be lowercase letters, digits, '-' and '.', "
        "starting and ending with a letter or digit"
    ]


def test_a_namespace_that_is_not_a_string_is_named_at_metadata_namespace() -> None:
    found = messages(obj("ConfigMap", {"name": "settings", "namespace": 7}))
    assert len(found) == 1
    assert ": metadata.namespace: must be a string, not a number" in found[0]


def test_annotations_that_are_not_a_mapping_are_named_at_metadata_annotations() -> None:
    found = messages(obj("ConfigMap", {"name": "settings", "namespace": NAMESPACE, "annotations": ["a"]}))
    assert found == [f"ConfigMap/{NAMESPACE}/settings: metadata.annotations: must be a mapping, not a list"]


def test_an_annotation_key_that_is_not_a_string_is_refused() -> None:
    """YAML reads ``1: x`` as a number key; the API's annotations are map[string]string."""
    found = messages(obj("ConfigMap", {"name": "settings", "namespace": NAMESPACE, "annotations": {1: "x"}}))
    assert found == [f"ConfigMap/{NAMESPACE}/settings: metadata.annotations.1: annotation key '1' must be a string"]


def test_a_service_selector_value_follows_the_label_rules() -> None:
    service = obj(
        "Service",
        {"name": "web", "namespace": NAMESPACE},
        spec={"selector": {"app": "web frontend"}, "ports": [{"port": 80}]},
    )
    found = messages(service)
    assert len(found) == 1
    assert found[0].startswith(f"Service/{NAMESPACE}/web: spec.selector.app: label value 'web frontend' ")


def test_one_object_checked_alone_honours_the_namespaces_its_item_declares() -> None:
    namespace = obj("Namespace", {"name": "team-tools"})
    assert check_object(namespace, namespace=NAMESPACE, allowed_namespaces=("team-tools",)) == []
    (problem,) = check_object(namespace, namespace=NAMESPACE)
    assert "creates namespace 'team-tools', not the stack's (demo-dev)" in problem.message
