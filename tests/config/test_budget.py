"""The template budget (codex_stacks/config/budget.py): hostile templates end in one clean error
with file and line, quickly and in little memory; ordinary templates render as before.

Hostile templates run in a child process with an address-space cap and a CPU-time cap, so a
regression fails the test instead of hanging or eating the machine; the child reports its peak
memory itself (``ru_maxrss``, kilobytes on Linux). Expected outputs of ordinary templates come
from Jinja's own sandbox.
"""

from __future__ import annotations

import json
import os
import random
import select
import signal
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import jinja2
import pytest
import yaml
from jinja2.sandbox import SandboxedEnvironment

from codex_stacks.config.budget import (
    ENVIRONMENT_VARIABLES,
    BudgetedEnvironment,
    RenderBudget,
    budget_scope,
    budgeted_environment,
    evaluate_bounded,
    render_bounded,
)
from codex_stacks.config.templating import slug
from codex_stacks.errors import ConfigError, TemplateError
from codex_stacks.plan import PlanRequest, build_plan
from tests.conftest import REPO_ROOT

CPU_SECONDS = 2
"""A hostile render must finish within this CPU time (the kernel stops it past that)."""
PEAK_MEMORY_MB = 300
ADDRESS_SPACE = 1 << 30
"""The safety net: past it, allocations fail instead of swapping the machine."""
HANG_GUARD_SECONDS = 30
"""Wall-clock guard for a child that would sleep rather than compute (never expected)."""

# A fork server: imports the budget once, then for each case (a JSON line on stdin) forks a
# child that caps its own address space and CPU time, loads the template from its file (as
# manifests are), renders it in a BudgetedEnvironment and reports the TemplateError it got. The
# server reaps the child with wait4 and adds what the kernel measured: its peak memory
# (ru_maxrss, kilobytes on Linux), its CPU time and how it ended.
SERVER = textwrap.dedent(
    """
    import json, os, resource, signal, sys, threading
    import jinja2
    from codex_stacks.config.budget import RenderBudget, budgeted_environment
    from codex_stacks.errors import TemplateError

    def render(spec):
        env = budgeted_environment(
            RenderBudget(**spec["budget"]),
            loader=jinja2.FileSystemLoader(spec["folder"]),
            undefined=jinja2.StrictUndefined,
            keep_trailing_newline=True,
        )
        if spec["own_tojson"]:  # a project's own tojson, as codex_stacks/config/templating.py has
            env.filters["tojson"] = lambda value, indent=None: json.dumps(value, indent=indent)
        report = {}

        def run():
            try:
                report["rendered"] = len(env.get_template(spec["name"]).render(spec["context"]))
            except TemplateError as exc:
                report["text"] = str(exc)
                report["message"] = exc.message
                report["file"] = str(exc.location.file) if exc.location.file else None
                report["line"] = exc.location.line
            except BaseException as exc:
                report["unexpected"] = f"{type(exc).__name__}: {str(exc)[:300]}"

        if spec["thread"]:
            worker = threading.Thread(target=run)
            worker.start()
            worker.join()
        else:
            run()
        return report

    for line in sys.stdin:
        spec = json.loads(line)
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(read_end)
            resource.setrlimit(resource.RLIMIT_AS, (spec["address_space"], spec["address_space"]))
            resource.setrlimit(resource.RLIMIT_CPU, (spec["cpu_seconds"], spec["cpu_seconds"] + 1))
            os.write(write_end, json.dumps(render(spec)).encode())
            os._exit(0)
        os.close(write_end)
        with os.fdopen(read_end, "rb") as pipe:
            data = pipe.read()
        _, status, usage = os.wait4(pid, 0)
        report = json.loads(data) if data else {}
        report["signal"] = os.WTERMSIG(status) if os.WIFSIGNALED(status) else None
        report["peak_mb"] = usage.ru_maxrss / 1024
        report["cpu_seconds"] = usage.ru_utime + usage.ru_stime
        print(json.dumps(report), flush=True)
    """
)


@pytest.fixture(scope="module")
def fork_server() -> Iterator[subprocess.Popen[str]]:
    server = subprocess.Popen(
        [sys.executable, "-c", SERVER],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
    )
    yield server
    assert server.stdin is not None
    server.stdin.close()
    server.wait(timeout=HANG_GUARD_SECONDS)


def run_child(
    server: subprocess.Popen[str],
    folder: Path,
    name: str,
    *,
    budget: Mapping[str, Any] | None = None,
    context: Mapping[str, Any] | None = None,
    thread: bool = False,
    own_tojson: bool = False,
) -> dict[str, Any]:
    spec = {
        "own_tojson": own_tojson,
        "folder": str(folder),
        "name": name,
        "budget": dict(budget or {}),
        "context": dict(context or {}),
        "thread": thread,
        "address_space": ADDRESS_SPACE,
        "cpu_seconds": CPU_SECONDS,
    }
    assert server.stdin is not None
    assert server.stdout is not None
    server.stdin.write(json.dumps(spec) + "\n")
    server.stdin.flush()
    ready, _, _ = select.select([server.stdout], [], [], HANG_GUARD_SECONDS)
    assert ready, f"no answer within {HANG_GUARD_SECONDS} s"
    report: dict[str, Any] = json.loads(server.stdout.readline())
    if report["signal"] == signal.SIGXCPU:
        pytest.fail(f"the render used more than {CPU_SECONDS} s of CPU")
    assert report["signal"] is None, report
    assert report["peak_mb"] < PEAK_MEMORY_MB, report
    assert report["cpu_seconds"] < CPU_SECONDS, report
    return report


def hostile(server: subprocess.Popen[str], tmp_path: Path, source: str, **kwargs: Any) -> dict[str, Any]:
    (tmp_path / "t.yaml.j2").write_text(source, encoding="utf-8")
    report = run_child(server, tmp_path, "t.yaml.j2", **kwargs)
    assert "unexpected" not in report, report
    assert "rendered" not in report, f"the template rendered {report['rendered']} characters"
    assert report["file"] == str(tmp_path / "t.yaml.j2")
    assert "\n" not in report["text"]
    return report


LOOPS = "template budget exceeded: loop iterations > 200000 (CODEX_TEMPLATE_MAX_LOOPS)"
SIZE = "template budget exceeded: size of a value (characters or items) > 1000000 (CODEX_TEMPLATE_MAX_SIZE)"
INT = "template budget exceeded: integer size > 4096 bits (CODEX_TEMPLATE_MAX_INT_BITS)"
DEPTH = "template budget exceeded: call depth > 64 (CODEX_TEMPLATE_MAX_DEPTH)"
OUTPUT = "template budget exceeded: output characters > 2000000 (CODEX_TEMPLATE_MAX_OUTPUT)"
TOTAL = "template budget exceeded: total size of the values made > 16000000 (CODEX_TEMPLATE_MAX_TOTAL)"

# (source, the error, the line it names): line 1 is a harmless header in each.
HOSTILE = {
    "nested loops": (
        "kind: ConfigMap\n{% for i in range(1000) %}\n{% for j in range(1000) %}{% endfor %}{% endfor %}\n",
        LOOPS,
        3,
    ),
    "lipsum of a million paragraphs": ("kind: ConfigMap\ndata: {{ lipsum(n=10**6) }}\n", SIZE, 2),
    "a huge integer as text": ("kind: ConfigMap\nx: {{ (10**(10**7))|string }}\n", INT, 2),
    "a gigabyte string": ("kind: ConfigMap\nx: {{ 'a' * 10**9 }}\n", SIZE, 2),
    "a gigabyte format width": ("kind: ConfigMap\nx: {{ '{:>999999999}'.format('x') }}\n", SIZE, 2),
    "a printf width": ("kind: ConfigMap\nx: {{ '%999999999s' % 'x' }}\n", SIZE, 2),
    "a billion-item list": ("kind: ConfigMap\nx: {{ [0] * 10**9 }}\n", SIZE, 2),
    "a huge range": ("kind: ConfigMap\n{% for i in range(10**10) %}{% endfor %}\n", SIZE, 2),
    "a recursive macro": (
        "kind: ConfigMap\n{% macro down(n) %}\n{{ down(n + 1) }}{% endmacro %}\nx: {{ down(0) }}\n",
        DEPTH,
        3,
    ),
    "a recursive for loop": (
        "kind: ConfigMap\n{% for item in [1] recursive %}\n{{ loop([item]) }}{% endfor %}\n",
        DEPTH,
        3,
    ),
    "output": ("kind: ConfigMap\n{% for i in range(100000) %}\n{{ 'x' * 100 }}{% endfor %}\n", OUTPUT, 3),
    "output piled up in a macro": (
        "kind: ConfigMap\n{% macro pile() %}\n{% for i in range(100000) %}{{ 'x' * 100 }}{% endfor %}{% endmacro %}"
        "\n{% set kept = pile() %}\n",
        OUTPUT,
        3,
    ),
    "center": ("kind: ConfigMap\nx: {{ 'x'.center(10**9) }}\n", SIZE, 2),
    "ljust": ("kind: ConfigMap\nx: {{ 'x'.ljust(10**9) }}\n", SIZE, 2),
    "the center filter": ("kind: ConfigMap\nx: {{ 'x'|center(10**9) }}\n", SIZE, 2),
    "the indent filter": ("kind: ConfigMap\nx: {{ 'a\\nb'|indent(10**9) }}\n", SIZE, 2),
    "the wordwrap filter": ("kind: ConfigMap\nx: {{ ('a ' * 10000)|wordwrap(1, wrapstring='-' * 100000) }}\n", SIZE, 2),
    "the join filter": ("kind: ConfigMap\nx: {{ (['x' * 100000] * 10000)|join('-') }}\n", SIZE, 2),
    "the replace filter": ("kind: ConfigMap\nx: {{ ('x' * 1000000)|replace('x', 'y' * 1000) }}\n", SIZE, 2),
    "concatenation that doubles": (
        "kind: ConfigMap\n{% set ns = namespace(s='x') %}{% for i in range(64) %}\n"
        "{% set ns.s = ns.s ~ ns.s %}{% endfor %}\n",
        SIZE,
        3,
    ),
    "a list printed through shared items": (
        "kind: ConfigMap\n{% set ns = namespace(t=[1]) %}{% for i in range(60) %}{% set ns.t = [ns.t, ns.t] %}"
        "{% endfor %}\nx: {{ ns.t }}\n",
        SIZE,
        3,
    ),
    "a tuple hashed through deep nesting": (
        "kind: ConfigMap\n{% set ns = namespace(t=1) %}{% for i in range(1000) %}{% set ns.t = (ns.t,) %}"
        "{% endfor %}\nx: {{ ns.t in {} }}\n",
        "template budget exceeded: nesting of a value > 64 (CODEX_TEMPLATE_MAX_DEPTH)",
        3,
    ),
    "everything a loop keeps": (
        "kind: ConfigMap\n{% set kept = [] %}{% for i in range(1000) %}\n"
        "{% set _ = kept.append('x' * 900000 ~ i) %}{% endfor %}\n",
        TOTAL,
        3,
    ),
    "a list that doubles in place": (
        "kind: ConfigMap\n{% set kept = [1] %}{% for i in range(64) %}\n{% set _ = kept.extend(kept) %}{% endfor %}\n",
        SIZE,
        3,
    ),
    "a sum of lists": ("kind: ConfigMap\nx: {{ ([[0] * 1000] * 2000)|sum(start=[]) }}\n", SIZE, 2),
    "a huge power in a filter": ("kind: ConfigMap\nx: {{ 1.5|round(10**8, 'ceil') }}\n", INT, 2),
}


@pytest.mark.parametrize("case", list(HOSTILE), ids=list(HOSTILE))
def test_a_hostile_template_ends_in_one_clean_error_with_its_line(
    fork_server: subprocess.Popen[str], tmp_path: Path, case: str
) -> None:
    source, message, line = HOSTILE[case]
    report = hostile(fork_server, tmp_path, source)
    assert report["message"] == message
    assert report["line"] == line
    assert report["text"] == f"{tmp_path / 't.yaml.j2'}:{line}: {message}"


def test_a_slow_template_within_the_loop_count_stops_at_the_time_budget(
    fork_server: subprocess.Popen[str], tmp_path: Path
) -> None:
    source = (
        "kind: ConfigMap\n{% set big = range(3000)|list %}{% for i in range(100000) %}\n"
        "{{ big|sort|length }}{% endfor %}\n"
    )
    report = hostile(fork_server, tmp_path, source, budget={"max_seconds": 0.3})
    assert report["message"] == "template budget exceeded: render time > 0.3 s (CODEX_TEMPLATE_MAX_SECONDS)"
    assert report["line"] == 3


def test_the_budget_holds_in_a_thread_that_is_not_the_main_one(
    fork_server: subprocess.Popen[str], tmp_path: Path
) -> None:
    report = hostile(fork_server, tmp_path, HOSTILE["nested loops"][0], thread=True)
    assert (report["message"], report["line"]) == (LOOPS, 3)
    slow = "kind: ConfigMap\n{% for i in range(100000) %}\n{{ range(3000)|list|sort|length }}{% endfor %}\n"
    report = hostile(fork_server, tmp_path, slow, budget={"max_seconds": 0.3}, thread=True)
    assert report["message"] == "template budget exceeded: render time > 0.3 s (CODEX_TEMPLATE_MAX_SECONDS)"


def test_a_projects_own_tojson_is_bounded_like_jinjas(fork_server: subprocess.Popen[str], tmp_path: Path) -> None:
    source = "kind: ConfigMap\nx: {{ [1, 2]|tojson(indent=10**9) }}\n"
    report = hostile(fork_server, tmp_path, source, own_tojson=True)
    assert (report["message"], report["line"]) == (SIZE, 2)


def test_summing_many_lists_takes_linear_time(fork_server: subprocess.Popen[str], tmp_path: Path) -> None:
    # Python's sum() adds lists pairwise: 100,000 one-item lists would copy 5 * 10**9 items.
    (tmp_path / "t.yaml.j2").write_text("{{ ([[0]] * 100000)|sum(start=[])|length }}", encoding="utf-8")
    report = run_child(fork_server, tmp_path, "t.yaml.j2")
    assert report.get("rendered") == len("100000"), report


def test_an_included_partial_is_named_with_its_own_line(fork_server: subprocess.Popen[str], tmp_path: Path) -> None:
    (tmp_path / "_part.j2").write_text("one\ntwo\n{{ 'x' * 10**9 }}\n", encoding="utf-8")
    (tmp_path / "t.yaml.j2").write_text("kind: ConfigMap\n{% include '_part.j2' %}\n", encoding="utf-8")
    report = run_child(fork_server, tmp_path, "t.yaml.j2")
    assert (report["file"], report["line"], report["message"]) == (str(tmp_path / "_part.j2"), 3, SIZE)


def test_python_limits_inside_a_render_end_in_one_clean_error(
    fork_server: subprocess.Popen[str], tmp_path: Path
) -> None:
    recursion = "kind: ConfigMap\n{% macro down(n) %}\n{{ down(n + 1) }}{% endmacro %}\n{{ down(0) }}\n"
    report = hostile(fork_server, tmp_path, recursion, budget={"max_depth": 100_000})
    assert report["message"] == "template recursion is too deep (Python's recursion limit)"
    assert report["line"] == 3

    (tmp_path / "self.j2").write_text("kind: ConfigMap\n{% include 'self.j2' %}\n", encoding="utf-8")
    report = run_child(fork_server, tmp_path, "self.j2")
    assert (report["message"], report["line"]) == ("template recursion is too deep (Python's recursion limit)", 2)

    report = hostile(fork_server, tmp_path, "kind: ConfigMap\nx: {{ 2.0 ** 100000 }}\n")
    assert report["message"] == "template failed: a number is too large to compute"
    assert report["line"] == 2

    # With the size limit lifted, the address-space cap makes the allocation itself fail.
    report = hostile(
        fork_server,
        tmp_path,
        "kind: ConfigMap\nx: {{ 'a' * 4 * 10**9 }}\n",
        budget={"max_size": 10**12, "max_total": 10**12},
    )
    assert (report["message"], report["line"]) == ("template ran out of memory", 2)


# --------------------------------------------------------------------------- ordinary templates


def env_or(name: str, default: object = "") -> object:
    """A stand-in for the project's ``env_or`` (whose reader needs a declared-variables policy):
    the same in both environments, which is all a comparison needs."""
    return os.environ.get(name) or default


def environments(**options: Any) -> tuple[jinja2.Environment, jinja2.Environment]:
    """Jinja's plain sandbox (the oracle) and the budgeted one, with the project's helpers."""
    options = {"undefined": jinja2.StrictUndefined, "keep_trailing_newline": True, **options}
    pair = (SandboxedEnvironment(**options), budgeted_environment(**options))
    for env in pair:
        env.filters["slug"] = slug
        env.globals["env_or"] = env_or
    return pair


ORDINARY = {
    "a loop of a few hundred items": (
        "{% for s in services %}- {{ loop.index }} {{ s.name|upper }}:{{ s.port }}"
        "{{ loop.cycle(' a', ' b') }}\n{% endfor %}"
    ),
    "a filtered loop with else": "{% for s in services if s.port > 8100 %}{{ s.name }},{% else %}none{% endfor %}",
    "macros, call blocks and caller": (
        "{% macro m(a, b=2) %}{{ a }}-{{ b }}-{{ caller() if caller is defined else '' }}{% endmacro %}"
        "{% call m(1) %}inner{% endcall %} {{ m(3, b=4) }}"
    ),
    "set and filter blocks": "{% set x %}block {{ 1 + 2 }}{% endset %}{{ x|trim }} {% filter upper %}up{% endfilter %}",
    "a namespace accumulating": (
        "{% set ns = namespace(total=0) %}{% for s in services %}{% set ns.total = ns.total + s.port %}"
        "{% endfor %}{{ ns.total }}"
    ),
    "operators and formatting": (
        "{{ '%s-%05d' % ('a', 42) }} {{ '{:>8}|{:.3f}'.format('r', 3.14159) }} {{ 'x' ~ 1 ~ [1, 2] }} "
        "{{ 2 ** 100 }} {{ 7 // 2 }} {{ 7 % 3 }} {{ 'ab' * 3 }} {{ [1] + [2] }} {{ 10 / 4 }} {{ -(3) }}"
    ),
    "filters on lists": (
        "{{ services|map(attribute='name')|join(', ') }} {{ services|selectattr('port', 'gt', 8100)|list|length }} "
        "{{ (services|sort(attribute='port', reverse=true)|first).name }} {{ services|groupby('tier')|list|length }}"
    ),
    "sorting and summing": (
        "{{ {'b': 1, 'a': 2}|dictsort }} {{ [3, 1, 2]|sort }} {{ [1, 1, 2]|unique|list }} {{ [1, 2, 3]|sum }} "
        "{{ [[1], [2]]|sum(start=[]) }} {{ [1, 5]|max }} {{ services|sum(attribute='port') }}"
    ),
    "text filters": (
        "{{ 'hello world'|title }} {{ 'a\\nb\\nc'|indent(2, first=true) }} {{ 'long text here to wrap'|wordwrap(5) }} "
        "{{ 'x'|center(9) }}|{{ 'abcdefghij'|truncate(7, true, '..', 0) }} {{ 'Fix Login (#12)'|slug }}"
    ),
    "json and friends": "{{ data|tojson }} {{ data|tojson(indent=2) }} {{ data|pprint }} {{ data|xmlattr }}",
    "ranges, batches, numbers": (
        "{{ range(5)|list }} {{ range(2, 10, 3)|batch(2, 'f')|list }} {{ range(7)|slice(3)|list }} "
        "{{ 3.14159|round(2) }} {{ 2.5|round(1, 'ceil') }} {{ '42'|int + 1 }} {{ '0x1f'|int(base=16) }}"
    ),
    "a recursive loop over a tree": (
        "{% for item in tree recursive %}{{ item.name }}{% if item.children %}({{ loop(item.children) }}){% endif %}"
        "{% endfor %}"
    ),
    "string and list methods": (
        "{{ 'a,b,c'.split(',') }} {{ 'x'.ljust(4, '.') }} {{ ', '.join(['a', 'b']) }} {{ 'aaa'.replace('a', 'bb') }} "
        "{{ 'ab\\tc'.expandtabs(4) }} {{ '7'.zfill(3) }} {{ '{a}'.format_map({'a': 5}) }}"
    ),
    "lookups, keys and comparisons": (
        "{{ data.items()|list }} {{ data.get('k') }} {{ data['k'] }} {{ (1, 2) in [(1, 2)] }} "
        "{{ {(1, 2): 'x'}[(1, 2)] }} {{ [1, 2] == [1, 2] }} {{ services[0].name is eq 'svc-0' }}"
    ),
    "lists and dicts changed in place": (
        "{% set l = [] %}{% for i in range(3) %}{% set _ = l.append(i) %}{% endfor %}{{ l }} "
        "{% set _ = l.extend([9, 9]) %}{{ l }} {% set d = {} %}{% set _ = d.update({'a': 1}) %}{{ d }}"
    ),
    "globals": (
        "{{ cycler('a', 'b').next() }} {% set j = joiner(',') %}{{ j() }}x{{ j() }}y {{ dict(a=1) }} "
        "{{ namespace(a=1).a }} {{ env_or('CODEX_BUDGET_TEST_UNSET', 'fallback') }} "
        "{{ lipsum(2, false)|wordcount > 10 }}"
    ),
}


@pytest.fixture
def ordinary_context() -> dict[str, Any]:
    services = [{"name": f"svc-{i}", "port": 8000 + i, "tier": "web" if i % 3 else "db"} for i in range(300)]
    return {
        "services": services,
        "data": {"k": "v", "n": [1, 2]},
        "tree": [{"name": "a", "children": [{"name": "b", "children": [{"name": "c", "children": []}]}]}],
    }


@pytest.mark.parametrize("case", list(ORDINARY), ids=list(ORDINARY))
def test_an_ordinary_template_renders_as_in_jinjas_own_sandbox(case: str, ordinary_context: dict[str, Any]) -> None:
    plain, budgeted = environments()
    random.seed(7)
    expected = plain.from_string(ORDINARY[case]).render(ordinary_context)
    random.seed(7)
    assert budgeted.from_string(ORDINARY[case]).render(ordinary_context) == expected
    assert expected  # the oracle rendered something


def test_ordinary_templates_give_the_values_a_reader_expects(ordinary_context: dict[str, Any]) -> None:
    _, env = environments()
    render = lambda source: env.from_string(source).render(ordinary_context)  # noqa: E731
    assert render(ORDINARY["a namespace accumulating"]) == str(sum(8000 + i for i in range(300)))
    assert render(ORDINARY["a recursive loop over a tree"]) == "a(b(c))"
    assert render("{{ 2 ** 100 }}") == "1267650600228229401496703205376"
    assert render("{{ '%s-%05d' % ('a', 42) }}") == "a-00042"
    assert render(ORDINARY["a loop of a few hundred items"]).count("\n") == 300


def templated_scalars(value: Any) -> Iterator[str]:
    """Every string value of a loaded YAML document that holds a template."""
    if isinstance(value, str):
        if "{{" in value:
            yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from templated_scalars(item)
    elif isinstance(value, list):
        for item in value:
            yield from templated_scalars(item)


def example_templates() -> list[tuple[Path, str, dict[str, Any]]]:
    """Every manifest of each example's ai-slot-3 plan and every templated value of its
    services.yaml, with the plan's context (``env_or`` aside: see the stand-in above)."""
    cases = []
    for project in sorted((REPO_ROOT / "examples").iterdir()):
        request = PlanRequest(stack="ai-slot-3", project_dir=project, mode="normal")
        plan = build_plan(request)
        context = {name: plan.context[name] for name in plan.context if name != "env_or"}
        sources = dict.fromkeys(obj.source for obj in plan.objects if obj.source.is_relative_to(project))
        cases.extend((path, path.read_text(encoding="utf-8"), context) for path in sources)
        document = yaml.safe_load(request.services_path.read_text(encoding="utf-8"))
        cases.extend((request.services_path, text, context) for text in templated_scalars(document))
    return cases


def outcome(render: Callable[[], object]) -> object:
    """What a render gives: its result, or the kind of error it raised (services.yaml values may
    use names only their own item defines)."""
    try:
        return render()
    except jinja2.TemplateError as exc:
        return type(exc)


def test_the_examples_render_unchanged_under_the_default_budget() -> None:
    plain, budgeted = environments()
    cases = example_templates()
    manifests = [path for path, _, _ in cases if path.name != "services.yaml"]
    assert {path.parent.name for path in manifests} >= {"deploy", "codex"}
    assert len(manifests) >= 10
    rendered = 0
    for path, text, context in cases:
        expected = outcome(lambda text=text, context=context: plain.from_string(text).render(context))
        got = outcome(lambda text=text, context=context: budgeted.from_string(text).render(context))
        assert got == expected, (path, text[:80])
        rendered += isinstance(expected, str)
        if path.name == "services.yaml" and text.strip().startswith("{{") and text.strip().endswith("}}"):
            source = text.strip()[2:-2]  # a value that is one expression keeps its type
            expected = outcome(lambda s=source, c=context: plain.compile_expression(s, False)(c))
            assert outcome(lambda s=source, c=context: budgeted.compile_expression(s, False)(c)) == expected
    assert rendered >= len(manifests)


def test_a_template_renders_from_a_worker_thread(ordinary_context: dict[str, Any]) -> None:
    plain, budgeted = environments()
    source = ORDINARY["a loop of a few hundred items"]
    tight = budgeted_environment(RenderBudget(max_loops=10)).from_string("{% for i in range(11) %}{% endfor %}")
    with ThreadPoolExecutor(max_workers=2) as pool:
        rendered = pool.submit(budgeted.from_string(source).render, ordinary_context).result()
        failed = pool.submit(tight.render).exception()
    assert rendered == plain.from_string(source).render(ordinary_context)
    assert isinstance(failed, TemplateError)
    assert failed.message == "template budget exceeded: loop iterations > 10 (CODEX_TEMPLATE_MAX_LOOPS)"


# --------------------------------------------------------------------------- the API


def test_render_bounded_applies_the_given_budget_and_names_the_file_and_line() -> None:
    env = budgeted_environment()
    code = env.compile("a\n{% for i in range(20) %}\n{{ i }}{% endfor %}\n", name="m.yaml", filename="deploy/m.yaml")
    template = env.template_class.from_code(env, code, env.make_globals(None))
    assert render_bounded(template, {}).count("\n") == 21
    with pytest.raises(TemplateError) as caught:
        render_bounded(template, {}, budget=RenderBudget(max_loops=5))
    assert (
        str(caught.value) == "deploy/m.yaml:2: template budget exceeded: loop iterations > 5 (CODEX_TEMPLATE_MAX_LOOPS)"
    )


def test_one_scope_spends_one_budget_across_renders() -> None:
    template = budgeted_environment().from_string("{% for i in range(10) %}{% endfor %}")
    with budget_scope(RenderBudget(max_loops=25)):
        template.render()
        template.render()
        with pytest.raises(TemplateError, match="loop iterations > 25 "):
            template.render()
    template.render()  # outside the scope each render has its own budget again


def test_an_expression_keeps_its_type_and_is_bounded_with_the_location_given() -> None:
    env = budgeted_environment()
    repeat = env.compile_expression("[x] * n")
    assert evaluate_bounded(repeat, {"x": 1, "n": 3}) == [1, 1, 1]
    with pytest.raises(TemplateError) as caught:
        evaluate_bounded(repeat, {"x": 1, "n": 10**9}, file=Path("services.yaml"), line=12)
    assert str(caught.value) == f"services.yaml:12: {SIZE}"
    with pytest.raises(TemplateError, match="size of a value .* > 10 "):
        evaluate_bounded(repeat, {"x": 1, "n": 11}, budget=RenderBudget(max_size=10))
    with pytest.raises(TemplateError, match="size of a value"):  # called directly, it is bounded too
        repeat(x=1, n=10**9)


def test_a_value_an_expression_returns_is_measured_before_the_caller_prints_it() -> None:
    doubled = budgeted_environment().compile_expression("[x, x]")

    def double_forty_times() -> object:
        value: object = [1]
        for _ in range(40):  # 2**40 items once printed, from 40 small lists
            value = evaluate_bounded(doubled, {"x": value})
        return value

    with pytest.raises(TemplateError, match="size of a value"):
        double_forty_times()


def test_code_that_runs_a_render_function_itself_is_bounded_inside_a_scope() -> None:
    env = budgeted_environment(RenderBudget(max_output=100))
    template = env.from_string("a\nb\n{% for i in range(50) -%}\n{{ i ~ 'xy' }}\n{%- endfor %}")  # 190 characters

    def run() -> str:  # as codex_stacks/config/templating.py runs a template on its own context
        with budget_scope(env.budget):
            return "".join(template.root_render_func(template.new_context({})))

    with pytest.raises(
        jinja2.TemplateRuntimeError, match=r"output characters > 100 \(CODEX_TEMPLATE_MAX_OUTPUT\)"
    ) as caught:
        run()
    lines = []  # Jinja's own map from the generated code back to the template's lines
    tb = caught.value.__traceback__
    while tb is not None:
        if tb.tb_frame.f_globals.get("__jinja_template__") is template:
            lines.append(template.get_corresponding_lineno(tb.tb_lineno))
        tb = tb.tb_next
    assert lines[-1] == 4  # the line that wrote the 101st character


def test_generate_is_bounded_and_counts_only_its_own_time() -> None:
    env = budgeted_environment(RenderBudget(max_loops=50))
    assert "".join(env.from_string("{% for i in range(3) %}{{ i }}{% endfor %}").generate()) == "012"
    with pytest.raises(TemplateError, match="loop iterations > 50 "):
        list(env.from_string("{% for i in range(100) %}{{ i }}{% endfor %}").generate())


def test_filters_added_later_are_guarded_too() -> None:
    env = budgeted_environment(RenderBudget(max_size=1000))
    env.filters["shout"] = lambda value: str(value).upper()
    env.filters.update({"whisper": lambda value: str(value).lower()})
    env.filters.setdefault("slug", slug)
    for name in ("shout", "whisper", "slug"):
        # 300 items print as about 1,500 characters: too many to hand to a filter that prints them.
        with pytest.raises(TemplateError, match=r"size of a value \(characters or items\) > 1000 "):
            env.from_string("{{ range(300)|list|" + name + " }}").render()
    assert env.from_string("{{ 'Hi'|shout }}{{ 'Hi'|whisper }}{{ 'A B'|slug }}").render() == "HIhia-b"


def test_other_template_errors_pass_through_unchanged() -> None:
    env = budgeted_environment(undefined=jinja2.StrictUndefined)
    with pytest.raises(jinja2.UndefinedError):
        env.from_string("{{ missing }}").render()
    with pytest.raises(jinja2.exceptions.SecurityError):
        env.from_string("{{ ''.__class__.__mro__ }}").render()
    with pytest.raises(TypeError):
        env.from_string("{{ 'a' - 1 }}").render()


def test_a_template_nested_too_deeply_is_a_syntax_error_not_a_crash() -> None:
    env = budgeted_environment()
    with pytest.raises(jinja2.TemplateSyntaxError, match="nests too deeply") as caught:
        env.from_string("a\nb\n{{ " + "(" * 5000 + "1" + ")" * 5000 + " }}")
    assert caught.value.lineno == 3
    with pytest.raises(jinja2.TemplateSyntaxError, match="nests too deeply"):
        env.compile_expression("[" * 5000 + "]" * 5000)


def test_a_container_inside_itself_prints_as_python_prints_it() -> None:
    plain, budgeted = environments()
    source = "{% set l = [1] %}{% set _ = l.append(l) %}{{ l }} {{ [l, l] }}"
    assert (
        budgeted.from_string(source).render()
        == plain.from_string(source).render()
        == "[1, [...]] [[1, [...]], [1, [...]]]"
    )


def test_the_environment_is_a_sandbox_with_its_budget() -> None:
    env = budgeted_environment(RenderBudget(max_loops=7))
    assert isinstance(env, BudgetedEnvironment)
    assert env.sandboxed
    assert env.budget.max_loops == 7
    overlay = env.overlay(loader=jinja2.DictLoader({"p.j2": "{% for i in range(8) %}{% endfor %}"}))
    with pytest.raises(TemplateError, match="loop iterations > 7 "):
        overlay.get_template("p.j2").render()
    with pytest.raises(TypeError, match="synchronously"):
        budgeted_environment(enable_async=True)


# --------------------------------------------------------------------------- the operator's settings


def test_the_defaults_stand_when_nothing_is_set() -> None:
    assert RenderBudget.from_environ({}) == RenderBudget()
    assert RenderBudget.from_environ({"CODEX_TEMPLATE_MAX_LOOPS": "  "}) == RenderBudget()
    budget = RenderBudget()
    assert (budget.max_output, budget.max_loops, budget.max_depth, budget.max_seconds) == (2_000_000, 200_000, 64, 5.0)


def test_every_limit_can_be_set_by_the_operator() -> None:
    environ = dict.fromkeys(ENVIRONMENT_VARIABLES.values(), "7")
    environ["CODEX_TEMPLATE_MAX_SECONDS"] = "2.5"
    environ["CODEX_TEMPLATE_MAX_OUTPUT"] = "1_000"
    budget = RenderBudget.from_environ(environ)
    assert budget == RenderBudget(
        max_output=1000, max_loops=7, max_depth=7, max_int_bits=7, max_size=7, max_total=7, max_seconds=2.5
    )
    assert set(ENVIRONMENT_VARIABLES.values()) == {
        "CODEX_TEMPLATE_MAX_OUTPUT",
        "CODEX_TEMPLATE_MAX_LOOPS",
        "CODEX_TEMPLATE_MAX_DEPTH",
        "CODEX_TEMPLATE_MAX_INT_BITS",
        "CODEX_TEMPLATE_MAX_SIZE",
        "CODEX_TEMPLATE_MAX_TOTAL",
        "CODEX_TEMPLATE_MAX_SECONDS",
    }


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("CODEX_TEMPLATE_MAX_LOOPS", "abc", "CODEX_TEMPLATE_MAX_LOOPS: must be a whole number above 0, got 'abc'"),
        ("CODEX_TEMPLATE_MAX_OUTPUT", "0", "CODEX_TEMPLATE_MAX_OUTPUT: must be a whole number above 0, got '0'"),
        ("CODEX_TEMPLATE_MAX_DEPTH", "-3", "CODEX_TEMPLATE_MAX_DEPTH: must be a whole number above 0, got '-3'"),
        ("CODEX_TEMPLATE_MAX_SIZE", "1.5", "CODEX_TEMPLATE_MAX_SIZE: must be a whole number above 0, got '1.5'"),
        (
            "CODEX_TEMPLATE_MAX_SECONDS",
            "soon",
            "CODEX_TEMPLATE_MAX_SECONDS: must be a number of seconds above 0, got 'soon'",
        ),
        (
            "CODEX_TEMPLATE_MAX_SECONDS",
            "inf",
            "CODEX_TEMPLATE_MAX_SECONDS: must be a number of seconds above 0, got 'inf'",
        ),
        (
            "CODEX_TEMPLATE_MAX_SECONDS",
            "-1",
            "CODEX_TEMPLATE_MAX_SECONDS: must be a number of seconds above 0, got '-1'",
        ),
    ],
)
def test_a_bad_setting_is_one_clear_line(variable: str, value: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        RenderBudget.from_environ({variable: value})
    assert str(caught.value) == message


def test_a_budget_made_in_code_rejects_nonsense() -> None:
    with pytest.raises(ValueError, match="max_loops"):
        RenderBudget(max_loops=0)
    with pytest.raises(ValueError, match="max_seconds"):
        RenderBudget(max_seconds=float("nan"))
