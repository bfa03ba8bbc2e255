"""Upstream's ``run:`` hooks (bash scripts that were Go templates) → scripts plus ``env:``.

Upstream rendered a hook's script as a template and ran the text with ``bash -lc``: a value with
a quote or a ``$(…)`` in it became shell code. Here a ``run:`` script is never a template
(docs/services-yaml.md): every ``{{ … }}`` becomes a variable of the step's ``env:`` (whose value
is the converted expression) and the script reads it as ``${NAME}``, quoted the way the spot
in the script needs (inside single quotes the quote is closed around it). The stack's own values
use the variables every script already has (``CODEX_NAMESPACE``, ``CODEX_ENV``,
``CODEX_PROJECT``). Control structures around shell text have no faithful equivalent: such a
script is reported, never half converted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from codex_stacks.importer import gotemplate as go
from codex_stacks.importer.convert import Binding, Converter, Issue, UnsupportedError, Usage, Value, snake, text_of

_CONTEXT_VARIABLES = {"namespace": "CODEX_NAMESPACE", "env": "CODEX_ENV", "project": "CODEX_PROJECT"}
"""Stack values every run: script already gets (README, Hooks)."""
_RESERVED = frozenset({"PATH", "HOME", "SHELL", "USER", "PWD", "OLDPWD", "IFS", "TERM", "LANG", "TMPDIR", "HOSTNAME"})
_WORD_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_HEREDOC_RE = re.compile(r"<<(-?)\s*(['\"]?)([A-Za-z_][A-Za-z0-9_]*)\2")


@dataclass
class _Shell:
    """Where we are in bash's quoting: a stack of states over the literal text seen so far."""

    stack: list[str] = field(default_factory=lambda: ["plain"])
    heredocs: list[tuple[str, bool, bool]] = field(default_factory=list)
    """Pending here-documents: (delimiter, quoted delimiter (no expansion), <<- (tabs stripped))."""
    heredoc: tuple[str, bool, bool] | None = None
    line_start: bool = True
    current_line: str = ""

    @property
    def state(self) -> str:
        if self.heredoc is not None:
            return "heredoc-quoted" if self.heredoc[1] else "heredoc"
        return self.stack[-1]

    def feed(self, text: str) -> None:
        index = 0
        while index < len(text):
            char = text[index]
            if self.heredoc is not None:
                end = text.find("\n", index)
                piece = text[index:] if end < 0 else text[index:end]
                self.current_line += piece
                if end < 0:
                    return
                delimiter, _, tabs = self.heredoc
                line = self.current_line.lstrip("\t") if tabs else self.current_line
                if line == delimiter:
                    self.heredoc = None
                    if self.heredocs:
                        self.heredoc = self.heredocs.pop(0)
                self.current_line = ""
                index = end + 1
                continue
            state = self.stack[-1]
            if state == "squote":
                if char == "'":
                    self.stack.pop()
            elif state == "comment":
                if char == "\n":
                    self.stack.pop()
                    continue
            elif state == "dquote":
                if char == "\\":
                    index += 1
                elif char == '"':
                    self.stack.pop()
                elif text.startswith("$(", index):
                    self.stack.append("subshell")
                    index += 1
                elif char == "`":
                    self.stack.append("backtick")
            else:  # plain, subshell, backtick
                if char == "\\":
                    index += 1
                elif char == "'":
                    self.stack.append("squote")
                elif char == '"':
                    self.stack.append("dquote")
                elif char == "#" and ((index == 0 and self.line_start) or (index > 0 and text[index - 1] in " \t\n;")):
                    self.stack.append("comment")
                elif text.startswith("$(", index):
                    self.stack.append("subshell")
                    index += 1
                elif char == ")" and state == "subshell":
                    self.stack.pop()
                elif char == "`":
                    if state == "backtick":
                        self.stack.pop()
                    else:
                        self.stack.append("backtick")
                elif char == "<" and text.startswith("<<", index) and not text.startswith("<<<", index):
                    match = _HEREDOC_RE.match(text, index)
                    if match:
                        self.heredocs.append((match.group(3), bool(match.group(2)), bool(match.group(1))))
                        index = match.end() - 1
                elif char == "\n" and self.heredocs:
                    self.heredoc = self.heredocs.pop(0)
                    self.current_line = ""
            if char == "\n":
                self.line_start = True
            elif char not in " \t":
                self.line_start = False
            index += 1


@dataclass
class ConvertedScript:
    script: str
    env: dict[str, str]
    issues: list[Issue]
    usage: Usage


def convert_script(source: str, *, file_vars: dict[str, Binding], forbidden_env: object = None) -> ConvertedScript:
    """``source`` (a script that was a Go template) as a plain script and its ``env:``."""
    template = go.parse(source)
    converter = Converter(template, "value", file_vars=file_vars)
    if callable(forbidden_env):
        converter.forbidden_env = forbidden_env  # type: ignore[assignment]
    shell = _Shell()
    out: list[str] = []
    env: dict[str, str] = {}
    names: dict[str, str] = {}
    words = set(_WORD_RE.findall(source))

    def variable_for(node: go.Action, value: Value) -> str:
        if value.expr in _CONTEXT_VARIABLES and value.type == "str":
            return _CONTEXT_VARIABLES[value.expr]
        expression = text_of(value)
        if expression in names:
            return names[expression]
        base = _name_of(node.pipe) or "VALUE"

        def clash(candidate: str) -> bool:
            return candidate in env or candidate in words or candidate in _RESERVED or candidate.startswith("CODEX_")

        name = base if not clash(base) else f"{base}_VALUE"
        number = 2
        while clash(name):
            name = f"{base}_{number}"
            number += 1
        names[expression] = name
        env[name] = "{{ " + expression + " }}"
        return name

    for node in template.nodes:
        if isinstance(node, go.Text):
            out.append(node.text)
            shell.feed(node.text)
        elif isinstance(node, go.Comment):
            continue
        elif isinstance(node, go.Action):
            try:
                value = converter.pipeline(node.pipe)
            except UnsupportedError as exc:
                converter.issue(node.line, f"{node.source.strip()}: {exc}")
                continue
            if node.pipe.decl:
                converter.declare(node.pipe, value)
                continue
            name = variable_for(node, value)
            state = shell.state
            if state == "squote":
                out.append(f"'\"${{{name}}}\"'")
            elif state == "heredoc-quoted":
                converter.issue(
                    node.line,
                    f"{node.source.strip()} sits in a quoted here-document (<<'EOF'), where no variable expands",
                )
            else:
                out.append(f"${{{name}}}")
        else:
            converter.issue(
                node.line,
                "a {{if}}/{{range}}/{{with}} around script text has no equivalent in a run: script "
                "(never a template here); rewrite the step with when: or a shell if",
            )
            raise NotConvertibleError(converter.issues)
    return ConvertedScript(script="".join(out), env=env, issues=converter.issues, usage=converter.usage)


class NotConvertibleError(Exception):
    def __init__(self, issues: list[Issue]) -> None:
        super().__init__("not convertible")
        self.issues = issues


def _name_of(pipe: go.Pipe) -> str | None:
    """A readable variable name for what the action prints: ``$dataRoot`` → ``DATA_ROOT``."""
    if len(pipe.commands) != 1:
        return None
    args = pipe.commands[0].args
    first = args[0]
    if isinstance(first, go.Variable) and len(args) == 1:
        return snake(first.name + "".join(first.names)).upper()
    if isinstance(first, go.Field) and len(args) == 1:
        return snake("_".join(first.names)).upper()
    if isinstance(first, go.Identifier) and first.name == "envOr" and len(args) == 3 and isinstance(args[1], go.String):
        return args[1].value
    if isinstance(first, go.Identifier) and first.name == "index" and len(args) == 3:
        base = args[1]
        key = args[2]
        if isinstance(base, go.Field) and isinstance(key, go.String):
            return snake("_".join(base.names) + "_" + re.sub(r"\W", "_", key.value)).upper()
    return None
