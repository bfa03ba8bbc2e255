"""What the conversion cannot keep is reported with its line, and left out of the output."""

from __future__ import annotations

import pytest

from codex_stacks.importer import gotemplate as go
from codex_stacks.importer.convert import to_text, to_value


def manual(template: str) -> list[tuple[int, str]]:
    _, converter = to_text(template, forbidden_env=lambda name: name == "OPENAI_API_KEY")
    return [(issue.line, issue.message) for issue in converter.issues if issue.manual]


@pytest.mark.parametrize(
    ("template", "line", "words"),
    [
        ("a: 1\nb: {{ html .Env }}\n", 2, "'html'"),
        ("a: 1\n\nc: {{ .Codex.Model }}\n", 3, ".Codex"),
        ('x: {{ printf "%05s" .Env }}', 1, "zeros"),
        ('x: {{ printf "%s" .Slot }}', 1, "%s of a int"),
        ('x: {{ printf "%s %s" .Env }}', 1, "MISSING"),
        ("x: {{ .Nope }}", 1, "unknown field .Nope"),
        ("{{ range .Versions }}\n{{ break }}{{ end }}", 2, "break"),
        ('k: {{ envOr "OPENAI_API_KEY" "" }}', 1, "credentials"),
        ('k: {{ (now).Format "Monday" }}', 1, "'Monday'"),
        ('{{ template "missing" . }}', 1, "no such template"),
        ("{{ $x := 1 }}{{ $x.Field }}", 1, "field .Field"),
        ('{{ ternary "yes" "a" "b" }}', 1, "must be a bool"),
    ],
)
def test_unconvertible_actions_are_reported_with_their_line(template: str, line: int, words: str) -> None:
    found = manual(template)
    assert len(found) == 1, found
    assert found[0][0] == line
    assert words in found[0][1]


def test_an_action_left_out_is_not_in_the_output() -> None:
    out, _ = to_text("a: {{ html .Env }}|{{ .Env }}")
    assert out == "a: |{{ env }}"


def test_go_syntax_errors_name_the_line() -> None:
    with pytest.raises(go.GoTemplateError) as caught:
        go.parse("a\nb\n{{ if .Env }}\nno end\n")
    assert "has no {{end}}" in caught.value.message
    with pytest.raises(go.GoTemplateError) as unclosed:
        go.parse('x\n{{ printf "%s }}')
    assert unclosed.value.line == 2


def test_a_value_with_a_range_is_reported() -> None:
    converted = to_value("{{ range .Versions }}{{ . }}{{ end }}")
    assert [issue.line for issue in converted.converter.issues if issue.manual] == [1]


def test_values_keep_or_print_their_type() -> None:
    assert to_value('{{ eq .Env "ai" }}', want="bool").value == '{{ (env == "ai") }}'
    assert to_value('{{ eq .Env "ai" }}').value == '{{ ("true" if (env == "ai") else "false") }}'
    assert to_value("{{ .Slot }}").value == "{{ (slot | string) }}"
    assert to_value('{{ "{%" }} x').value == '{{ "{% x" }}'
