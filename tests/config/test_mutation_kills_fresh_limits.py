"""Sizes in the messages of the operator's limits (codex_stacks/config/limits.py), where a fresh
sampled mutation run (tools/mutation.py config --sample 60 --seed 29) found a unit no in-process
test held."""

from __future__ import annotations

from pathlib import Path

import pytest

from codex_stacks.config.files import read_text
from codex_stacks.config.limits import Limits
from codex_stacks.errors import ConfigError

MIB = 1024 * 1024


def test_a_limit_of_whole_mebibytes_is_shown_in_mib(tmp_path: Path) -> None:
    (tmp_path / "big.yaml").write_bytes(b"a" * (3 * MIB + 1))
    with pytest.raises(ConfigError) as info:
        read_text(tmp_path / "big.yaml", root=tmp_path, limits=Limits(file_bytes=3 * MIB))
    assert info.value.message == "the file is larger than 3 MiB"


def test_a_project_limit_of_whole_mebibytes_is_shown_in_mib(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_bytes(b"a" * 700_000)
    (tmp_path / "b.yaml").write_bytes(b"b" * 700_000)
    limits = Limits(file_bytes=MIB, project_bytes=MIB)
    read_text(tmp_path / "a.yaml", root=tmp_path, limits=limits)
    with pytest.raises(ConfigError) as info:
        read_text(tmp_path / "b.yaml", root=tmp_path, limits=limits)
    assert info.value.message == "the project's files add up to more than 1 MiB with this one"
