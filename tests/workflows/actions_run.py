"""Which jobs of a workflow run, for given job outcomes: a test double of GitHub Actions' job
scheduling and of the expression subset the reusable workflows use in ``if:``.

What it models, from GitHub's docs ("Evaluate expressions in workflows and actions",
"Using conditions to control job execution", "Using jobs in a workflow"):

- a job runs when its ``if:`` is true; without ``if:`` the condition is ``success()``, and an
  ``if:`` without a status function (``success()``, ``failure()``, ``cancelled()``, ``always()``)
  is ``success() && (<if>)``;
- ``success()`` for a job: every job it ``needs`` finished with ``success`` (a skipped or failed
  need makes it false); ``failure()``: one of them failed; ``cancelled()``: the run was cancelled
  (never, here); ``always()``: true;
- a job that does not run is ``skipped``; its outputs are empty strings;
- operators ``!``, ``==``, ``!=``, ``&&``, ``||`` and parentheses; ``&&``/``||`` give one of their
  operands; strings compare ignoring case; ``null``, ``false``, ``0`` and ``''`` are falsy;
- ``contains(list, item)``, ``fromJSON(text)``, ``format('{0}…', …)``.

Anything else in an ``if:`` is an error, so a workflow cannot silently step outside what the
double understands.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

TOKEN = re.compile(
    r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<num>\d+(?:\.\d+)?)|(?P<op>==|!=|&&|\|\||[!(),.\[\]])"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_-]*))"
)
STATUS_FUNCTIONS = ("success()", "failure()", "cancelled()", "always()")


@dataclass
class Scenario:
    """The event and what each job does when it runs: its result and its outputs."""

    contexts: dict[str, Any]
    results: dict[str, str] = field(default_factory=dict)
    """Job id → result when it runs (default ``success``), e.g. a rejected approval is ``failure``."""
    outputs: dict[str, dict[str, str]] = field(default_factory=dict)


def run(workflow: Mapping[str, Any], scenario: Scenario) -> dict[str, str]:
    """Every job's result: ``success``/``failure`` when it ran, ``skipped`` otherwise."""
    jobs: dict[str, Any] = dict(workflow["jobs"])
    results: dict[str, str] = {}
    outputs: dict[str, dict[str, str]] = {}
    while len(results) < len(jobs):
        ready = [
            job_id
            for job_id, job in jobs.items()
            if job_id not in results and all(need in results for need in _needs(job))
        ]
        if not ready:
            raise AssertionError("the jobs' needs form a cycle")
        for job_id in ready:
            job = jobs[job_id]
            needs = {need: {"result": results[need], "outputs": outputs[need]} for need in _needs(job)}
            condition = str(job.get("if", "success()"))
            if not any(function in condition for function in STATUS_FUNCTIONS):
                condition = f"success() && ({condition})"
            context = {**scenario.contexts, "needs": needs}
            if truthy(evaluate(condition, context)):
                results[job_id] = scenario.results.get(job_id, "success")
                outputs[job_id] = dict(scenario.outputs.get(job_id, {}))
            else:
                results[job_id] = "skipped"
                outputs[job_id] = {}
    return results


def _needs(job: Mapping[str, Any]) -> list[str]:
    needs = job.get("needs") or []
    return [needs] if isinstance(needs, str) else list(needs)


def truthy(value: Any) -> bool:
    return value not in (None, False, 0, "")


def evaluate(expression: str, context: Mapping[str, Any]) -> Any:
    """The value of ``expression`` (without ``${{ }}``) in ``context``."""
    tokens = _tokens(expression)
    parser = _Parser(tokens, context)
    value = parser.expression()
    if parser.position != len(tokens):
        raise AssertionError(f"cannot read {expression!r} past {tokens[parser.position]!r}")
    return value


def _tokens(text: str) -> list[str]:
    tokens: list[str] = []
    position = 0
    text = text.strip()
    while position < len(text):
        match = TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise AssertionError(f"the double does not read {text[position:]!r}")
        tokens.append(match.group().strip())
        position = match.end()
    return [token for token in tokens if token]


class _Parser:
    def __init__(self, tokens: list[str], context: Mapping[str, Any]) -> None:
        self.tokens = tokens
        self.position = 0
        self.context = context

    def peek(self) -> str | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def take(self, expected: str | None = None) -> str:
        token = self.peek()
        if token is None or (expected is not None and token != expected):
            raise AssertionError(f"expected {expected!r}, found {token!r}")
        self.position += 1
        return token

    def expression(self) -> Any:
        value = self.conjunction()
        while self.peek() == "||":
            self.take()
            right = self.conjunction()
            value = value if truthy(value) else right
        return value

    def conjunction(self) -> Any:
        value = self.comparison()
        while self.peek() == "&&":
            self.take()
            right = self.comparison()
            value = right if truthy(value) else value
        return value

    def comparison(self) -> Any:
        value = self.unary()
        while self.peek() in ("==", "!="):
            operator = self.take()
            same = _equal(value, self.unary())
            value = same if operator == "==" else not same
        return value

    def unary(self) -> Any:
        if self.peek() == "!":
            self.take()
            return not truthy(self.unary())
        return self.primary()

    def primary(self) -> Any:
        token = self.take()
        if token == "(":
            value = self.expression()
            self.take(")")
            return value
        if token.startswith("'"):
            return token[1:-1].replace("''", "'")
        if token[0].isdigit():
            return float(token)
        if token in ("true", "false", "null"):
            return {"true": True, "false": False, "null": None}[token]
        if self.peek() == "(":
            return self.call(token)
        value: Any = self.context.get(token)
        while self.peek() == ".":
            self.take()
            key = self.take()
            value = value.get(key) if isinstance(value, Mapping) else None
        return value

    def call(self, name: str) -> Any:
        self.take("(")
        arguments: list[Any] = []
        while self.peek() != ")":
            arguments.append(self.expression())
            if self.peek() == ",":
                self.take()
        self.take(")")
        needs = self.context.get("needs") or {}
        if name == "success":
            return all(need["result"] == "success" for need in needs.values())
        if name == "failure":
            return any(need["result"] == "failure" for need in needs.values())
        if name == "cancelled":
            return False
        if name == "always":
            return True
        if name == "contains":
            haystack, needle = arguments
            if isinstance(haystack, list):
                return any(_equal(item, needle) for item in haystack)
            return str(needle).lower() in str(haystack).lower()
        if name == "fromJSON":
            return json.loads(arguments[0])
        if name == "format":
            return re.sub(r"\{(\d+)\}", lambda match: str(arguments[1 + int(match.group(1))]), arguments[0])
        raise AssertionError(f"the double does not know the function {name}()")


def _equal(left: Any, right: Any) -> bool:
    if isinstance(left, str) and isinstance(right, str):
        return left.lower() == right.lower()
    return bool(left == right)
