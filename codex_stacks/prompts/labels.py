"""Model and reasoning effort of one agent run, chosen by the issue's or pull request's labels.

``[ai-model-<name>]`` picks a model out of ``codex.models`` (``codex.model`` when that list is
empty), ``[ai-reasoning-<level>]`` one of the efforts codex knows. Labels come from strangers'
issues: the list is bounded, and a label that asks for something not allowed stops the run before
anything reaches config.toml, with one line naming the label and what is allowed.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import get_args

from codex_stacks.config.model import CodexSettings, ReasoningEffort
from codex_stacks.errors import CodexError, Location

MODEL_PREFIX = "[ai-model-"
REASONING_PREFIX = "[ai-reasoning-"
EFFORTS: tuple[str, ...] = get_args(ReasoningEffort)
MAX_LABELS = 100
"""GitHub allows 100 labels on an issue or pull request."""
MAX_LABEL = 100
MAX_JSON = 64 * 1024
_WHERE = Location(path="--labels")
NOT_A_LIST = 'not a JSON list of label names, e.g. \'["[ai-dev]", "[ai-model-gpt-5]"]\''


def parse_labels(text: str) -> list[str]:
    """``--labels``: a JSON list of label names, as ``toJSON(github.event.issue.labels.*.name)`` gives."""
    if len(text) > MAX_JSON:
        raise CodexError(f"the label list is longer than {MAX_JSON} characters", location=_WHERE)
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        data = None
    if not isinstance(data, list) or not all(isinstance(item, str) for item in data):
        raise CodexError(NOT_A_LIST, location=_WHERE)
    if len(data) > MAX_LABELS:
        raise CodexError(f"{len(data)} labels; an issue or pull request has at most {MAX_LABELS}", location=_WHERE)
    return data


def _value(label: str, prefix: str) -> str | None:
    if not (label.startswith(prefix) and label.endswith("]")):
        return None
    return label[len(prefix) : -1]


def _shown(label: str) -> str:
    """A label as an error shows it: bounded and on one line."""
    flat = " ".join(label.split())
    return flat if len(flat) <= MAX_LABEL else flat[: MAX_LABEL - 1] + "…"


def _one(labels: Sequence[str], prefix: str, what: str) -> tuple[str, str] | None:
    found = [(label, value) for label in labels if (value := _value(label.strip(), prefix)) is not None]
    if len(found) > 1:
        names = ", ".join(_shown(label) for label, _ in found)
        raise CodexError(f"labels {names}: one {what} label at a time", location=_WHERE)
    return found[0] if found else None


def apply_run_labels(codex: CodexSettings, labels: Sequence[str]) -> CodexSettings:
    """``codex`` with the model and effort the labels ask for; other labels are ignored."""
    update: dict[str, str] = {}
    model = _one(labels, MODEL_PREFIX, "model")
    if model is not None:
        label, name = model
        allowed = codex.models or [codex.model]
        if name not in allowed:
            raise CodexError(
                f"label {_shown(label)}: model {_shown(name)!r} is not allowed; allowed: "
                f"{', '.join(allowed)} (codex.models in services.yaml)",
                location=_WHERE,
            )
        update["model"] = name
    effort = _one(labels, REASONING_PREFIX, "reasoning")
    if effort is not None:
        label, level = effort
        if level not in EFFORTS:
            raise CodexError(
                f"label {_shown(label)}: reasoning effort {_shown(level)!r} is unknown; allowed: {', '.join(EFFORTS)}",
                location=_WHERE,
            )
        update["model_reasoning_effort"] = level
    return codex.model_copy(update=update) if update else codex
