"""This repository's Pulumi program (`pulumi up -s ai-slot-3`); every project's is the same."""

from codex_stacks.program import run

run()
