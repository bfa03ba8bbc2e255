"""Secret values never show in an error: YAML, schema, template and Kubernetes validation errors
of ``codexctl validate`` and ``codexctl preview`` name the file, line and key, never the value.

A canary secret reaches the project the way a real one does: a runner variable declared
``secret: true`` in ``envVars:`` and read by ``env_or`` into a manifest or a hook step. Each case
breaks the project around it in a way a user might (a secret used as a lookup key, inside a
larger expression, where a number belongs, a password that starts with ``!`` next to a YAML
mistake) and the whole output of the command must not contain the canary.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

CODEXCTL = Path(sys.executable).parent / "codexctl"
NAMESPACE = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {{ namespace }}\n"
SERVICES = """\
project: demo
envVars:
  API_TOKEN: {secret: true}
environments:
  dev: {}
infrastructure:
  - name: base
    manifests:
      - path: ns.yaml
services:
  - name: web
    manifests:
      - path: web.yaml
"""
SECRET = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\nstringData:\n  TOKEN: {value}\n"
DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: {value}
  selector:
    matchLabels: {{app: web}}
  template:
    metadata:
      labels: {{app: web}}
    spec:
      containers:
        - name: web
          image: nginx:1.27
"""
HOOK = """\
hooks:
  beforeAll:
    - name: step
      {line}
"""

CASES: dict[str, tuple[str, str, str]] = {
    # case: (canary, manifest web.yaml, extra services.yaml)
    "manifest-lookup-key": ("canarylookup4f1e", SECRET.format(value='{{ vars[env_or("API_TOKEN")] }}'), ""),
    "manifest-larger-expression": (
        "canary-expr: 7a2b",
        SECRET.format(value='{{ "x-" ~ env_or("API_TOKEN") }}'),
        "",
    ),
    "manifest-yaml-tag-beside-a-mistake": (
        "!canary-tag-9c3d",
        SECRET.format(value='{{ env_or("API_TOKEN") }}') + "  BROKEN: [\n",
        "",
    ),
    "manifest-kubernetes-type": ("canary-replicas-1d4e", DEPLOYMENT.format(value='{{ env_or("API_TOKEN") }}'), ""),
    "hook-env-lookup-key": (
        "canaryhookkey5e6f",
        SECRET.format(value="x"),
        HOOK.format(line="run: echo hi\n      env:\n        TOKEN: '{{ vars[env_or(\"API_TOKEN\")] }}'"),
    ),
    "hook-param-schema": (
        "canary-schema-6a9d",
        SECRET.format(value="x"),
        HOOK.format(line="use: sleep\n      with:\n        seconds: '{{ env_or(\"API_TOKEN\") }}'"),
    ),
}
RUNS = [
    (case, command)
    for case in sorted(CASES)
    for command in ("validate", "preview")
    if command == "validate" or case != "manifest-kubernetes-type"  # preview does not check the schemas
]


@pytest.mark.parametrize(("case", "command"), RUNS, ids=[f"{case}-{command}" for case, command in RUNS])
def test_no_error_shows_the_secret(tmp_path: Path, case: str, command: str) -> None:
    canary, manifest, hooks = CASES[case]
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "ns.yaml").write_text(NAMESPACE)
    (folder / "web.yaml").write_text(manifest)
    (folder / "services.yaml").write_text(SERVICES + hooks)
    args = [str(CODEXCTL), command, "--stack", "dev", "--project-dir", str(folder)]
    if command == "preview":
        args += ["--out", str(tmp_path / "out")]
    done = subprocess.run(
        args, capture_output=True, text=True, timeout=120, env={**os.environ, "API_TOKEN": canary}, cwd=tmp_path
    )
    assert done.returncode == 2, done.stdout + done.stderr  # the input is broken: one clear error
    assert "error:" in done.stderr
    shown = done.stdout + done.stderr
    assert canary.strip("!") not in shown, shown
    assert canary.split(":")[0].strip("!") not in shown, shown
