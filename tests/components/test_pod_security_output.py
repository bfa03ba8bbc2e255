"""The ``podSecurity`` stack output: the level the namespace enforces and at most 20 reasons
(docs/security.md, "Pod Security"), whatever the number of pods that break the next level."""

from __future__ import annotations

from codex_stacks.offline.runner import run_program
from tests.conftest import MakeProject

SERVICES = """\
project: demo
environments:
  staging: {}
infrastructure:
  - name: base
    manifests:
      - path: ns.yaml
      - path: workers.yaml
"""
NAMESPACE = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {{ namespace }}\n"
WORKER = """\
---
apiVersion: v1
kind: Pod
metadata:
  name: worker-{n}
spec:
  hostNetwork: true
  containers:
    - name: w
      image: w
"""


def test_twenty_reasons_then_a_count(make_project: MakeProject) -> None:
    workers = "".join(WORKER.format(n=n) for n in range(23))
    root = make_project(SERVICES, {"ns.yaml": NAMESPACE, "workers.yaml": workers})
    outputs = run_program("staging", {"codex:projectDir": str(root)}).outputs
    assert outputs["podSecurity"] == {
        "enforce": "privileged",
        "because": [
            *(f"Pod/worker-{n}: pod sets hostNetwork: true (Host Namespaces)" for n in range(20)),
            "… and 3 more",
        ],
    }
