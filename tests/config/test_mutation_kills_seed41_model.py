"""Build arguments in services.yaml (codex_stacks/config/model.py, ``images.<name>.buildArgs``),
where a fifth sampled mutation run (tools/mutation.py config --sample 60 --seed 41 --recheck)
found that no test held which values are read as text: YAML numbers are (``16``, ``0.1``),
a boolean, a null or a list is an error, not the text Python would print for it."""

from __future__ import annotations

import pytest

from tests.config.error_messages import problems_of

HEAD = (
    "project: demo\nenvironments:\n  dev: {}\n"
    "images:\n  api:\n    type: build\n    repository: r\n    tagTemplate: t\n    buildArgs:\n"
)
"""The build arguments start on line 10."""


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("16", "no problem", id="an-integer-is-its-text"),
        pytest.param("0.1", "no problem", id="a-float-is-its-text"),
        pytest.param(
            "true", "services.yaml:10: images.api.buildArgs.FLAG: Input should be a valid string", id="a-boolean"
        ),
        pytest.param("null", "services.yaml:10: images.api.buildArgs.FLAG: Input should be a valid string", id="null"),
        pytest.param("[1]", "services.yaml:10: images.api.buildArgs.FLAG: Input should be a valid string", id="a-list"),
    ],
)
def test_a_build_argument_is_text_and_a_yaml_number_reads_as_text(value: str, expected: str) -> None:
    assert problems_of(HEAD + f"      FLAG: {value}\n") == expected
