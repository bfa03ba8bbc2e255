"""Templates of services.yaml values and manifests (codex_stacks/config/templating.py), where a
fresh sampled mutation run (tools/mutation.py config --sample 60 --seed 29) found behaviour no
in-process test held. Expected texts are written out by hand from JSON, YAML and Jinja rules."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from codex_stacks.config.templating import EnvPolicy, OutsideValues, evaluate, render, render_text
from codex_stacks.errors import Location, TemplateError

SOURCE = Path("/project/services.yaml")
TITLE = "Café \U0001f680"  # an é (U+00E9) and a rocket (U+1F680, outside the Basic Multilingual Plane)


def test_quote_keeps_non_ascii_text_as_written() -> None:
    """A prompt shows the title itself, not JSON escapes such as \\u00e9."""
    assert render("title: {{ t | quote }}", {"t": TITLE}, source="prompt.md") == 'title: "Café \U0001f680"'


def test_a_quoted_title_reads_back_from_a_manifest_as_the_same_text() -> None:
    """YAML reads a \\uXXXX escape as one UTF-16 unit: an escaped rocket would come back as two
    lone surrogates, a string no UTF-8 writer accepts."""
    rendered = render_text(
        "metadata:\n  annotations:\n    title: {{ t | quote }}\n",
        {"t": TITLE},
        source=Path("/project/manifests/app.yaml"),
        known=OutsideValues(),
    )
    document = yaml.safe_load(rendered.text)
    assert document == {"metadata": {"annotations": {"title": TITLE}}}
    assert document["metadata"]["annotations"]["title"].encode("utf-8") == b"Caf\xc3\xa9 \xf0\x9f\x9a\x80"


def test_a_value_renders_under_the_name_of_its_file() -> None:
    """Jinja's ``self`` is a TemplateReference whose text names the template: the file given."""
    value = evaluate(
        "in {{ self }}",
        {},
        where=lambda line: Location(file=SOURCE, line=line),
        name=str(SOURCE),
        known=OutsideValues(),
    )
    assert value == "in <TemplateReference '/project/services.yaml'>"


def test_an_undeclared_variable_on_a_later_line_of_a_value_is_located_on_that_line() -> None:
    """The value's third line holds the expression: ``where`` is asked for line 3."""
    reader = EnvPolicy(declared={}, environ={}).reader(OutsideValues())
    with pytest.raises(TemplateError) as info:
        evaluate(
            "first line\nsecond line\nthird {{ env_or('NOPE') }} line\n",
            {"env_or": reader},
            where=lambda line: Location(file=SOURCE, line=None if line is None else 10 + line, path="vars.x"),
            name=str(SOURCE),
            known=OutsideValues(),
        )
    error = info.value
    assert error.message == "env_or('NOPE'): NOPE is not declared"
    assert (error.location.file, error.location.line, error.location.path) == (SOURCE, 13, "vars.x")
    assert error.hint == "declare it in services.yaml: envVars: {NOPE: {}} (add secret: true for a secret)"
