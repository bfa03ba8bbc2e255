"""When a component's and the stack's steps run, as the dependencies the program registers say
(Pulumi creates a resource after what it depends on and deletes it before that): destroy-time
steps of a component, and the Namespace after the stack's beforeAll steps. Found alive by
`tools/mutation.py components` (README, "Mutation score")."""

from __future__ import annotations

from codex_stacks.offline.runner import ProgramRun, Registration, run_program
from tests.conftest import MakeProject

NAMESPACE = 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: "{{ namespace }}"\n'
CONFIGMAP = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  a: b\n"


def project(make_project: MakeProject, *, group_hooks: str = "", stack_hooks: str = "") -> str:
    text = (
        'project: demo\nmaxSlots: 3\nnamespace:\n  patterns:\n    ai: "demo-ai-{{ slot }}"\n'
        f"environments:\n  ai: {{}}\n{stack_hooks}infrastructure:\n"
        "  - name: base\n    manifests:\n      - path: ns.yaml\n"
        "  - name: data\n    manifests:\n      - path: cm.yaml\n"
        f"{group_hooks}services: []\n"
    )
    return str(make_project(text, {"ns.yaml": NAMESPACE, "cm.yaml": CONFIGMAP}))


def registered(run: ProgramRun, name: str) -> Registration:
    found = [r for r in run.registrations if r.name == name]
    assert len(found) == 1, f"{name}: {[r.name for r in run.registrations]}"
    return found[0]


DESTROY_HOOKS = """\
    hooks:
      beforeDestroy:
        - name: drain
          use: sleep
          with: {seconds: 0.01}
      afterDestroy:
        - name: forget
          use: sleep
          with: {seconds: 0.01}
"""


def test_destroy_steps_run_around_the_components_objects(make_project: MakeProject) -> None:
    """beforeDestroy runs before the objects are deleted: it depends on them (deleted first);
    afterDestroy runs after: the objects depend on it (it is deleted after them)."""
    root = project(make_project, group_hooks=DESTROY_HOOKS)
    run = run_program("ai-slot-1", {"codex:projectDir": root})
    configmap = registered(run, "data/configmap/settings")
    drain = registered(run, "data/hook/beforeDestroy/drain")
    forget = registered(run, "data/hook/afterDestroy/forget")
    assert configmap.urn in drain.dependencies
    assert forget.urn in configmap.dependencies
    assert drain.urn not in configmap.dependencies


PREFLIGHT = "hooks:\n  beforeAll:\n    - name: preflight\n      use: sleep\n      with: {seconds: 0.01}\n"


def test_the_namespace_waits_for_the_stacks_before_all_steps(make_project: MakeProject) -> None:
    root = project(make_project, stack_hooks=PREFLIGHT)
    run = run_program("ai-slot-1", {"codex:projectDir": root})
    namespace = registered(run, "base/namespace/demo-ai-1")
    preflight = registered(run, "hook/beforeAll/preflight")
    assert preflight.urn in namespace.dependencies


def test_a_namespace_no_group_holds_waits_for_them_too(make_project: MakeProject) -> None:
    """Without a Namespace manifest the program registers the namespace itself (retained on
    delete), after the beforeAll steps like a group's."""
    text = (
        'project: demo\nmaxSlots: 3\nnamespace:\n  patterns:\n    ai: "demo-ai-{{ slot }}"\n'
        f"environments:\n  ai: {{}}\n{PREFLIGHT}infrastructure:\n"
        "  - name: data\n    manifests:\n      - path: cm.yaml\nservices: []\n"
    )
    root = make_project(text, {"cm.yaml": CONFIGMAP})
    run = run_program("ai-slot-1", {"codex:projectDir": str(root)})
    namespace = registered(run, "namespace")
    assert namespace.type == "kubernetes:core/v1:Namespace"
    assert namespace.inputs["metadata"]["name"] == "demo-ai-1"
    assert namespace.retain_on_delete
    assert registered(run, "hook/beforeAll/preflight").urn in namespace.dependencies
    assert namespace.urn in registered(run, "data/configmap/settings").dependencies
