"""codex.configBlocks of services.yaml (codex_stacks/config/tomlblocks.py) where a second fresh
sampled mutation run (tools/mutation.py config --sample 60 --seed 29 --recheck) found that only
subprocess tests (invisible to mutmut) held the error for a block that sets a key codexctl writes:
it names the services.yaml key to use instead, in camelCase."""

from __future__ import annotations

import pytest

from codex_stacks.errors import CodexError, CombinedError
from tests.config.conftest import load


def problems(text: str) -> list[CodexError]:
    with pytest.raises(CodexError) as info:
        load(text)
    error = info.value
    return list(error.problems) if isinstance(error, CombinedError) else [error]


@pytest.mark.parametrize(
    ("block", "instead"),
    [
        ('model = \\"o3\\"', "'model' is set by codex.model"),
        ('model_reasoning_effort = \\"high\\"', "'model_reasoning_effort' is set by codex.modelReasoningEffort"),
    ],
)
def test_a_block_that_sets_a_key_codexctl_writes_names_the_key_to_use(block: str, instead: str) -> None:
    (error,) = problems(f'project: demo\ncodex:\n  configBlocks:\n    - "{block}"\n')
    assert error.message.endswith(f"{instead}, not by a block")
    assert error.location.path == "codex.configBlocks[0]"
