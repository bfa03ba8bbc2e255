"""The ``codexctl`` command line."""

from codex_stacks.cli.app import app, main

__all__ = ["app", "main"]
