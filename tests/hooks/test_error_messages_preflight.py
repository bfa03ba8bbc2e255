"""What a ``preflight`` step says (providers/preflight.py): every missing thing, in one line,
separated by ``; `` (variables, then secret config, then the cluster)."""

from __future__ import annotations

from pathlib import Path

import pytest

from codex_stacks.components.hooks.providers.preflight import PreflightProvider
from tests.hooks.helpers import step_props
from tests.hooks.test_error_messages_base import failure
from tests.support.kube_double import free_port, write_kubeconfig

FAILED = "hook stack/beforeAll/preflight failed: "


@pytest.fixture
def unreachable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A kubeconfig naming a port nothing listens on; the value is that server's URL."""
    server = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setenv("KUBECONFIG", str(write_kubeconfig(tmp_path / "kubeconfig", server)))
    monkeypatch.setenv("CODEX_PRESENT", "yes")
    monkeypatch.delenv("CODEX_MISSING_A", raising=False)
    monkeypatch.setenv("CODEX_MISSING_B", "")
    return server


UNREACHABLE = (
    "Kubernetes API not reachable: GET /version: ConnectionRefusedError: [Errno 111] Connection refused; "
    "gave up after 3 attempts"
)


@pytest.mark.parametrize(
    ("env", "secrets", "check_cluster", "expected"),
    [
        pytest.param(
            ["CODEX_PRESENT", "CODEX_MISSING_A"],
            {},
            False,
            "environment variable CODEX_MISSING_A is not set",
            id="a-variable",
        ),
        pytest.param(
            ["CODEX_MISSING_B"], {}, False, "environment variable CODEX_MISSING_B is not set", id="an-empty-variable"
        ),
        pytest.param(
            [],
            {"config:openaiApiKey": "", "config:githubToken": ""},
            False,
            "secret config codex:githubToken is not set; secret config codex:openaiApiKey is not set",
            id="secret-config-sorted",
        ),
        pytest.param([], {}, True, UNREACHABLE, id="the-cluster"),
        pytest.param(
            ["CODEX_MISSING_A"],
            {"config:githubToken": "", "config:openaiApiKey": "sk"},
            True,
            "environment variable CODEX_MISSING_A is not set; secret config codex:githubToken is not set; "
            + UNREACHABLE,
            id="all-at-once",
        ),
    ],
)
def test_preflight_names_what_is_missing(
    unreachable: str, env: list[str], secrets: dict[str, str], check_cluster: bool, expected: str
) -> None:
    props = step_props(
        "preflight",
        {"require_env": env, "check_cluster": check_cluster},
        stage="beforeAll",
        step="preflight",
        secrets=secrets,
    )
    assert failure(PreflightProvider(), props) == FAILED + expected
