"""One stack's view of services.yaml: each part evaluated and validated the first time it is used.

A :class:`Settings` holds the parsed document and the stack's :class:`Scope`; reading
``settings.codex`` evaluates the ``codex`` section's templates and validates the result against
the model, once. Items (infrastructure groups, services) and hook steps go further: their
``when:`` is evaluated first, and the rest only for an item the stack selects
(docs/services-yaml.md, "Evaluation").
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from functools import cached_property
from typing import Any, TypeVar

from pydantic import BaseModel, TypeAdapter, ValidationError

from codex_stacks.config.document import Expr, Key, RawList, RawMap
from codex_stacks.config.hooks import HookStage, HookStep
from codex_stacks.config.loader import ItemRef, ServicesDocument, validate_document, validation_problems
from codex_stacks.config.model import (
    CodexSettings,
    DataPaths,
    Environment,
    Image,
    Infrastructure,
    RepairSettings,
    SecuritySettings,
    Service,
)
from codex_stacks.config.scope import Scope
from codex_stacks.config.templating import OutsideValues, evaluate, is_enabled
from codex_stacks.errors import CodexError, CombinedError, ConfigError, raise_all

_M = TypeVar("_M", bound=BaseModel)
_IMAGES: TypeAdapter[dict[str, Image]] = TypeAdapter(dict[str, Image])
STAGE_KEYS: Mapping[HookStage, str] = {
    "beforeAll": "beforeAll",
    "afterAll": "afterAll",
    "beforeApply": "beforeApply",
    "afterApply": "afterApply",
    "beforeDestroy": "beforeDestroy",
    "afterDestroy": "afterDestroy",
}
_LITERAL_KEYS = frozenset({"run"})
"""Hook step keys that are never templates: a ``run:`` script gets outside text through ``env:``."""


class Evaluator:
    """Evaluates raw values of one document in one scope; every error is located."""

    def __init__(self, document: ServicesDocument, scope: Scope, known: OutsideValues) -> None:
        self.document = document
        self.scope = scope
        self.known = known
        self._name = str(document.source)

    def value(self, raw: Any, *, scope: Scope | None = None, literal: frozenset[str] = frozenset()) -> Any:
        """Plain data: every template in ``raw`` evaluated (keys in ``literal`` kept as written)."""
        if isinstance(raw, Expr):
            return evaluate(raw.source, scope or self.scope, where=raw.location, name=self._name, known=self.known)
        if isinstance(raw, RawMap):
            return {
                key: (_literal(item) if key in literal else self.value(item, scope=scope, literal=literal))
                for key, item in raw.items()
            }
        if isinstance(raw, RawList):
            return [self.value(item, scope=scope, literal=literal) for item in raw]
        return raw

    def model(
        self, model: type[_M], raw: Any, path: Sequence[Key], *, literal: frozenset[str] = frozenset(), **fixed: Any
    ) -> _M:
        """``raw`` evaluated and validated as ``model``; ``fixed`` replaces keys before validation.

        Every problem of the mapping is reported together: each key is evaluated on its own, and
        a key whose template failed is left out of validation (no "missing key" for it)."""
        problems: list[CodexError] = []
        failed: set[str] = set()
        if isinstance(raw, RawMap):
            data: Any = {}
            for key, item in raw.items():
                if key in fixed:
                    continue
                try:
                    data[key] = _literal(item) if key in literal else self.value(item, literal=literal)
                except CombinedError as exc:
                    problems.extend(exc.problems)
                    failed.add(key)
                except CodexError as exc:
                    problems.append(exc)
                    failed.add(key)
            data.update(fixed)
        else:
            data = self.value(raw, literal=literal) if raw is not None else {}
            if isinstance(data, dict):
                data = {**data, **fixed}
        try:
            result = validate_document(model, data)
        except ValidationError as exc:
            found = validation_problems(exc, data=data, root=self.document.root, base=path, source=self.document.source)
            base = len(path)
            problems.extend(
                problem
                for problem in found
                if not (problem.message.startswith("missing required key") and _top_key(problem, base) in failed)
            )
        raise_all(problems)
        return result


def _top_key(problem: CodexError, depth: int) -> str | None:
    """The key right below the model's own path in a problem's location (``x`` of ``a[0].x.y``)."""
    path = problem.location.path or ""
    parts = [part for part in re.split(r"[.\[\]]", path) if part]
    return parts[depth] if len(parts) > depth else None


def _literal(raw: Any) -> Any:
    """A value as written: a templated-looking scalar stays its text."""
    if isinstance(raw, Expr):
        return raw.source
    if isinstance(raw, RawMap):
        return {key: _literal(item) for key, item in raw.items()}
    if isinstance(raw, RawList):
        return [_literal(item) for item in raw]
    return raw


class Settings:
    """services.yaml for one stack (see the module doc)."""

    def __init__(self, document: ServicesDocument, evaluator: Evaluator, *, env: str) -> None:
        self.document = document
        self.evaluator = evaluator
        self.env = env

    @property
    def project(self) -> str:
        return self.document.project

    @property
    def scope(self) -> Scope:
        return self.evaluator.scope

    def _section(self, model: type[_M], key: str) -> _M:
        return self.evaluator.model(model, self.document.raw(key), [key])

    @cached_property
    def codex(self) -> CodexSettings:
        return self._section(CodexSettings, "codex")

    @cached_property
    def repair(self) -> RepairSettings:
        return self._section(RepairSettings, "repair")

    @cached_property
    def security(self) -> SecuritySettings:
        return self._section(SecuritySettings, "security")

    @cached_property
    def data_paths(self) -> DataPaths | None:
        raw = self.document.raw("dataPaths")
        return None if raw is None else self._section(DataPaths, "dataPaths")

    @cached_property
    def max_slots(self) -> int:
        raw = self.document.raw("maxSlots")
        return 0 if raw is None else self._whole_number("maxSlots", raw)

    @cached_property
    def images(self) -> dict[str, Image]:
        raw = self.document.raw("images")
        data = self.evaluator.value(raw) if raw is not None else {}
        try:
            return _IMAGES.validate_python(data, by_alias=True, by_name=False)
        except ValidationError as exc:
            raise_all(
                validation_problems(
                    exc, data=data, root=self.document.root, base=["images"], source=self.document.source
                )
            )
            raise

    def _whole_number(self, key: str, raw: Any) -> int:
        value = self.evaluator.value(raw)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            if isinstance(value, str) and value.strip().isdigit():
                return int(value)
            raise ConfigError(
                f"{key} must be a whole number of 0 or more, not {value!r}", location=self.document.location([key])
            )
        return value

    def environment(self, name: str) -> Environment:
        """Environment ``name`` with every field it leaves unset taken from its ``from`` chain."""
        from codex_stacks.config.loader import environment_chain

        merged: dict[str, Any] = {}
        for env_name in reversed(environment_chain(name, self.document.env_from)):
            raw = self.document.environments[env_name]
            evaluated = self.evaluator.model(Environment, raw, ["environments", env_name])
            merged.update(evaluated.model_dump(exclude_unset=True, exclude={"from_"}))
        return Environment.model_validate(merged)

    def enabled(self, raw: Any) -> bool:
        """An item's or a step's ``when:``, evaluated alone (nothing else of it is)."""
        return is_enabled(self.evaluator.value(raw.get("when"))) if isinstance(raw, RawMap) else True

    def item(self, ref: ItemRef) -> Infrastructure | Service:
        """The item's own fields evaluated and validated; hooks are left to :meth:`steps`, and only
        this environment's overlay is evaluated."""
        raw = ref.raw
        fixed: dict[str, Any] = {"hooks": {}}
        if ref.section == "services":
            overlays = raw.get("overlays")
            if isinstance(overlays, RawMap):
                fixed["overlays"] = {self.env: self.evaluator.value(overlays[self.env])} if self.env in overlays else {}
            elif not isinstance(overlays, Expr):  # absent or empty: other shapes are the loader's errors
                fixed["overlays"] = {}
            model: type[Infrastructure | Service] = Service
        else:
            model = Infrastructure
        trimmed = RawMap(raw.line)
        trimmed.key_lines = raw.key_lines
        for key, value in raw.items():
            if key not in fixed:
                trimmed[key] = value
        return self.evaluator.model(model, trimmed, ref.path, **fixed)

    def stage(
        self, raw_hooks: Any, stage: HookStage, path: Sequence[Key], *, repair_only: bool = False
    ) -> Iterator[tuple[int, HookStep]]:
        """The enabled steps of one stage, in file order: each ``when:`` first, then the step.
        ``repair_only``: only steps marked ``repair: true`` (their ``repair`` evaluated alone)."""
        if raw_hooks is None:
            return
        if not isinstance(raw_hooks, RawMap):
            raise ConfigError("hooks must be a mapping of stages", location=self.document.location(path))
        steps = raw_hooks.get(STAGE_KEYS[stage])
        if steps is None:
            return
        if not isinstance(steps, RawList):
            raise ConfigError(
                f"hooks.{stage} must be a list of steps", location=self.document.location([*path, STAGE_KEYS[stage]])
            )
        for index, raw in enumerate(steps):
            step_path = [*path, STAGE_KEYS[stage], index]
            if repair_only and not (isinstance(raw, RawMap) and self.evaluator.value(raw.get("repair")) is True):
                continue
            if not self.enabled(raw):
                continue
            yield index, self.evaluator.model(HookStep, raw, step_path, literal=_LITERAL_KEYS, when=True)
