"""Every error the planner shows a user, whole: where (file:line and key path), what, and the hint.

One table per part of codex_stacks/plan. Each case is a small project (services.yaml and its
manifests) or a stack setting, planned through ``build_plan`` like ``codexctl`` does, and the
text the user reads, written out by hand from that input. ``<root>`` stands for the project
folder. A CombinedError prints one problem per line. The table doubles as a catalogue of what
users see (issue #19: a changed message, hint or location must fail a test).

This file: the stack, manifests, items and filters (target.py, objects.py, build.py, filters.py,
adoption.py, check.py). Shared here: the projects and helpers the topic files (test_error_messages_*.py) build on.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from codex_stacks.errors import CodexError
from codex_stacks.plan import PlanRequest, build_plan
from codex_stacks.plan.adoption import force_conflicts
from codex_stacks.plan.check import check_everything
from codex_stacks.plan.filters import NameFilters

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


def obj_case(manifest: str, expected: str, *, id: str) -> object:
    """``manifest`` as obj.yaml of group ``base`` (which may also use namespace ``shared``), stack dev."""
    return case(expected, id=id, services=OBJ_SERVICES, files={"ns.yaml": NS, "obj.yaml": manifest})


def meta(kind: str, name: str, more: str = "", api: str = "v1") -> str:
    """Lines 1-4 are apiVersion, kind, metadata and its name; ``more`` starts at line 5."""
    return f"apiVersion: {api}\nkind: {kind}\nmetadata:\n  name: {name}\n{more}"


CM = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n"
RBAC = "rbac.authorization.k8s.io/v1"
WEB = edited(
    "services: []\n",
    "services:\n  - name: web\n    manifests:\n      - path: web.yaml\n    image:\n      repository: reg/web\n"
    "      tagTemplate: '1'\n",
)
"""BASE with service ``web`` (lines 11-16): its image at line 14."""
DEPLOYMENT = (
    "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\n"
    "spec:\n  selector:\n    matchLabels: {{app: x}}\n"
    "  template:\n    metadata:\n      labels: {{app: x}}\n    spec:\n"
    "      serviceAccountName: agent\n      containers: [{{name: x, image: x}}]\n"
)
"""A Deployment (lines 1-13) that runs as ServiceAccount ``agent``."""


def check_plan_error(
    tmp_path: Path, services: str, files: dict[str, str], stack: str, config: dict[str, object], expected: str
) -> None:
    """Plan ``services`` with ``files`` as stack ``stack`` (``config`` its codex:* settings): ``expected``, whole."""
    root = write(tmp_path / "p", services, files)
    assert plan_failure(root, stack, config) == expected


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
        "<root>/ns.yaml:7: invalid YAML: mapping values are not allowed in this context",
        id="invalid-yaml-at-its-line-in-the-template",
        files={
            "ns.yaml": "{# the settings #}\n{% if true %}\napiVersion: v1\n{% endif %}\nkind: ConfigMap\nmetadata:\n"
            "  name: c: d\ndata: {}\n"
        },
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


@pytest.mark.parametrize(("services", "files", "stack", "config", "expected"), [*STACKS, *MANIFESTS, *ITEMS])
def test_plan_errors(
    tmp_path: Path, services: str, files: dict[str, str], stack: str, config: dict[str, object], expected: str
) -> None:
    check_plan_error(tmp_path, services, files, stack, config, expected)


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
