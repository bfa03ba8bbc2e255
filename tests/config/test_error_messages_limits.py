"""Every error of the operator's limits (codex_stacks/config/limits.py) printed whole: each
variable's bad values, and the smallest value each takes (1) beside the one it refuses (0)."""

from __future__ import annotations

import pytest

from codex_stacks.config.limits import Limits
from codex_stacks.errors import ConfigError

SIZE_HINT = "  hint: e.g. 8388608, 8M or 512K (K, M and G are powers of 1024)"


def _outcome(environ: dict[str, str]) -> str:
    try:
        limits = Limits.from_environment(environ)
    except ConfigError as error:
        return str(error)
    return f"{limits.file_bytes} {limits.project_bytes} {limits.yaml_nodes} {limits.yaml_depth}"


CASES = [
    pytest.param({}, "8388608 67108864 200000 100", id="defaults"),
    pytest.param(
        {"CODEX_MAX_FILE_BYTES": " ", "CODEX_MAX_YAML_DEPTH": ""}, "8388608 67108864 200000 100", id="blank-is-unset"
    ),
    pytest.param(
        {"CODEX_MAX_FILE_BYTES": "1", "CODEX_MAX_PROJECT_BYTES": "2k", "CODEX_MAX_YAML_NODES": "1"}
        | {"CODEX_MAX_YAML_DEPTH": "1"},
        "1 2048 1 1",
        id="smallest-values",
    ),
    pytest.param(
        {"CODEX_MAX_FILE_BYTES": "3MiB", "CODEX_MAX_PROJECT_BYTES": "1 G"}, "3145728 1073741824 200000 100", id="units"
    ),
    pytest.param(
        {"CODEX_MAX_FILE_BYTES": "lots"},
        f"CODEX_MAX_FILE_BYTES: must be a positive size in bytes, not 'lots'\n{SIZE_HINT}",
        id="file-bytes-word",
    ),
    pytest.param(
        {"CODEX_MAX_FILE_BYTES": "0"},
        f"CODEX_MAX_FILE_BYTES: must be a positive size in bytes, not '0'\n{SIZE_HINT}",
        id="file-bytes-zero",
    ),
    pytest.param(
        {"CODEX_MAX_PROJECT_BYTES": "0M"},
        f"CODEX_MAX_PROJECT_BYTES: must be a positive size in bytes, not '0M'\n{SIZE_HINT}",
        id="project-bytes-zero-megabytes",
    ),
    pytest.param(
        {"CODEX_MAX_PROJECT_BYTES": "5T"},
        f"CODEX_MAX_PROJECT_BYTES: must be a positive size in bytes, not '5T'\n{SIZE_HINT}",
        id="project-bytes-unknown-unit",
    ),
    pytest.param(
        {"CODEX_MAX_FILE_BYTES": "9" * 45 + "x"},
        "CODEX_MAX_FILE_BYTES: must be a positive size in bytes, not "
        f"'9999999999999999999999999999999999999999'\n{SIZE_HINT}",
        id="long-value-shown-cut",
    ),
    pytest.param(
        {"CODEX_MAX_YAML_NODES": "many"},
        "CODEX_MAX_YAML_NODES: must be a positive whole number, not 'many'",
        id="nodes-word",
    ),
    pytest.param(
        {"CODEX_MAX_YAML_NODES": "0"},
        "CODEX_MAX_YAML_NODES: must be a positive whole number, not '0'",
        id="nodes-zero",
    ),
    pytest.param(
        {"CODEX_MAX_YAML_DEPTH": "-5"},
        "CODEX_MAX_YAML_DEPTH: must be a positive whole number, not '-5'",
        id="depth-negative",
    ),
    pytest.param(
        {"CODEX_MAX_YAML_DEPTH": "2.5"},
        "CODEX_MAX_YAML_DEPTH: must be a positive whole number, not '2.5'",
        id="depth-fraction",
    ),
]


@pytest.mark.parametrize(("environ", "expected"), CASES)
def test_what_a_bad_limit_reads(environ: dict[str, str], expected: str) -> None:
    assert _outcome(environ) == expected
