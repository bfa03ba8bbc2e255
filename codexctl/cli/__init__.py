"""The ``codexctl`` command line."""

from codexctl.cli.app import app, main

__all__ = ["app", "main"]
