"""Secrets in template errors (codex_stacks/config/templating.py), where a fifth sampled mutation
run (tools/mutation.py config --sample 60 --seed 41 --recheck) found that no test held two
secrets, one inside the other: the longer is masked whole, or the part of it outside the
shorter one would be shown."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.config.test_error_messages_templating import outcome_of

SHORT = "s3cr3t-9q"
LONG = "prod-s3cr3t-9q"
"""LONG holds SHORT, and sorts before it (so only masking the longest first hides it whole)."""

SERVICES = """\
project: demo
environments:
  dev: {}
envVars:
  CODEX_S41_SHORT: {secret: true}
  CODEX_S41_LONG: {secret: true}
vars:
  x: "{{ env_or('CODEX_S41_SHORT') ~ [1].index(env_or('CODEX_S41_LONG')) }}"
"""


def test_a_secret_that_holds_another_is_masked_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CODEX_S41_SHORT", SHORT)
    monkeypatch.setenv("CODEX_S41_LONG", LONG)
    assert outcome_of(tmp_path, SERVICES) == (
        "<project>/services.yaml:8: vars.x: template failed: ValueError: '[secret]' is not in list"
    )
