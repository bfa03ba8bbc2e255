"""Fixtures of the hook tests: loopback API doubles and a kubeconfig that points at one."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.hooks.doubles import GithubDouble, KubeDouble, write_kubeconfig


@pytest.fixture
def kube(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[KubeDouble]:
    """A Kubernetes API double; ``KUBECONFIG`` points at it for the provider code."""
    double = KubeDouble()
    double.start()
    monkeypatch.setenv("KUBECONFIG", str(write_kubeconfig(tmp_path / "kubeconfig", double.url)))
    try:
        yield double
    finally:
        double.stop()


@pytest.fixture
def github() -> Iterator[GithubDouble]:
    double = GithubDouble()
    double.start()
    try:
        yield double
    finally:
        double.stop()
