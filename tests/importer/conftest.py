from __future__ import annotations

from pathlib import Path

import pytest

from tests.importer import goharness


@pytest.fixture(scope="session")
def go_renderer(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The Go renderer, built once per test session."""
    return goharness.build(tmp_path_factory.mktemp("go-render"))
