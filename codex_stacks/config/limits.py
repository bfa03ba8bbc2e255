"""How much of a project codexctl and the program will read: the operator's limits.

A project (services.yaml, manifests, stack files, prompt templates) comes from strangers, so every
read and every YAML document is bounded. The bounds are the operator's to change, through the
environment of the machine that runs codexctl or ``pulumi up`` — never through services.yaml,
which may be the hostile part. The README's "Bad input" section lists them.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

from codex_stacks.errors import ConfigError, Location

FILE_BYTES_VAR = "CODEX_MAX_FILE_BYTES"
PROJECT_BYTES_VAR = "CODEX_MAX_PROJECT_BYTES"
YAML_NODES_VAR = "CODEX_MAX_YAML_NODES"
YAML_DEPTH_VAR = "CODEX_MAX_YAML_DEPTH"

DEFAULT_FILE_BYTES = 8 << 20
DEFAULT_PROJECT_BYTES = 64 << 20
DEFAULT_YAML_NODES = 200_000
"""Nodes of one YAML file, an alias counting as every node it stands for. Real manifests stay far
below (the largest CRDs have some tens of thousands); PyYAML spends about 4 µs per node."""
DEFAULT_YAML_DEPTH = 100
"""Nesting of one YAML file, through aliases. Deep CRD schemas reach about 40; far deeper input
would overflow recursive consumers (Python's recursion limit is 1000 frames)."""

_SIZE_RE = re.compile(r"^\s*(\d+)\s*([KMG]i?B?|B)?\s*$", re.IGNORECASE)
_UNITS = {"": 1, "b": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30}


@dataclass(frozen=True, slots=True)
class Limits:
    """The bounds of one run, read from the environment (defaults otherwise)."""

    file_bytes: int = DEFAULT_FILE_BYTES
    project_bytes: int = DEFAULT_PROJECT_BYTES
    yaml_nodes: int = DEFAULT_YAML_NODES
    yaml_depth: int = DEFAULT_YAML_DEPTH

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> Limits:
        """``CODEX_MAX_FILE_BYTES`` etc.; sizes take a K, M or G suffix (powers of 1024)."""
        env = os.environ if environ is None else environ
        return cls(
            file_bytes=_size(env, FILE_BYTES_VAR, DEFAULT_FILE_BYTES),
            project_bytes=_size(env, PROJECT_BYTES_VAR, DEFAULT_PROJECT_BYTES),
            yaml_nodes=_count(env, YAML_NODES_VAR, DEFAULT_YAML_NODES),
            yaml_depth=_count(env, YAML_DEPTH_VAR, DEFAULT_YAML_DEPTH),
        )


def current() -> Limits:
    """The limits in force now: the environment as it is at this call."""
    return _limits(*(os.environ.get(name) for name in _VARIABLES))


_VARIABLES = (FILE_BYTES_VAR, PROJECT_BYTES_VAR, YAML_NODES_VAR, YAML_DEPTH_VAR)


@lru_cache(maxsize=8)
def _limits(*values: str | None) -> Limits:
    return Limits.from_environment({name: value for name, value in zip(_VARIABLES, values, strict=True) if value})


def _size(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    match = _SIZE_RE.match(raw)
    if match is None or int(match.group(1)) < 1:
        raise ConfigError(
            f"must be a positive size in bytes, not {raw[:40]!r}",
            location=Location(path=name),
            hint="e.g. 8388608, 8M or 512K (K, M and G are powers of 1024)",
        )
    unit = (match.group(2) or "").lower()[:1]
    return int(match.group(1)) * _UNITS[unit]


def _count(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    if not raw.strip().isdigit() or int(raw) < 1:
        raise ConfigError(f"must be a positive whole number, not {raw[:40]!r}", location=Location(path=name))
    return int(raw)


def describe_size(size: int) -> str:
    """``8 MiB``, ``512 KiB``, ``300 bytes``: sizes in messages."""
    for unit, factor in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if size >= factor and size % factor == 0:
            return f"{size // factor} {unit}"
    return f"{size} bytes"
