"""The project's byte total when a file's size is not known before it is read
(codex_stacks/config/files.py), where a third sampled mutation run (tools/mutation.py config
--sample 60 --seed 31) found behaviour no in-process test held."""

from __future__ import annotations

from pathlib import Path

import pytest

from codex_stacks.config.files import read_bytes
from codex_stacks.config.limits import Limits
from codex_stacks.errors import ConfigError


def test_a_file_whose_size_fstat_does_not_know_still_counts_against_the_project() -> None:
    """procfs reports size 0 for /proc/self/status (proc(5)), which holds far more than 64
    bytes: only the count after the read can see the project's total passed."""
    root = Path("/proc/self")
    status = root / "status"
    assert status.stat().st_size == 0  # the premise: fstat does not know the size
    with pytest.raises(ConfigError) as info:
        read_bytes(status, root=root, limits=Limits(file_bytes=1 << 20, project_bytes=64))
    error = info.value
    assert error.message == "the project's files add up to more than 64 bytes with this one"
    assert error.location.file == status
    assert error.hint == "the limit is CODEX_MAX_PROJECT_BYTES in the environment of codexctl and pulumi"
