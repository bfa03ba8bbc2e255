"""Fixtures of the hook tests: loopback API doubles and a kubeconfig that points at one."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from codex_stacks.components.hooks.providers import httpcall
from tests.hooks.test_http_bounds import JSON, Answer, ScriptedApi
from tests.support.github_double import GithubDouble
from tests.support.kube_double import KubeDouble

SLOT_NAMESPACE = "alimentor-dev-3"
"""The slot's namespace: the stack's first group creates it before any component's hook runs."""


@pytest.fixture
def kube(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[KubeDouble]:
    """The Kubernetes API double, with the slot namespace; ``KUBECONFIG`` points at it for the provider code."""
    with KubeDouble(namespaces=(SLOT_NAMESPACE,)) as double:
        monkeypatch.setenv("KUBECONFIG", str(double.kubeconfig(tmp_path / "kubeconfig")))
        yield double


@pytest.fixture
def github() -> Iterator[GithubDouble]:
    """The GitHub API double with issue acme/alimentor#42, its harsh modes on (a lagging list)."""
    with GithubDouble(repos={"acme/alimentor": 7}) as double:
        double.add_issue("acme/alimentor", 42, title="Meal plans")
        yield double


@pytest.fixture
def scripted() -> Iterator[ScriptedApi]:
    """Answers queued per request (tests/hooks/test_http_bounds.py): an empty thread, then a created comment."""
    api = ScriptedApi(
        {
            "GET": Answer(200, b"[]", JSON),
            "POST": Answer(201, json.dumps({"id": 7, "body": "x"}).encode(), JSON),
        }
    )
    try:
        yield api
    finally:
        api.stop()


@pytest.fixture
def bounds(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, float]]:
    """(method, timeout) of every request a hook step sends, each still sent by the real transport."""
    seen: list[tuple[str, float]] = []
    real_send = httpcall.send

    def recording_send(method: str, url: str, **kwargs: Any) -> httpcall.Reply:
        seen.append((method, float(kwargs["timeout"])))
        return real_send(method, url, **kwargs)

    monkeypatch.setattr(httpcall, "send", recording_send)
    return seen
