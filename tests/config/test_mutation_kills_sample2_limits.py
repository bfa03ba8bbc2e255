"""The operator's read limits (codex_stacks/config/limits.py) where a second fresh sampled mutation
run (tools/mutation.py config --sample 60 --seed 29 --recheck) found that no test held how a limit
that is not a whole number of KiB, MiB or GiB is shown: exactly, in the largest unit that divides
it, so the message states the limit the operator set."""

from __future__ import annotations

from pathlib import Path

import pytest

from codex_stacks.config.files import read_text
from codex_stacks.config.limits import Limits
from codex_stacks.errors import ConfigError


@pytest.mark.parametrize(
    ("limit", "shown"),
    [
        (1500, "1500 bytes"),  # above 1 KiB, not a multiple of it
        (1536 * 1024, "1536 KiB"),  # 1.5 MiB: a multiple of 1 KiB only
        (3 << 20, "3 MiB"),
    ],
)
def test_a_file_over_the_limit_is_refused_with_the_limit_shown_exactly(tmp_path: Path, limit: int, shown: str) -> None:
    path = tmp_path / "services.yaml"
    path.write_bytes(b"#" * (limit + 1))
    with pytest.raises(ConfigError) as info:
        read_text(path, limits=Limits(file_bytes=limit, project_bytes=limit * 4))
    assert info.value.message == f"the file is larger than {shown}"
    assert info.value.location.file == path
