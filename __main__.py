"""This repository's Pulumi program (`pulumi up -s ai-slot-3`); every team's is the same."""

from codex_stacks.program import run

run()
