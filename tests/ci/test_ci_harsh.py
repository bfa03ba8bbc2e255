"""``codexctl ci`` against the doubles' harsher answers.

- A second DELETE of a namespace that is still Terminating is 409 Conflict ("The system is
  ensuring all content is removed from this namespace", pkg/registry/core/namespace/storage/storage.go):
  a cleanup rerun (or gc) must take it as "still terminating", not fail.
- A spent GitHub rate limit is 403 with ``x-ratelimit-remaining: 0``
  (docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api): gc must say so, with the
  reset time, not hint at the token's rights.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from codex_stacks.cli.app import app
from tests.ci.conftest import REPOSITORY, PulumiDouble
from tests.ci.test_ensure_slot import plant_claim
from tests.support.github_double import GithubDouble
from tests.support.kube_double import KubeDouble

runner = CliRunner()


def test_a_cleanup_rerun_while_the_namespace_still_terminates_is_not_a_failure(
    pulumi_double: PulumiDouble, kube_api: KubeDouble, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATA_ROOT", str(tmp_path / "data"))
    kube_api.create_namespace("project-example-dev-3")
    held = {"name": "held", "namespace": "project-example-dev-3", "finalizers": ["example.com/slow"]}
    kube_api.seed({"apiVersion": "v1", "kind": "ConfigMap", "metadata": held})
    first = runner.invoke(app, ["ci", "cleanup", "--stack", "ai-slot-3", "--namespace-timeout", "0.1"])
    assert first.exit_code == 0, first.output
    again = runner.invoke(app, ["ci", "cleanup", "--stack", "ai-slot-3", "--namespace-timeout", "0.1"])
    assert again.exit_code == 0, again.output
    assert "namespace project-example-dev-3 still terminating" in again.output


def test_gc_names_a_spent_github_rate_limit(
    pulumi_double: PulumiDouble, kube_api: KubeDouble, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", "t0ken")
    plant_claim(kube_api, slot=3, holder=f"{REPOSITORY}#issue-7")  # gc asks only about claimed slots
    pulumi_double.make_stack("ai-slot-3", tags={"codex:binding": f"{REPOSITORY}#issue-7"})
    with GithubDouble(repos={"acme/shop": 11}) as github:
        github.add_issue("acme/shop", 7, state="closed")
        github.exhaust(reset_in=600)
        result = runner.invoke(app, ["ci", "gc", "--closed", "--repository", "acme/shop", "--api-url", github.url])
    assert result.exit_code == 1
    assert "rate limit" in result.output
    assert "may read issues" not in result.output
    assert pulumi_double.stacks() == ["ai-slot-3"]
