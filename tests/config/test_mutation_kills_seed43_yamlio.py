"""Finding the line of a key path in a YAML text (codex_stacks/config/yamlio.py ``line_of``),
where a sixth sampled mutation run (tools/mutation.py config --sample 60 --seed 43 --recheck)
found that no test asked for the empty path or looked into an empty document."""

from __future__ import annotations

from codex_stacks.config.yamlio import line_of


def test_the_empty_path_is_the_documents_own_line() -> None:
    """The deepest node of an empty path is the document itself: the line its content starts
    on (line 3 after two blank lines)."""
    assert line_of("a: 1\n", []) == 1
    assert line_of("\n\na: 1\nb: 2\n", []) == 3


def test_an_empty_document_has_no_line_for_any_path() -> None:
    """Nothing exists in an empty document (or one of comments only): no line, and no error."""
    assert line_of("", ["a"]) is None
    assert line_of("# only a comment\n", ["a", 0]) is None
    assert line_of("", []) is None
