"""Every error of services.yaml's YAML layer (codex_stacks/config/document.py) printed whole, as
``codexctl validate`` shows it: old-dialect lines, keys that are not names, duplicate keys,
values a YAML tag cannot make, and the lines templates are reported at."""

from __future__ import annotations

import pytest

from codex_stacks.config import document
from tests.config.error_messages import problems_of

DIALECT_HINT = (
    "  hint: services.yaml is YAML with {{ … }} expressions in values: use when: to switch an item on or off, "
    "and vars: for values computed once"
)
KNOWN = (
    "  hint: known variables: base_domain, env, env_or, mode, namespace, project, project_root, registry, slot, "
    "storage, vars, versions"
)
USES_A = "namespace:\n  patterns:\n    dev: '{{ a }}'\nenvironments:\n  dev: {}\n"

CASES = [
    pytest.param(
        "project: demo\n{% set region = 'eu' %}\n",
        "services.yaml:2: '{% set region = … %}' lines are no longer part of services.yaml\n"
        "  hint: move it to the top-level vars: mapping: vars: {region: '{{ 'eu' }}'}",
        id="old-set-line",
    ),
    pytest.param(
        "project: demo\n{% if true %}\nmaxSlots: 1\n{% endif %}\n",
        f"services.yaml:2: '{{% if … %}}' statements are no longer part of services.yaml\n{DIALECT_HINT}",
        id="old-if-block",
    ),
    pytest.param(
        "project: demo\n{%- for x in [1] %}\nmaxSlots: 1\n",
        f"services.yaml:2: '{{% for … %}}' statements are no longer part of services.yaml\n{DIALECT_HINT}",
        id="old-for-trimmed",
    ),
    pytest.param(
        "project: demo\nhooks:\n  x: |\n    {% if x %}\nmaxSlots: [1\n",
        "services.yaml:6: invalid YAML: did not find expected ',' or ']'",
        id="yaml-error-elsewhere-is-itself",
    ),
    pytest.param(
        "project: demo\n? [a, b]\n: 1\n", "services.yaml:2: a key must be a plain name", id="sequence-key-top"
    ),
    pytest.param(
        "project: demo\ncodex:\n  ? {a: 1}\n  : 1\n",
        "services.yaml:3: codex: a key must be a plain name",
        id="mapping-key-nested",
    ),
    pytest.param(
        "project: demo\nnull: 1\n",
        "services.yaml:2: the key 'null' reads as null, not as a name\n  hint: quote it to use it as a name: 'null':",
        id="null-key",
    ),
    pytest.param(
        "project: demo\ncodex:\n  model: x\n  yes: 1\n",
        "services.yaml:4: codex: the key 'yes' reads as a boolean, not as a name\n"
        "  hint: quote it to use it as a name: 'yes':",
        id="boolean-key",
    ),
    pytest.param(
        "project: demo\nvars:\n  '{{ env }}': 1\n",
        "services.yaml:3: vars: keys cannot be templates: '{{ env }}'\n  hint: only values may hold {{ … }}",
        id="template-key",
    ),
    pytest.param(
        "project: a\nmaxSlots: 1\nproject: b\n",
        "services.yaml:3: duplicate key 'project' (first given on line 1)\n  hint: remove one of the two entries",
        id="duplicate-key",
    ),
    pytest.param(
        "project: demo\nmaxSlots: !!int many\n",
        "services.yaml:2: invalid YAML: not a valid !!int (quote the value to keep it as text)",
        id="tag-cannot-make-value",
    ),
    pytest.param(
        "project: demo\nvars:\n  a: '{{ nope }}'\n" + USES_A,
        f"services.yaml:3: vars.a: undefined template variable: 'nope' is undefined\n{KNOWN}",
        id="template-line",
    ),
    pytest.param(
        "project: demo\nvars:\n  a: |\n    x\n    {{ nope }}\n" + USES_A,
        f"services.yaml:5: vars.a: undefined template variable: 'nope' is undefined\n{KNOWN}",
        id="block-template-second-line",
    ),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_what_validate_prints(text: str, expected: str) -> None:
    assert problems_of(text) == expected


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        pytest.param(3, "no problem", id="at-the-bound"),
        pytest.param(
            2, "services.yaml:2: the file expands to more than 2 values (YAML aliases?)", id="one-over-the-bound"
        ),
    ],
)
def test_the_values_bound(values: int, expected: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The bound is two million values (seconds to build): lowered here, the line rule is the same.
    The root mapping is value 1, the value of line 2 value 3."""
    monkeypatch.setattr(document, "_MAX_NODES", values)
    assert problems_of("project: demo\nmaxSlots: 1\n") == expected
