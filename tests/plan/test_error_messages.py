"""Every error the planner shows a user, whole: where (file:line and key path), what, and the hint.

One table per part of codex_stacks/plan. Each case is a small project (services.yaml and its
manifests) or a stack setting, planned through ``build_plan`` like ``codexctl`` does, and the
text the user reads, written out by hand from that input. ``<root>`` stands for the project
folder. A CombinedError prints one problem per line. The table doubles as a catalogue of what
users see (issue #19: a changed message, hint or location must fail a test).
"""

from __future__ import annotations

import base64
import gzip
import json
import textwrap
from pathlib import Path

import pytest

from codex_stacks.errors import CodexError
from codex_stacks.plan import ComponentPlan, PlanRequest, build_plan
from codex_stacks.plan.adoption import force_conflicts
from codex_stacks.plan.check import check_everything
from codex_stacks.plan.filters import NameFilters
from codex_stacks.plan.store import StoredPlan, dump, load, stored_part, with_stored

NS = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {{ namespace }}\n"

BASE = """\
project: demo
maxSlots: 3
environments:
  dev: {}
  ai: {}
infrastructure:
  - name: base
    manifests:
      - path: ns.yaml
services: []
"""
"""Lines: 1 project, 2 maxSlots, 3 environments, 4 dev, 5 ai, 6 infrastructure, 7 base,
8 manifests, 9 its path, 10 services."""


def write(folder: Path, services: str, files: dict[str, str]) -> Path:
    folder.mkdir()
    (folder / "services.yaml").write_text(textwrap.dedent(services), encoding="utf-8")
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def shown(error: CodexError, root: Path) -> str:
    return str(error).replace(str(root), "<root>")


def plan_failure(root: Path, stack: str, config: dict[str, object]) -> str:
    with pytest.raises(CodexError) as info:
        build_plan(PlanRequest(stack=stack, project_dir=root, **config))  # type: ignore[arg-type]
    return shown(info.value, root)


def case(
    expected: str,
    *,
    id: str,
    services: str = BASE,
    files: dict[str, str] | None = None,
    stack: str = "dev",
    **config: object,
) -> object:
    return pytest.param(services, {"ns.yaml": NS} if files is None else files, stack, config, expected, id=id)


def edited(old: str, new: str, services: str = BASE) -> str:
    assert old in services
    return services.replace(old, new, 1)


# ---------------------------------------------------------------------------------------------- the stack (target.py)

STACKS = [
    case(
        "codex:mode: unknown mode 'fix'\n"
        "  hint: codex:mode in the stack config (or codexctl's --mode) is 'normal' or 'repair'",
        id="mode-unknown",
        mode="fix",
    ),
    case(
        "<root>/services.yaml:3: environments: stack 'prod' means environment 'prod', which services.yaml does not "
        "define\n"
        "  hint: known environments: ai, dev; slot stacks are named ai-slot-<N>; or set codex:env in the stack "
        "config (stacks/Pulumi.prod.yaml)",
        id="environment-unknown",
        stack="prod",
    ),
    case(
        "codex:slot: environment 'dev' has no slots (only 'ai' does)\n"
        "  hint: remove codex:slot from the stack config, or use a stack named ai-slot-<N>",
        id="slot-outside-ai",
        slot=2,
    ),
    case(
        "codex:slot: environment 'ai' needs a slot\n"
        "  hint: use a stack named ai-slot-<N>, or set codex:slot in the stack config",
        id="ai-without-slot",
        stack="ai",
    ),
    case("codex:slot: slot 0 is out of range: slots start at 1", id="slot-below-1", stack="ai-slot-0"),
    case(
        "<root>/services.yaml:2: maxSlots: slot 4 is out of range: services.yaml allows maxSlots=3\n"
        "  hint: use a slot from 1 to 3, or raise maxSlots",
        id="slot-over-max",
        stack="ai-slot-4",
    ),
    case(
        "<root>/services.yaml:5: environments.ai.scope: environment 'ai' has slots, so it cannot have scope: cluster\n"
        "  hint: give the cluster-wide objects an environment of their own, e.g. 'cluster'",
        id="ai-with-cluster-scope",
        services=edited("  ai: {}", "  ai: {scope: cluster}"),
        stack="ai-slot-1",
    ),
    case(
        "codex:namespace: the namespace of a scope: cluster environment is always codex-system\n"
        "  hint: remove codex:namespace from stacks/Pulumi.cluster.yaml",
        id="cluster-namespace-set",
        services=edited("  ai: {}", "  ai: {}\n  cluster: {scope: cluster}"),
        stack="cluster",
        namespace="mine",
    ),
    case(
        "<root>/services.yaml:7: environments.fix.mode: environment 'fix' runs only in repair mode, not normal\n"
        "  hint: set codex:mode: repair in the stack config (stacks/Pulumi.fix.yaml), or pass --mode repair to "
        "codexctl",
        id="environment-mode",
        services=edited("  ai: {}", "  ai: {}\n  fix:\n    mode: repair"),
        stack="fix",
    ),
    case(
        "codex:namespace: namespace 'Bad_NS' is not a valid Kubernetes name\n"
        "  hint: lowercase letters, digits and '-', at most 63 characters",
        id="namespace-config-invalid",
        namespace="Bad_NS",
    ),
    case(
        f"codex:namespace: namespace {'n' * 64!r} is not a valid Kubernetes name\n"
        "  hint: lowercase letters, digits and '-', at most 63 characters",
        id="namespace-config-64-characters",
        namespace="n" * 64,
    ),
    case(
        f"<root>/services.yaml:1: project: namespace '{'d' * 60}-dev' is not a valid Kubernetes name\n"
        "  hint: lowercase letters, digits and '-', at most 63 characters",
        id="namespace-of-the-project-64-characters",
        services=edited("project: demo", f"project: {'d' * 60}"),
    ),
    case(
        "<root>/services.yaml:5: namespace.patterns.dev: namespace 'Demo-dev' is not a valid Kubernetes name\n"
        "  hint: lowercase letters, digits and '-', at most 63 characters",
        id="namespace-pattern-invalid",
        services=edited("maxSlots: 3\n", 'maxSlots: 3\nnamespace:\n  patterns:\n    dev: "Demo-{{ env }}"\n'),
    ),
    case(
        "<root>/services.yaml:12: dataPaths.root: data root '/' is not allowed\n"
        "  hint: dataPaths.root must be an absolute folder other than /",
        id="data-root-slash",
        services=edited("services: []\n", "services: []\ndataPaths:\n  root: /\n"),
    ),
    case(
        "<root>/services.yaml:13: dataPaths.envDir: data folder '/srv/other' is not inside the data root '/srv/data'\n"
        "  hint: dataPaths.envDir must be a sub-folder of dataPaths.root",
        id="data-env-dir-outside",
        services=edited("services: []\n", "services: []\ndataPaths:\n  root: /srv/data\n  envDir: /srv/other\n"),
    ),
]


# --------------------------------------------------------------------------------------------- manifests (objects.py)

CM = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n"
MANIFESTS = [
    case(
        "infrastructure[0].manifests[0].path: manifest path '../outside.yaml' leaves the project folder\n"
        "  hint: manifest paths are relative to the folder of services.yaml",
        id="manifest-path-leaves",
        services=edited("path: ns.yaml", "path: ../outside.yaml"),
    ),
    case(
        "<root>/ns.yaml: infrastructure[0].manifests[0].path: file not found\n  hint: check the manifests[].path entry",
        id="manifest-missing",
        files={},
    ),
    case(
        "<root>/ns.yaml:1: a manifest document must be a mapping (a Kubernetes object), not list",
        id="document-a-list",
        files={"ns.yaml": "- just\n- a list\n"},
    ),
    case(
        "<root>/ns.yaml:6: the object has no 'apiVersion'",
        id="no-api-version",
        files={"ns.yaml": NS + "---\nkind: ConfigMap\nmetadata:\n  name: c\n"},
    ),
    case(
        "<root>/ns.yaml:1: the object has no 'kind'",
        id="empty-kind",
        files={"ns.yaml": 'apiVersion: v1\nkind: ""\nmetadata:\n  name: c\n'},
    ),
    case(
        "<root>/ns.yaml:1: the ConfigMap has no metadata.name\n"
        "  hint: generateName is not supported: Pulumi needs a stable name per object",
        id="generate-name",
        files={"ns.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  generateName: c-\n"},
    ),
]

# --------------------------------------------------------------------------------------- items (build.py, filters.py)

TWO = edited("services: []", "  - name: other\n    manifests:\n      - path: cm.yaml\nservices: []")
"""BASE with a second group at lines 10-12 (``other``, manifest cm.yaml); services at line 13."""
ITEMS = [
    case(
        "<root>/services.yaml:13: repair.infrastructure[0]: repair.infrastructure names unknown infrastructure "
        "group 'bsae'",
        id="repair-infrastructure-unknown",
        services=BASE + "repair:\n  infrastructure:\n    - bsae\n",
        mode="repair",
    ),
    case(
        "<root>/services.yaml:13: repair.services[0]: repair.services names unknown service 'web'",
        id="repair-services-unknown",
        services=BASE + "repair:\n  services:\n    - web\n",
    ),
    case(
        "<root>/services.yaml:5: environments.ai.slotBootstrapInfra[0]: environments.ai.slotBootstrapInfra names "
        "unknown infrastructure group 'nope'",
        id="slot-bootstrap-unknown",
        services=edited("  ai: {}", "  ai: {slotBootstrapInfra: [nope]}"),
        stack="ai-slot-1",
    ),
    case(
        "<root>/services.yaml:4: environments.dev.slotBootstrapInfra[0]: environments.dev.slotBootstrapInfra names "
        "unknown infrastructure group 'nope'",
        id="slot-bootstrap-unknown-inherited",
        services=edited("  dev: {}\n  ai: {}", "  dev: {slotBootstrapInfra: [nope]}\n  ai: {from: dev}"),
        stack="ai-slot-1",
    ),
    case(
        "<root>/services.yaml:11: infrastructure[0].dependsOn[0]: base: an item cannot depend on itself",
        id="depends-on-itself",
        services=edited("services: []", "    dependsOn:\n      - base\nservices: []"),
    ),
    case(
        "<root>/services.yaml:11: infrastructure[0].dependsOn[0]: base: dependsOn names unknown item 'bsae'\n"
        "  hint: did you mean 'base'?",
        id="depends-on-typo",
        services=edited("services: []", "    dependsOn:\n      - bsae\nservices: []"),
    ),
    case(
        "<root>/services.yaml:11: infrastructure[0].dependsOn[0]: base: dependsOn names unknown item 'zzz'",
        id="depends-on-unknown",
        services=edited("services: []", "    dependsOn:\n      - zzz\nservices: []"),
    ),
    case(
        "<root>/services.yaml:10: infrastructure[0].dependsOn: dependsOn forms a cycle: base -> other -> base\n"
        "  hint: remove one of these dependsOn entries",
        id="depends-on-cycle",
        services=edited(
            "      - path: cm.yaml\n",
            "      - path: cm.yaml\n    dependsOn: [base]\n",
            edited("  - name: other", "    dependsOn: [other]\n  - name: other", TWO),
        ),
        files={"ns.yaml": NS, "cm.yaml": CM},
    ),
    case(
        "<root>/ns.yaml:1: Namespace/demo-dev is defined twice: in other (ns.yaml:1) and in base (ns.yaml:1)\n"
        "  hint: each Kubernetes object must belong to exactly one component",
        id="object-twice",
        services=edited("path: cm.yaml", "path: ns.yaml", TWO),
    ),
    case(
        "--only-services: services.yaml has no services item named 'nope'\n  hint: services: none",
        id="filter-no-services",
        filters=NameFilters.parse(only_services="nope"),
    ),
    case(
        "--skip-infra: services.yaml has no infrastructure item named 'bsae'\n  hint: did you mean 'base'?",
        id="filter-typo",
        filters=NameFilters.parse(skip_infra="bsae"),
    ),
    case(
        "--only-infra: services.yaml has no infrastructure item named 'zzz'\n  hint: infrastructure: base, other",
        id="filter-unknown",
        services=TWO,
        files={"ns.yaml": NS, "cm.yaml": CM},
        filters=NameFilters.parse(only_infra="zzz, base"),
    ),
]


# ------------------------------------------------------------------------ what the API server refuses (kube_rules.py)

OBJ_SERVICES = """\
project: demo
environments:
  dev: {}
infrastructure:
  - name: base
    namespaces: [shared]
    manifests: [{path: ns.yaml}, {path: obj.yaml}]
services: []
"""
SUBDOMAIN = "must be lowercase letters, digits, '-' and '.', starting and ending with a letter or digit"
LABEL = "must be lowercase letters, digits and '-', starting and ending with a letter or digit"
QUALIFIED = "letters, digits, '-', '_' and '.', starting and ending with a letter or digit"


def obj_case(manifest: str, expected: str, *, id: str) -> object:
    """``manifest`` as obj.yaml of group ``base`` (which may also use namespace ``shared``), stack dev."""
    return case(expected, id=id, services=OBJ_SERVICES, files={"ns.yaml": NS, "obj.yaml": manifest})


def meta(kind: str, name: str, more: str = "", api: str = "v1") -> str:
    """Lines 1-4 are apiVersion, kind, metadata and its name; ``more`` starts at line 5."""
    return f"apiVersion: {api}\nkind: {kind}\nmetadata:\n  name: {name}\n{more}"


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


# ------------------------------------------------------------------------------------ a service's image (overlays.py)

WEB = edited(
    "services: []\n",
    "services:\n  - name: web\n    manifests:\n      - path: web.yaml\n    image:\n      repository: reg/web\n"
    "      tagTemplate: '1'\n",
)
"""BASE with service ``web`` (lines 11-16): its image at line 14."""
WORKLOADS = "CronJob, DaemonSet, Deployment, Job, ReplicaSet, StatefulSet"
DEPLOYMENT = (
    "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\n"
    "spec:\n  selector:\n    matchLabels: {{app: x}}\n"
    "  template:\n    metadata:\n      labels: {{app: x}}\n    spec:\n"
    "      serviceAccountName: agent\n      containers: [{{name: x, image: x}}]\n"
)
"""A Deployment (lines 1-13) that runs as ServiceAccount ``agent``."""
IMAGES = [
    case(
        "<root>/services.yaml:14: services[0].image: service web: its image goes to no workload: none of its objects "
        f"({WORKLOADS}) is named 'web'\n"
        "  hint: name the workload like the service, or say which one with workload:, or remove image:",
        id="image-reaches-no-workload",
        services=WEB,
        files={"ns.yaml": NS, "web.yaml": DEPLOYMENT.format(name="api")},
    ),
    case(
        "<root>/services.yaml:15: services[0].image: service web: workload 'worker' is not among its objects "
        f"({WORKLOADS})\n"
        "  hint: workload: names the Deployment (or other workload) of the service's manifests that runs its image",
        id="image-workload-missing",
        services=edited("    image:", "    workload: worker\n    image:", WEB),
        files={"ns.yaml": NS, "web.yaml": DEPLOYMENT.format(name="web")},
    ),
]

# ------------------------------------------------------------------------------------ the agent's own RBAC (agent.py)

SHIPPED = edited(
    "services: []\n", "services:\n  - name: codex\n    manifests:\n      - path: codex.yaml\ncodex:\n  rbac: none\n"
)
"""BASE with the agent's service ``codex`` (manifest codex.yaml) shipping the agent's RBAC itself."""
SA = "---\napiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: agent\n"
"""Lines 14-18 after DEPLOYMENT: the ServiceAccount ``agent``."""
RBAC = "rbac.authorization.k8s.io/v1"
AGENT = [
    case(
        "the agent's service 'codex' has no Deployment\n  hint: codex.service names it",
        id="agent-without-deployment",
        services=SHIPPED,
        files={"ns.yaml": NS, "codex.yaml": CM},
    ),
    case(
        "<root>/codex.yaml:1: the agent's ServiceAccount 'agent' (serviceAccountName of Deployment/demo-dev/codex) "
        "is not in the repair set, so a repair run could not start the agent\n"
        "  hint: ship it in a repair.infrastructure group or in the agent's service, or use codex.rbac: builtin",
        id="agent-account-outside-the-repair-set",
        services=SHIPPED,
        files={"ns.yaml": NS, "codex.yaml": DEPLOYMENT.format(name="codex")},
    ),
    case(
        "<root>/codex.yaml:20: ClusterRoleBinding/agent-all gives the agent rights across the cluster",
        id="agent-cluster-role-binding",
        services=SHIPPED,
        files={
            "ns.yaml": NS,
            "codex.yaml": DEPLOYMENT.format(name="codex")
            + SA
            + f"---\napiVersion: {RBAC}\nkind: ClusterRoleBinding\nmetadata:\n  name: agent-all\n"
            "roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}\n"
            "subjects: [{kind: ServiceAccount, name: agent, namespace: demo-dev}]\n",
        },
    ),
    case(
        "<root>/codex.yaml:20: RoleBinding/demo-dev/agent binds the agent to Role 'ghost', which the project does "
        "not define, so its rights cannot be checked",
        id="agent-bound-to-an-unknown-role",
        services=SHIPPED,
        files={
            "ns.yaml": NS,
            "codex.yaml": DEPLOYMENT.format(name="codex")
            + SA
            + f"---\napiVersion: {RBAC}\nkind: RoleBinding\nmetadata:\n  name: agent\n"
            "roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: ghost}\n"
            "subjects: [{kind: ServiceAccount, name: agent}]\n",
        },
    ),
    case(
        "\n".join(
            f"<root>/codex.yaml:27: Role/demo-dev/agent (bound to the agent by agent) grants {what}\n"
            "  hint: the agent may not change what limits it (docs/security.md)"
            for what in ["verb 'escalate'", "a wildcard API group or resource", "writes to networkpolicies"]
        ),
        id="agent-role-grants-too-much",
        services=SHIPPED,
        files={
            "ns.yaml": NS,
            "codex.yaml": DEPLOYMENT.format(name="codex")
            + SA
            + f"---\napiVersion: {RBAC}\nkind: RoleBinding\nmetadata:\n  name: agent\n"
            "roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: agent}\n"
            "subjects: [{kind: ServiceAccount, name: agent}]\n"
            f"---\napiVersion: {RBAC}\nkind: Role\nmetadata:\n  name: agent\nrules:\n"
            "  - {apiGroups: [''], resources: ['*'], verbs: [get, escalate]}\n"
            "  - {apiGroups: [networking.k8s.io], resources: [networkpolicies], verbs: [create]}\n",
        },
    ),
    case(
        "<root>/codex.yaml:15: ServiceAccount/demo-dev/codex-sa is defined twice: in codex (codex.yaml:15) and in "
        "codex-agent (agent.py:0)\n"
        "  hint: the project ships the agent's RBAC itself: set codex.rbac: none in services.yaml",
        id="agent-rbac-shipped-twice",
        services=SHIPPED.replace("  rbac: none\n", "  rbac: builtin\n"),
        files={
            "ns.yaml": NS,
            "codex.yaml": DEPLOYMENT.format(name="codex") + SA.replace("name: agent", "name: codex-sa"),
        },
    ),
]


# ---------------------------------------------------------------------- one owner, the cluster stack (containment.py)

CLUSTER = """\
project: demo
maxSlots: 1
environments:
  dev: {}
  cluster: {scope: cluster}
infrastructure:
  - name: base
    when: "{{ env != 'cluster' }}"
    manifests:
      - path: ns.yaml
  - name: dns
    when: "{{ env == 'cluster' }}"
    manifests:
      - path: cr.yaml
services: []
"""
"""Group ``base`` everywhere but the cluster stack, group ``dns`` (cr.yaml) only there."""
READER = meta("ClusterRole", "reader", api=RBAC)
OWNERS = [
    case(
        "<root>/services.yaml:6: environments.cluster.from: environment 'cluster': a scope: cluster environment "
        "neither inherits nor is inherited",
        id="cluster-environment-inherits",
        services=edited("  ai: {}", "  ai: {}\n  cluster: {scope: cluster, from: dev}"),
    ),
    case(
        "<root>/services.yaml:3: environments: only one environment may have scope: cluster, not c1, c2",
        id="two-cluster-environments",
        services=edited("  ai: {}", "  ai: {}\n  c1: {scope: cluster}\n  c2: {scope: cluster}"),
    ),
    obj_case(
        READER,
        "<root>/obj.yaml:1: ClusterRole/reader of base is cluster-scoped, outside namespace demo-dev of stack dev\n"
        "  hint: add an environment with scope: cluster (e.g. 'cluster') and move the group there: its stack owns "
        "every object outside the project's namespaces",
        id="cluster-scoped-object-without-a-cluster-environment",
    ),
    case(
        "<root>/obj.yaml:1: ConfigMap/shared/c of base is in namespace shared, outside namespace demo-dev of stack "
        "dev\n"
        "  hint: move group 'base' to environment 'cluster' (scope: cluster), e.g. when: \"{{ env == 'cluster' }}\"; "
        "its stack owns every object outside the project's namespaces",
        id="object-of-another-namespace",
        services=edited("  dev: {}", "  dev: {}\n  cluster: {scope: cluster}", OBJ_SERVICES),
        files={"ns.yaml": NS, "obj.yaml": meta("ConfigMap", "c", "  namespace: shared\n")},
    ),
    case(
        "codex-slot-claims: component name 'codex-slot-claims' is reserved for what codex stacks generates\n"
        "  hint: rename that infrastructure group or service",
        id="reserved-component-name",
        services=edited("name: dns", "name: codex-slot-claims", CLUSTER),
        files={"ns.yaml": NS, "cr.yaml": READER},
        stack="cluster",
    ),
    case(
        "<root>/cr.yaml:1: ValidatingAdmissionPolicy/codex-agent-containment-demo of dns has the name of an object "
        "codex stacks generates\n"
        "  hint: rename it",
        id="generated-object-name",
        services=CLUSTER,
        files={
            "ns.yaml": NS,
            "cr.yaml": meta(
                "ValidatingAdmissionPolicy", "codex-agent-containment-demo", api="admissionregistration.k8s.io/v1"
            ),
        },
        stack="cluster",
    ),
    case(
        "<root>/cr.yaml:1: ConfigMap/codex-system/c of dns would land in codex-system, the cluster stack's own "
        "namespace: the cluster stack owns only objects outside the project's namespaces\n"
        "  hint: keep group 'dns' out of environment 'cluster', e.g. when: \"{{ env != 'cluster' }}\"",
        id="object-in-the-cluster-stacks-namespace",
        services=CLUSTER,
        files={"ns.yaml": NS, "cr.yaml": CM},
        stack="cluster",
    ),
    case(
        "codex:mode: stack cluster is the cluster stack: it has no agent and no repair mode\n"
        "  hint: run it with codex:mode=normal",
        id="cluster-stack-in-repair-mode",
        services=CLUSTER,
        files={"ns.yaml": NS, "cr.yaml": READER},
        stack="cluster",
        mode="repair",
    ),
    case(
        "<root>/ns.yaml:1: cannot list the host folders of stack dev for the agent containment policy: a manifest "
        "document must be a mapping (a Kubernetes object), not list\n"
        "  hint: fix stack dev first: `codexctl validate --stack dev`",
        id="another-stack-does-not-plan",
        services=CLUSTER,
        files={"ns.yaml": "- a\n", "cr.yaml": READER},
        stack="cluster",
    ),
    case(
        "<root>/services.yaml:2: maxSlots: maxSlots is 0 (no limit), but the containment policy must list every "
        "slot's folders\n"
        "  hint: set maxSlots to the number of slots the cluster may run",
        id="max-slots-0-with-an-agent",
        services=edited(
            "services: []\n",
            "services:\n  - name: codex\n    when: \"{{ env == 'ai' }}\"\n    manifests:\n      - path: codex.yaml\n",
            edited("  dev: {}", "  dev: {}\n  ai: {}", CLUSTER.replace("maxSlots: 1", "maxSlots: 0")),
        ),
        files={"ns.yaml": NS, "cr.yaml": READER, "codex.yaml": DEPLOYMENT.format(name="codex")},
        stack="cluster",
    ),
]

# ---------------------------------------------------------------------------------------------- hook steps (hooks.py)


def hook(use: str, params: str) -> str:
    """BASE with one stack step ``step`` (line 13) of ``use`` with ``params`` (line 15)."""
    return BASE + f"hooks:\n  beforeAll:\n    - name: step\n      use: {use}\n      with: {params}\n"


HOOKS = [
    case(
        "hooks.beforeAll[1]: hook step name 'nap' is used twice in beforeAll\n"
        "  hint: step names name resources: make them unique within a stage",
        id="step-name-twice",
        services=BASE + "hooks:\n  beforeAll:\n"
        "    - {name: nap, use: sleep, with: {seconds: 1}}\n    - {name: nap, use: sleep, with: {seconds: 2}}\n",
    ),
    case(
        "base.hooks.afterApply[0].with: kubectl.wait does not know kind 'Widget'\n"
        "  hint: give apiVersion and plural for it",
        id="wait-for-an-unknown-kind",
        services=edited(
            "      - path: ns.yaml\n",
            "      - path: ns.yaml\n    hooks:\n      afterApply:\n"
            "        - {name: wait, use: kubectl.wait, with: {kind: Widget, name: w}}\n",
        ),
    ),
    case(
        "hooks.beforeAll[0].with: data root '/' is not allowed\n"
        "  hint: dataPaths.root must be an absolute folder other than /",
        id="data-dirs-root-slash",
        services=hook("codex.ensure-data-dirs", "{root: /}"),
    ),
    case(
        "hooks.beforeAll[0].with: data root 'data' is not allowed\n"
        "  hint: dataPaths.root must be an absolute folder other than /",
        id="data-dirs-root-relative",
        services=hook("codex.ensure-data-dirs", "{root: data}"),
    ),
    case(
        "hooks.beforeAll[0].with: data folder '/srv/d/pg' leaves '/srv/d/dev'\n"
        "  hint: dirs are plain names such as postgres or redis",
        id="data-dirs-leave-the-stacks-folder",
        services=hook("codex.ensure-data-dirs", "{root: /srv/d, dirs: [../pg]}"),
    ),
    case(
        "hooks.beforeAll[0].with: codex.reuse-dev-tls-secret needs a slot to name the secret\n"
        "  hint: set secretName, or use the step only in slot stacks (when: \"{{ env == 'ai' }}\")",
        id="tls-secret-outside-a-slot",
        services=hook("codex.reuse-dev-tls-secret", "{sourceNamespace: staging}"),
    ),
]


@pytest.mark.parametrize(
    ("services", "files", "stack", "config", "expected"),
    [*STACKS, *MANIFESTS, *ITEMS, *OBJECTS, *IMAGES, *AGENT, *OWNERS, *HOOKS],
)
def test_plan_errors(
    tmp_path: Path, services: str, files: dict[str, str], stack: str, config: dict[str, object], expected: str
) -> None:
    root = write(tmp_path / "p", services, files)
    assert plan_failure(root, stack, config) == expected


@pytest.mark.parametrize(
    ("project", "stack", "config"),
    [
        ("demo", "ai-slot-1", {}),
        ("demo", "ai-slot-3", {}),
        ("demo", "dev", {"namespace": "n" * 63}),
        ("d" * 59, "dev", {}),
    ],
    ids=["slot-1", "slot-3-the-max", "namespace-63-characters", "namespace-of-the-project-63-characters"],
)
def test_stacks_just_inside_the_bounds_plan(
    tmp_path: Path, project: str, stack: str, config: dict[str, object]
) -> None:
    root = write(tmp_path / "p", edited("project: demo", f"project: {project}"), {"ns.yaml": NS})
    assert build_plan(PlanRequest(stack=stack, project_dir=root, **config)).target.stack == stack  # type: ignore[arg-type]


def test_adoption_mode_unknown() -> None:
    with pytest.raises(CodexError) as info:
        force_conflicts("force")
    assert str(info.value) == (
        "codex:adopt: 'force' is not an adoption mode\n"
        "  hint: codex:adopt is 'kubectl' for the one up that takes over objects kubectl applied, else unset"
    )


def test_validate_names_an_overlay_of_an_unknown_environment(tmp_path: Path) -> None:
    services = edited("    image:", "    overlays:\n      prod: {}\n    image:", WEB)
    root = write(tmp_path / "p", services, {"ns.yaml": NS, "web.yaml": DEPLOYMENT.format(name="web")})
    problems = check_everything(PlanRequest(stack="dev", project_dir=root))
    assert [shown(problem, root) for problem in problems] == [
        "<root>/services.yaml:15: services[0].overlays.prod: web: overlays names unknown environment 'prod'\n"
        "  hint: known environments: ai, dev"
    ]


# ---------------------------------------------------------------------------------------- the repair store (store.py)

STORE_SERVICES = """\
project: demo
environments:
  dev: {}
infrastructure:
  - name: base
    manifests: [{path: ns.yaml}]
  - name: extras
    dependsOn: [base]
    manifests: [{path: cm.yaml}]
"""
REFUSED = "the registrations stored by the last normal run cannot be used: "
TARGETS = (
    "\n  hint: run the repair with the repair set's targets instead: pulumi up -s <stack> -c codex:mode=repair "
    "$(codexctl repair-targets -s <stack> | sed 's/^/--target /')"
)


def envelope(plan: str, digest: str = "0" * 64) -> str:
    return json.dumps({"format": "codex-stacks/repair-store/1", "stack": "dev", "sha256": digest, "plan": plan})


@pytest.mark.parametrize(
    ("text", "stack", "expected"),
    [
        pytest.param("", "dev", "stack dev has no repairStore output (no normal run since repair learned to store)"),
        pytest.param(
            '{"format": "codex-stacks/repair-store/0"}', "dev", "unknown format 'codex-stacks/repair-store/0'"
        ),
        pytest.param(
            envelope(base64.b64encode(gzip.compress(b"{}")).decode()),
            "dev",
            "its digest does not match its content (it was changed)",
            id="digest",
        ),
        pytest.param("not json", "dev", "it does not read (JSONDecodeError)", id="not-json"),
        pytest.param(envelope("%%%"), "dev", "it does not read (Error)", id="not-base64"),
        pytest.param(None, "prod", "it belongs to stack dev in namespace demo-dev", id="another-stack"),
    ],
)
def test_a_store_that_cannot_be_used_is_refused(tmp_path: Path, text: str | None, stack: str, expected: str) -> None:
    root = write(tmp_path / "p", STORE_SERVICES, {"ns.yaml": NS, "cm.yaml": CM})
    stored = dump(stored_part(build_plan(PlanRequest(stack="dev", project_dir=root))))
    with pytest.raises(CodexError) as info:
        load(stored if text is None else text, stack=stack, namespace="demo-dev")
    assert str(info.value) == REFUSED + expected + TARGETS


def test_a_store_whose_component_depends_on_a_renamed_one_is_refused(tmp_path: Path) -> None:
    """The normal run stored ``extras`` (which waits for ``base``); services.yaml renamed ``base``
    to ``core`` before the repair run: one clear line instead of a KeyError in the program."""
    root = write(tmp_path / "p", STORE_SERVICES, {"ns.yaml": NS, "cm.yaml": CM})
    stored = load(
        dump(stored_part(build_plan(PlanRequest(stack="dev", project_dir=root)))), stack="dev", namespace="demo-dev"
    )
    (root / "services.yaml").write_text(STORE_SERVICES.replace("base", "core"), encoding="utf-8")
    repair = build_plan(PlanRequest(stack="dev", project_dir=root, mode="repair"))
    with pytest.raises(CodexError) as info:
        with_stored(repair, stored)
    assert (
        str(info.value)
        == REFUSED + "its component extras depends on base, which this repair run does not have" + TARGETS
    )


def test_stored_components_that_wait_for_each_other_are_a_cycle(tmp_path: Path) -> None:
    root = write(tmp_path / "p", STORE_SERVICES, {"ns.yaml": NS, "cm.yaml": CM})
    repair = build_plan(PlanRequest(stack="dev", project_dir=root, mode="repair"))
    stored = StoredPlan(
        stack="dev",
        namespace="demo-dev",
        components=(
            ComponentPlan(kind="InfrastructureGroup", name="a", objects=(), depends_on=("b",)),
            ComponentPlan(kind="InfrastructureGroup", name="b", objects=(), depends_on=("a",)),
        ),
        hooks=(),
        stack_steps={},
    )
    with pytest.raises(CodexError) as info:
        with_stored(repair, stored)
    assert str(info.value) == "dependsOn forms a cycle: a -> b -> a\n  hint: remove one of these dependsOn entries"
