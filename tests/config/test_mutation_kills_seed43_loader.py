"""Environment names in errors (codex_stacks/config/loader.py), where a sixth sampled mutation
run (tools/mutation.py config --sample 60 --seed 43 --recheck) found that no test showed a name
at the exact length where it starts to be cut: a name is shown whole while its quoted text is
at most 42 characters, and cut to its first 40 and "…" past that."""

from __future__ import annotations

from tests.config.error_messages import problems_of

HINT = "  hint: an environment is picked by a stack's name: letters, digits, '-', '_' and '.' only"


def environments(name: str) -> str:
    return f"project: demo\nenvironments:\n  dev: {{}}\n  {name}: {{}}\n"


def test_a_name_of_42_quoted_characters_is_shown_whole() -> None:
    """39 ``a`` and a ``!``: 40 characters, 42 with the quotes."""
    name = "a" * 39 + "!"
    assert problems_of(environments(name)) == (
        f"services.yaml:4: environments: environment name '{name}' is not usable: "
        "invalid character '!' at position 40\n" + HINT
    )


def test_a_name_of_43_quoted_characters_is_cut_to_40_and_an_ellipsis() -> None:
    """40 ``a`` and a ``!``: 43 with the quotes; shown are the quote and 39 ``a``."""
    name = "a" * 40 + "!"
    assert problems_of(environments(name)) == (
        f"services.yaml:4: environments: environment name '{'a' * 39}… is not usable: "
        "invalid character '!' at position 41\n" + HINT
    )
