"""What a planned hook step is given (docs/services-yaml-reference.md): the inputs the step's
provider reads — the repository a ``github.comment`` posts to, the address a
``codex.check-dev-host-ports`` step probes.

Written against mutants of codex_stacks/plan/hooks.py that lived in the seed-31 sample (issue #19).
"""

from __future__ import annotations

from codex_stacks.plan import PlanRequest, build_plan
from tests.conftest import MakeProject

SERVICES = """\
project: demo
baseDomain: {dev: demo.example}
environments:
  dev: {}
hooks:
  afterAll:
    - name: note
      use: github.comment
      with: {repository: acme/shop, number: 7, body: deployed}
    - name: ports
      use: codex.check-dev-host-ports
      with: {host: 10.1.2.3, ports: [8443], timeout: 2s}
infrastructure:
  - name: base
    manifests: [{path: ns.yaml}]
"""
FILES = {"ns.yaml": "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {{ namespace }}\n"}


def test_the_steps_get_the_repository_and_the_host_the_file_names(make_project: MakeProject) -> None:
    plan = build_plan(PlanRequest(stack="dev", project_dir=make_project(SERVICES, FILES)))
    steps = {hook.step: hook.inputs()["params"] for hook in plan.hooks}
    # by hand from services.yaml and the documented defaults
    assert steps["note"] == {
        "repository": "acme/shop",
        "number": 7,
        "body": "deployed",
        "api_url": "https://api.github.com",
        "update_existing": True,
        "marker": "<!-- codex-stacks:dev:note -->",
    }
    assert steps["ports"] == {
        "host": "10.1.2.3",
        "ports": [8443],
        "http_host": "demo.example",
        "http_port": 80,
        "path": "/",
        "probe_timeout": 2.0,
        "strict": False,
    }
