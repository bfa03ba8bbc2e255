"""What the API server would refuse (codex_stacks/plan/kube_rules.py), each error whole; the
table's conventions are those of test_error_messages.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from codex_stacks.plan import PlanRequest, build_plan
from tests.plan.test_error_messages import NS, OBJ_SERVICES, check_plan_error, meta, obj_case, write

SUBDOMAIN = "must be lowercase letters, digits, '-' and '.', starting and ending with a letter or digit"
LABEL = "must be lowercase letters, digits and '-', starting and ending with a letter or digit"
QUALIFIED = "letters, digits, '-', '_' and '.', starting and ending with a letter or digit"


OBJECTS = [
    obj_case(
        meta("ConfigMap", "Bad_Name"),
        f"<root>/obj.yaml:4: ConfigMap/demo-dev/Bad_Name: metadata.name: 'Bad_Name' {SUBDOMAIN}",
        id="name-not-a-subdomain",
    ),
    obj_case(
        meta("ConfigMap", "a" * 254),
        f"<root>/obj.yaml:4: ConfigMap/demo-dev/{'a' * 254}: metadata.name: '{'a' * 40}'… (254 characters) "
        "must be at most 253 characters",
        id="name-254-characters",
    ),
    obj_case(
        meta("Namespace", "Other_NS"),
        f"<root>/obj.yaml:4: Namespace/Other_NS: metadata.name: 'Other_NS' {LABEL}\n"
        "<root>/obj.yaml:4: Namespace/Other_NS: metadata.name: creates namespace 'Other_NS', not the stack's "
        "(demo-dev)\n"
        "  hint: if the item means to, declare it on the item: namespaces: [Other_NS]",
        id="namespace-name-and-not-the-stacks",
    ),
    obj_case(
        meta("Namespace", "n" * 64),
        f"<root>/obj.yaml:4: Namespace/{'n' * 64}: metadata.name: '{'n' * 40}'… (64 characters) must be at most 63 "
        f"characters\n"
        f"<root>/obj.yaml:4: Namespace/{'n' * 64}: metadata.name: creates namespace '{'n' * 40}'… (64 characters), "
        "not the stack's (demo-dev)\n"
        f"  hint: if the item means to, declare it on the item: namespaces: [{'n' * 64}]",
        id="namespace-name-64-characters",
    ),
    obj_case(
        meta("Service", "1web"),
        "<root>/obj.yaml:4: Service/demo-dev/1web: metadata.name: '1web' must be lowercase letters, digits and '-', "
        "starting with a letter and ending with a letter or digit",
        id="service-name-starts-with-a-digit",
    ),
    obj_case(
        meta("Service", "s" * 64),
        f"<root>/obj.yaml:4: Service/demo-dev/{'s' * 64}: metadata.name: '{'s' * 40}'… (64 characters) must be at "
        "most 63 characters",
        id="service-name-64-characters",
    ),
    obj_case(
        meta("CronJob", "c" * 53, api="batch/v1"),
        f"<root>/obj.yaml:4: CronJob/demo-dev/{'c' * 53}: metadata.name: '{'c' * 40}'… (53 characters) must be at "
        "most 52 characters (its Jobs get an 11-character suffix)",
        id="cronjob-name-53-characters",
    ),
    obj_case(
        meta("Job", "j" * 64, api="batch/v1"),
        f"<root>/obj.yaml:4: Job/demo-dev/{'j' * 64}: metadata.name: '{'j' * 40}'… (64 characters) must be at most "
        "63 characters (it is also the value of its pods' job-name label)",
        id="job-name-64-characters",
    ),
    obj_case(
        meta("Role", "a/b%c", api="rbac.authorization.k8s.io/v1"),
        "<root>/obj.yaml:4: Role/demo-dev/a/b%c: metadata.name: 'a/b%c' may not contain '/' or '%'",
        id="role-name-slash-and-percent",
    ),
    obj_case(
        meta("Role", "'..'", api="rbac.authorization.k8s.io/v1"),
        "<root>/obj.yaml:4: Role/demo-dev/..: metadata.name: '..' may not be '..'",
        id="role-name-dot-dot",
    ),
    obj_case(
        meta("ConfigMap", "c", "  namespace: 5\n"),
        "<root>/obj.yaml:5: ConfigMap/5/c: metadata.namespace: must be a string, not a number",
        id="namespace-a-number",
    ),
    obj_case(
        meta("ConfigMap", "c", "  namespace: Bad_NS\n"),
        f"<root>/obj.yaml:5: ConfigMap/Bad_NS/c: metadata.namespace: 'Bad_NS' {LABEL}",
        id="namespace-invalid",
    ),
    obj_case(
        meta("ConfigMap", "c", "  namespace: elsewhere\n"),
        "<root>/obj.yaml:5: ConfigMap/elsewhere/c: metadata.namespace: 'elsewhere' is not the stack's namespace "
        "(demo-dev)\n"
        "  hint: if the item means to, declare it on the item: namespaces: [elsewhere]",
        id="namespace-not-declared",
    ),
    obj_case(
        meta(
            "ConfigMap",
            "c",
            "  labels:\n    a/b/c: x\n    /x: y\n    Bad_Prefix/x: y\n    example.com/: y\n"
            f"    {'k' * 64}: y\n    -x: y\n    1: y\n    ok: 5\n    v: -bad\n    w: {'w' * 64}\n",
        ),
        "\n".join(
            f"<root>/obj.yaml:{line}: ConfigMap/demo-dev/c: metadata.labels.{text}"
            for line, text in [
                (6, "a/b/c: label key 'a/b/c' may have at most one '/'"),
                (7, "/x: label key '/x' has an empty prefix before '/'"),
                (8, f"Bad_Prefix/x: label key 'Bad_Prefix/x' prefix {SUBDOMAIN}"),
                (9, "example.com/: label key 'example.com/' has an empty name"),
                (10, f"{'k' * 64}: label key '{'k' * 40}'… (64 characters) name part must be at most 63 characters"),
                (11, f"-x: label key '-x' name part must be {QUALIFIED}"),
                (12, "1: label key '1' must be a string"),
                (13, "ok: a label value must be a string, not a number (quote it)"),
                (14, f"v: label value '-bad' must be empty or {QUALIFIED}"),
                (15, f"w: label value '{'w' * 40}'… (64 characters) must be at most 63 characters"),
            ]
        ),
        id="labels",
    ),
    obj_case(
        meta("Service", "web", "spec:\n  selector:\n    app: -x\n"),
        f"<root>/obj.yaml:7: Service/demo-dev/web: spec.selector.app: label value '-x' must be empty or {QUALIFIED}",
        id="service-selector",
    ),
    obj_case(
        meta("ConfigMap", "c", "  annotations:\n    Bad Key: x\n    n: 5\n    2: x\n"),
        f"<root>/obj.yaml:6: ConfigMap/demo-dev/c: metadata.annotations.Bad Key: annotation key 'Bad Key' name part "
        f"must be {QUALIFIED}\n"
        "<root>/obj.yaml:7: ConfigMap/demo-dev/c: metadata.annotations.n: an annotation value must be a string, not "
        "a number (quote it)\n"
        "<root>/obj.yaml:8: ConfigMap/demo-dev/c: metadata.annotations.2: annotation key '2' must be a string",
        id="annotations",
    ),
    obj_case(
        meta("ConfigMap", "c", "  annotations: [a]\n"),
        "<root>/obj.yaml:5: ConfigMap/demo-dev/c: metadata.annotations: must be a mapping, not a list",
        id="annotations-a-list",
    ),
    obj_case(
        meta("ConfigMap", "c", f"  annotations:\n    k: {'v' * (256 * 1024)}\n"),
        "<root>/obj.yaml:5: ConfigMap/demo-dev/c: metadata.annotations: add up to 262145 bytes; at most 262144",
        id="annotations-one-byte-over-256KiB",
    ),
    obj_case(
        meta("Secret", "s", "data:\n  bad key: eA==\n  n: 5\n  plain: not base64!\nstringData:\n  t: [x]\n"),
        "<root>/obj.yaml:6: Secret/demo-dev/s: data.bad key: key 'bad key' must be letters, digits, '-', '_' and '.' "
        "(at most 253)\n"
        "<root>/obj.yaml:7: Secret/demo-dev/s: data.n: must be a string, not a number\n"
        "<root>/obj.yaml:8: Secret/demo-dev/s: data.plain: is not valid base64\n"
        "  hint: Kubernetes decodes Secret data as base64: put plain text under stringData\n"
        "<root>/obj.yaml:10: Secret/demo-dev/s: stringData.t: must be a string, not a list",
        id="secret-data",
    ),
    obj_case(
        meta("Secret", "s", "stringData: [x]\n"),
        "<root>/obj.yaml:5: Secret/demo-dev/s: stringData: must be a mapping of keys to strings, not a list",
        id="secret-string-data-a-list",
    ),
    obj_case(
        meta("ConfigMap", "c", 'binaryData:\n  k: eA==\n  b: "%%"\ndata:\n  k: x\n'),
        "<root>/obj.yaml:7: ConfigMap/demo-dev/c: binaryData.b: is not valid base64\n"
        "<root>/obj.yaml:9: ConfigMap/demo-dev/c: data.k: key 'k' is in both binaryData and data",
        id="configmap-binary-data",
    ),
    obj_case(
        meta("ConfigMap", "c", f"data:\n  big: {'x' * (1024 * 1024 + 1)}\n"),
        "<root>/obj.yaml:5: ConfigMap/demo-dev/c: data: the ConfigMap's data adds up to more than 1 MiB, the API "
        "server's limit",
        id="configmap-data-one-byte-over-1MiB",
    ),
    obj_case(
        meta("Secret", "s", f"data:\n  big: {'QUJD' * (1024 * 1024 // 3 + 1)}\n"),
        "<root>/obj.yaml:5: Secret/demo-dev/s: data: the Secret's data adds up to more than 1 MiB, the API server's "
        "limit",
        id="secret-data-over-1MiB",
    ),
]


POD = "spec:\n  template:\n    spec:\n"
"""Lines 5-7 of a workload: its pod template's spec; its fields start at line 8."""
OBJECTS += [
    obj_case(
        meta("Deployment", "web", "spec:\n  template: [x]\n", api="apps/v1"),
        "<root>/obj.yaml:6: Deployment/demo-dev/web: spec.template: must be a mapping, not a list",
        id="pod-template-a-list",
    ),
    obj_case(
        meta("Deployment", "web", POD + "      containers: web\n      initContainers: [a]\n", api="apps/v1"),
        "<root>/obj.yaml:8: Deployment/demo-dev/web: spec.template.spec.containers: must be a list of mappings, "
        "not a string\n"
        "<root>/obj.yaml:9: Deployment/demo-dev/web: spec.template.spec.initContainers: must be a list of mappings, "
        "not a list holding a string",
        id="pod-containers-not-a-list-of-mappings",
    ),
    obj_case(
        meta(
            "Deployment",
            "web",
            POD + "      containers:\n        - name: c\n          volumeMounts: {a: b}\n",
            api="apps/v1",
        ),
        "<root>/obj.yaml:10: Deployment/demo-dev/web: spec.template.spec.containers.0.volumeMounts: must be a list "
        "of mappings, not a mapping",
        id="container-volume-mounts-a-mapping",
    ),
]


@pytest.mark.parametrize(("services", "files", "stack", "config", "expected"), OBJECTS)
def test_plan_errors(
    tmp_path: Path, services: str, files: dict[str, str], stack: str, config: dict[str, object], expected: str
) -> None:
    check_plan_error(tmp_path, services, files, stack, config, expected)


INSIDE_THE_BOUNDS = {
    "ns.yaml": NS,
    "names.yaml": "---\n".join(
        [
            meta("ConfigMap", "a" * 253, f"  labels:\n    {'k' * 63}: {'v' * 63}\n"),
            meta("Service", "s" * 63),
            meta("CronJob", "c" * 52, api="batch/v1"),
            meta("Job", "j" * 63, api="batch/v1"),
        ]
    ),
    "data.yaml": meta("ConfigMap", "big", f"data:\n  big: {'x' * (1024 * 1024)}\n"),
    "notes.yaml": meta("ConfigMap", "notes", f"  annotations:\n    k: {'v' * (256 * 1024 - 1)}\n"),
    "secret.yaml": meta("Secret", "s", f"data:\n  big: {'QUJD' * (1024 * 1024 // 3)}\n"),
}


def test_objects_just_inside_the_api_servers_bounds_plan(tmp_path: Path) -> None:
    """One byte, one character less than each case over a bound above (each file its own render)."""
    manifests = ", ".join(f"{{path: {name}}}" for name in INSIDE_THE_BOUNDS)
    services = OBJ_SERVICES.replace("[{path: ns.yaml}, {path: obj.yaml}]", f"[{manifests}]")
    root = write(tmp_path / "p", services, INSIDE_THE_BOUNDS)
    assert len(build_plan(PlanRequest(stack="dev", project_dir=root)).component("base").objects) == 8
