"""Secret values never show in an error: YAML, schema, template and Kubernetes validation errors
of ``codexctl validate`` and ``codexctl preview`` name the file, line and key, never the value.

A canary secret reaches the project the way a real one does: the runner's environment, read by
``env_or`` into a Secret manifest or a hook step's ``env``. Each case breaks the file around it
in a way a user might (a password that starts with ``!`` or ``*``, a quote, a colon, a number
where a string belongs) and the whole output of the command must not contain the canary.
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
environments:
  dev: {}
infrastructure:
  - name: base
    manifests:
      - path: ns.yaml
services:
  - name: web
    manifests:
      - path: secret.yaml
"""
RAW_SECRET = 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\nstringData:\n  TOKEN: {{ env_or("API_TOKEN") }}\n'
"""A manifest that splices the value in without ``tojson`` (the mistake that turns values into YAML)."""
HOOK_ENV = """\
hooks:
  beforeAll:
    - name: note
      run: echo hi
      env:
        TOKEN: {{ env_or("API_TOKEN") }}
"""
HOOK_PARAM = """\
hooks:
  beforeAll:
    - name: wait
      use: sleep
      with:
        seconds: '{{ env_or("API_TOKEN") }}'
"""

CASES = {
    # value → where it goes; every one of these fails to load
    "manifest-yaml-tag": ("!canary-tag-4f1e", "manifest"),
    "manifest-yaml-alias": ("*canary-alias-7a2b", "manifest"),
    "manifest-yaml-colon": ("canary-colon-9c3d: x", "manifest"),
    "manifest-yaml-quote": ('"canary-quote-1d4e', "manifest"),
    "manifest-kubernetes-type": ("31337424242", "manifest"),
    "hook-env-yaml-tag": ("!canary-hooktag-5e6f", "hook-env"),
    "hook-env-yaml-flow": ("{canary-flow-2b8c: [", "hook-env"),
    "hook-param-schema": ("canary-schema-6a9d", "hook-param"),
}


def project(folder: Path, where: str) -> Path:
    folder.mkdir()
    (folder / "ns.yaml").write_text(NAMESPACE)
    services = SERVICES
    if where == "manifest":
        (folder / "secret.yaml").write_text(RAW_SECRET)
    else:
        (folder / "secret.yaml").write_text(RAW_SECRET.replace('{{ env_or("API_TOKEN") }}', "x"))
        services += HOOK_ENV if where == "hook-env" else HOOK_PARAM
    (folder / "services.yaml").write_text(services)
    return folder


RUNS = [
    (case, command)
    for case in sorted(CASES)
    for command in ("validate", "preview")
    if command == "validate" or case != "manifest-kubernetes-type"  # preview does not check the schemas
]


@pytest.mark.parametrize(("case", "command"), RUNS, ids=[f"{case}-{command}" for case, command in RUNS])
def test_no_error_shows_the_secret(tmp_path: Path, case: str, command: str) -> None:
    value, where = CASES[case]
    folder = project(tmp_path / "project", where)
    args = [str(CODEXCTL), command, "--stack", "dev", "--project-dir", str(folder)]
    if command == "preview":
        args += ["--out", str(tmp_path / "out")]
    done = subprocess.run(
        args, capture_output=True, text=True, timeout=120, env={**os.environ, "API_TOKEN": value}, cwd=tmp_path
    )
    assert done.returncode == 2, done.stdout + done.stderr  # the input is broken: one clear error
    assert "error:" in done.stderr
    shown = done.stdout + done.stderr
    canary = value.strip('!*"{: x[')
    assert canary not in shown, shown
