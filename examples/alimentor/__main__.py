"""The Pulumi program of this repository: codex stacks (docs/architecture.md)."""

from codex_stacks.program import run

run()
