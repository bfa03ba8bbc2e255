"""Every error a template in services.yaml or in a manifest (codex_stacks/config/templating.py)
shows, whole, as a user reads it after ``codexctl validate``.

Each case is a project: the services.yaml below (:data:`HEAD`, then the case's lines from line
13 on) and a ConfigMap manifest ``k/a.yaml`` whose line 6 the case may replace. The expected text
is written out by hand: ``file:line: key path: message`` and, on the next line, the hint
(docs/services-yaml.md, "Templates"). ``<project>`` stands for the project's folder.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from codex_stacks.errors import CodexError, raise_all
from codex_stacks.plan import PlanRequest, build_plan
from codex_stacks.plan.check import check_everything

HEAD = """\
project: demo
environments:
  dev: {}
envVars:
  CODEX_EMT_OUTSIDE: {}
  CODEX_EMT_SECRET: {secret: true}
  CODEX_EMT_PLAIN: {}
services:
  - name: api
    manifests:
      - path: k/a.yaml
vars:
"""
"""Lines 1-12 of every case's services.yaml; the case's own lines start at line 13."""

MANIFEST = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  x: "1"\n'
"""k/a.yaml; a case may replace its line 6 (``  x: "1"``)."""

OUTSIDE = "a: b"
"""CODEX_EMT_OUTSIDE: text that would add a key if spliced into YAML."""
SECRET = "hunter22-secret"
"""CODEX_EMT_SECRET, declared secret: never shown in an error."""

CONTEXT = "base_domain, env, env_or, mode, namespace, project, project_root, registry, slot, storage, vars, versions"
"""The context variables every template sees (docs/services-yaml.md), before a project's own vars."""

VALID = "valid"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CODEX_EMT_OUTSIDE", OUTSIDE)
    monkeypatch.setenv("CODEX_EMT_SECRET", SECRET)
    monkeypatch.setenv("CODEX_EMT_PLAIN", "plain")
    monkeypatch.delenv("CODEX_EMT_UNDECLARED", raising=False)
    return tmp_path


def outcome(project: Path, lines: str, manifest_line: str | None = None) -> str:
    """``validate`` of a case: HEAD + ``lines``, and the manifest with ``manifest_line`` as its line 6."""
    manifest = MANIFEST if manifest_line is None else MANIFEST.replace('  x: "1"\n', manifest_line + "\n")
    return outcome_of(project, HEAD + lines, manifest)


def outcome_of(project: Path, services: str, manifest: str = MANIFEST) -> str:
    """What ``validate`` of the dev stack shows for these files: ``VALID``, or the whole text of its error."""
    (project / "services.yaml").write_text(services, encoding="utf-8")
    (project / "k").mkdir(exist_ok=True)
    (project / "k" / "a.yaml").write_text(manifest, encoding="utf-8")
    request = PlanRequest(stack="dev", project_dir=project)
    try:
        raise_all(check_everything(request))
        build_plan(request)
    except CodexError as exc:
        return str(exc).replace(str(project.resolve()), "<project>")
    return VALID


UNDEFINED_HINT = f"  hint: known variables: {CONTEXT}"
SANDBOX_HINT = "  hint: templates run in a sandbox: use the context variables, not Python internals"
BUDGET_HINT = "  hint: limits: docs/template-budget.md"
SIZE = "template budget exceeded: size of a value (characters or items) > 1000000 (CODEX_TEMPLATE_MAX_SIZE)"

VALUES = [
    # -- one expression (read by the fast splitter)
    pytest.param(
        '  x: "{{ nope }}"\n',
        "<project>/services.yaml:13: vars.x: undefined template variable: 'nope' is undefined\n" + UNDEFINED_HINT,
        id="undefined-name",
    ),
    pytest.param(
        "  x: |\n    first\n    second {{ nope }}\n",
        "<project>/services.yaml:15: vars.x: undefined template variable: 'nope' is undefined\n" + UNDEFINED_HINT,
        id="undefined-name-on-the-third-line-of-a-block",
    ),
    pytest.param(
        '  a: 1\n  x: "{{ a.b.c }}"\n',
        "<project>/services.yaml:14: vars.x: undefined template variable: 'int object' has no attribute 'b'\n"
        f"  hint: known variables: a, {CONTEXT}",
        id="undefined-attribute-lists-earlier-vars",
    ),
    pytest.param(
        "  x: \"{{ ''.__class__ }}\"\n",
        "<project>/services.yaml:13: vars.x: template is not allowed to do this: "
        "access to attribute '__class__' of 'str' object is unsafe.\n" + SANDBOX_HINT,
        id="sandbox",
    ),
    pytest.param("  x: \"{{ 'a' * 1000000 }}\"\n", VALID, id="size-at-the-default-limit"),
    pytest.param(
        "  x: \"{{ 'a' * 1000001 }}\"\n",
        f"<project>/services.yaml:13: vars.x: {SIZE}\n{BUDGET_HINT}",
        id="size-over-the-default-limit",
    ),
    pytest.param(
        "  x: \"{{ 'a' - 1 }}\"\n",
        "<project>/services.yaml:13: vars.x: template failed: TypeError: "
        "unsupported operand type(s) for -: 'str' and 'int'",
        id="type-error",
    ),
    pytest.param(
        '  x: "{{ 1|xmlattr }}"\n',
        "<project>/services.yaml:13: vars.x: template failed: AttributeError: 'int' object has no attribute 'items'",
        id="attribute-error-of-a-filter",
    ),
    pytest.param(
        '  x: "{{ 1 2 }}"\n',
        "<project>/services.yaml:13: vars.x: template syntax error: "
        "expected token 'end of print statement', got 'integer'",
        id="two-expressions-in-one",
    ),
    pytest.param(
        '  x: "{{ [1]|map|list }}"\n',
        "<project>/services.yaml:13: vars.x: template error: map requires a filter argument",
        id="jinja-runtime-error",
    ),
    pytest.param(
        "  x: \"{{ env_or('CODEX_EMT_UNDECLARED') }}\"\n",
        "<project>/services.yaml:13: vars.x: env_or('CODEX_EMT_UNDECLARED'): CODEX_EMT_UNDECLARED is not declared\n"
        "  hint: declare it in services.yaml: envVars: {CODEX_EMT_UNDECLARED: {}} (add secret: true for a secret)",
        id="env-or-undeclared",
    ),
    pytest.param(
        "  x: |\n    first\n    {{ env_or('CODEX_EMT_UNDECLARED') }}\n",
        "<project>/services.yaml:15: vars.x: env_or('CODEX_EMT_UNDECLARED'): CODEX_EMT_UNDECLARED is not declared\n"
        "  hint: declare it in services.yaml: envVars: {CODEX_EMT_UNDECLARED: {}} (add secret: true for a secret)",
        id="env-or-undeclared-on-the-second-line-of-a-block",
    ),
    pytest.param(
        "  x: |\n    first\n    {{ 'a' ~\n    env_or('CODEX_EMT_UNDECLARED') }}\n",
        "<project>/services.yaml:15: vars.x: env_or('CODEX_EMT_UNDECLARED'): CODEX_EMT_UNDECLARED is not declared\n"
        "  hint: declare it in services.yaml: envVars: {CODEX_EMT_UNDECLARED: {}} (add secret: true for a secret)",
        id="an-expression-over-two-lines-is-named-by-its-first",
    ),
    pytest.param(
        "  x: |\n    first\n    {{ 'a' ~\n    nope }}\n",
        "<project>/services.yaml:15: vars.x: undefined template variable: 'nope' is undefined\n" + UNDEFINED_HINT,
        id="undefined-in-an-expression-over-two-lines",
    ),
    pytest.param(
        "  x: \"{{ env_or('GITHUB_TOKEN') }}\"\n",
        "<project>/services.yaml:13: vars.x: env_or('GITHUB_TOKEN') is not allowed: "
        "it holds the runner's deploy or agent credentials",
        id="env-or-of-a-runner-credential",
    ),
    pytest.param(
        "  x: \"{{ env_or('AWS_SECRET_ACCESS_KEY') }}\"\n",
        "<project>/services.yaml:13: vars.x: env_or('AWS_SECRET_ACCESS_KEY') is not allowed: "
        "it holds the runner's deploy or agent credentials",
        id="env-or-of-a-cloud-credential-prefix",
    ),
    pytest.param(
        "  x: \"{{ [1].index(env_or('CODEX_EMT_SECRET')) }}\"\n",
        "<project>/services.yaml:13: vars.x: template failed: ValueError: '[secret]' is not in list",
        id="secret-masked-in-a-python-error",
    ),
    pytest.param(
        "  x: \"{{ {'k': 1}[env_or('CODEX_EMT_SECRET')] }}\"\n",
        "<project>/services.yaml:13: vars.x: undefined template variable: 'dict object' has no attribute '[secret]'\n"
        + UNDEFINED_HINT,
        id="secret-masked-in-an-undefined-error",
    ),
    pytest.param(
        "  x: \"{{ [1]|select(env_or('CODEX_EMT_SECRET'))|list }}\"\n",
        "<project>/services.yaml:13: vars.x: template error: No test named '[secret]'.",
        id="secret-masked-in-a-jinja-error",
    ),
    pytest.param(
        '  a: "{{ nope }}"\n  x: "{{ a }}"\n',
        "<project>/services.yaml:13: vars.a: undefined template variable: 'nope' is undefined\n" + UNDEFINED_HINT,
        id="a-var-using-a-failed-var-names-the-first",
    ),
    pytest.param(
        "  x: \"a {{ nope }} b {{ 'c' - 1 }}\"\n",
        "<project>/services.yaml:13: vars.x: undefined template variable: 'nope' is undefined\n" + UNDEFINED_HINT,
        id="text-with-two-expressions-stops-at-the-first-failure",
    ),
    # -- text only the full compiler reads (statements, whitespace control, broken braces)
    pytest.param(
        '  x: "{{ x }"\n',
        "<project>/services.yaml:13: vars.x: template syntax error: unexpected '}'",
        id="syntax-error",
    ),
    pytest.param(
        "  x: |\n    first\n    {{ x }\n",
        "<project>/services.yaml:15: vars.x: template syntax error: unexpected '}'",
        id="syntax-error-on-the-second-line-of-a-block",
    ),
    pytest.param(
        '  x: "{% if true %}a{% endif %}"\n',
        "<project>/services.yaml:13: vars.x: only {{ … }} expressions are allowed in services.yaml values, not {% … %} "
        "statements\n  hint: use when: to switch an item on or off, and vars: for values computed once",
        id="statement",
    ),
    pytest.param(
        "  x: \"{{- env_or('CODEX_EMT_UNDECLARED') }}\"\n",
        "<project>/services.yaml:13: vars.x: env_or('CODEX_EMT_UNDECLARED'): CODEX_EMT_UNDECLARED is not declared\n"
        "  hint: declare it in services.yaml: envVars: {CODEX_EMT_UNDECLARED: {}} (add secret: true for a secret)",
        id="env-or-undeclared-with-whitespace-control",
    ),
    pytest.param(
        "  x: |\n    first\n    {{- env_or('CODEX_EMT_UNDECLARED') }}\n",
        "<project>/services.yaml:15: vars.x: env_or('CODEX_EMT_UNDECLARED'): CODEX_EMT_UNDECLARED is not declared\n"
        "  hint: declare it in services.yaml: envVars: {CODEX_EMT_UNDECLARED: {}} (add secret: true for a secret)",
        id="env-or-undeclared-with-whitespace-control-on-the-second-line-of-a-block",
    ),
    pytest.param(
        '  x: "{{- nope }}"\n',
        "<project>/services.yaml:13: vars.x: undefined template variable: 'nope' is undefined\n" + UNDEFINED_HINT,
        id="undefined-with-whitespace-control",
    ),
    pytest.param(
        '  a: "{{ nope }}"\n  x: "{{- a }}"\n',
        "<project>/services.yaml:13: vars.a: undefined template variable: 'nope' is undefined\n" + UNDEFINED_HINT,
        id="a-failed-var-through-the-full-compiler-names-the-first",
    ),
    pytest.param(
        "  x: 1\n",
        VALID,
        id="a-plain-project",
    ),
]


@pytest.mark.parametrize(("lines", "expected"), VALUES)
def test_a_services_yaml_value_fails_in_this_one_line(project: Path, lines: str, expected: str) -> None:
    assert outcome(project, lines) == expected


MANIFESTS = [
    pytest.param(
        "  x: {{ nope }}",
        "<project>/k/a.yaml:6: undefined template variable: 'nope' is undefined\n"
        f"  hint: known variables: {CONTEXT}, y",
        id="undefined-name",
    ),
    pytest.param("  x: {{ y }", "<project>/k/a.yaml:6: template syntax error: unexpected '}'", id="syntax-error"),
    pytest.param(
        "  x: {{ ''.__class__ }}",
        "<project>/k/a.yaml:6: template is not allowed to do this: "
        "access to attribute '__class__' of 'str' object is unsafe.\n" + SANDBOX_HINT,
        id="sandbox",
    ),
    pytest.param(
        "  x: {{ 'a' * 1000001 }}", f"<project>/k/a.yaml:6: {SIZE}\n{BUDGET_HINT}", id="size-over-the-default-limit"
    ),
    pytest.param(
        "  x: {{ 'a' - 1 }}",
        "<project>/k/a.yaml:6: template failed: TypeError: unsupported operand type(s) for -: 'str' and 'int'",
        id="type-error",
    ),
    pytest.param(
        "  x: {{ [1]|map|list }}",
        "<project>/k/a.yaml:6: template error: map requires a filter argument",
        id="jinja-runtime-error",
    ),
    pytest.param(
        "  x: {{ env_or('CODEX_EMT_UNDECLARED') }}",
        "<project>/k/a.yaml:6: env_or('CODEX_EMT_UNDECLARED'): CODEX_EMT_UNDECLARED is not declared\n"
        "  hint: declare it in services.yaml: envVars: {CODEX_EMT_UNDECLARED: {}} (add secret: true for a secret)",
        id="env-or-undeclared",
    ),
    pytest.param(
        "  x: {{ env_or('KUBECONFIG') }}",
        "<project>/k/a.yaml:6: env_or('KUBECONFIG') is not allowed: it holds the runner's deploy or agent credentials",
        id="env-or-of-a-runner-credential",
    ),
    pytest.param(
        "  x: {% set d = {'a': 1} %}{% for k in d %}{% set _ = d.update({k ~ 'x': 1}) %}{% endfor %}1",
        "<project>/k/a.yaml:6: template failed: RuntimeError: dictionary changed size during iteration",
        id="a-dict-changed-while-a-loop-walks-it",
    ),
    pytest.param("  x: {{ env_or('CODEX_EMT_OUTSIDE') }}", VALID, id="an-outside-value-on-its-own"),
    pytest.param("  x: {{ ('x-' ~ env_or('CODEX_EMT_OUTSIDE'))|quote }}", VALID, id="a-derived-value-quoted"),
    pytest.param("  x: {{ 'x-' ~ env_or('CODEX_EMT_PLAIN') }}", VALID, id="a-derived-value-that-is-safe"),
    pytest.param(
        "  x: {{ 'x-' ~ env_or('CODEX_EMT_OUTSIDE') }}",
        "<project>/k/a.yaml:6: the value of env_or('CODEX_EMT_OUTSIDE') is used inside a larger expression here, "
        "where its text could change the YAML of this manifest\n"
        "  hint: output it on its own, e.g. key: {{ env_or('CODEX_EMT_OUTSIDE') }}, or give it to a filter that "
        "makes it safe (| quote)",
        id="a-derived-value-that-could-change-the-yaml",
    ),
    pytest.param(
        "  x: {{ [1].index(env_or('CODEX_EMT_SECRET')) }}",
        "<project>/k/a.yaml:6: template failed: ValueError: '[secret]' is not in list",
        id="secret-masked",
    ),
]


@pytest.mark.parametrize(("line", "expected"), MANIFESTS)
def test_a_manifest_template_fails_in_this_one_line(project: Path, line: str, expected: str) -> None:
    assert outcome(project, "  y: 1\n", line) == expected


def test_a_manifest_using_a_failed_var_names_the_var_in_services_yaml(project: Path) -> None:
    assert outcome(project, '  y: "{{ nope }}"\n', "  x: {{ y }}") == (
        "<project>/services.yaml:13: vars.y: undefined template variable: 'nope' is undefined\n" + UNDEFINED_HINT
    )


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        pytest.param(
            "GH_TOKEN",
            "<project>/services.yaml:8: envVars.GH_TOKEN: envVars: GH_TOKEN may not be read by templates: "
            "it holds the runner's deploy or agent credentials",
            id="a-credential-by-name",
        ),
        pytest.param(
            "PULUMI_ACCESS_TOKEN",
            "<project>/services.yaml:8: envVars.PULUMI_ACCESS_TOKEN: "
            "envVars: PULUMI_ACCESS_TOKEN may not be read by templates: "
            "it holds the runner's deploy or agent credentials",
            id="a-credential-by-prefix",
        ),
        pytest.param("PULUMI", VALID, id="the-prefix-alone-is-a-name-like-any-other"),
    ],
)
def test_declaring_a_runner_credential_is_refused(project: Path, name: str, expected: str) -> None:
    text = HEAD.replace("  CODEX_EMT_PLAIN: {}\n", f"  CODEX_EMT_PLAIN: {{}}\n  {name}: {{}}\n")
    assert outcome_of(project, text + "  x: 1\n") == expected


@pytest.mark.parametrize(
    ("secret", "shown"),
    [
        pytest.param("q7z4", "[secret]", id="a-secret-of-4-characters-is-masked"),
        pytest.param("q7z", "q7z", id="one-of-3-is-too-short-to-mask-without-garbling-the-message"),
    ],
)
def test_how_short_a_secret_is_still_masked(
    project: Path, monkeypatch: pytest.MonkeyPatch, secret: str, shown: str
) -> None:
    monkeypatch.setenv("CODEX_EMT_SECRET", secret)
    assert outcome(project, "  x: \"{{ [1].index(env_or('CODEX_EMT_SECRET')) }}\"\n") == (
        f"<project>/services.yaml:13: vars.x: template failed: ValueError: '{shown}' is not in list"
    )
