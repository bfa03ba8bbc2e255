"""codex stacks: one Kubernetes slot per GitHub issue or pull request, with the codex agent inside.

The import package is ``codex_stacks`` (PyPI's ``codexctl`` is an unrelated project); the command
is ``codexctl``, also ``python -m codex_stacks``. A team installs it into its own repository,
which holds ``Pulumi.yaml``, ``__main__.py`` and ``stacks/`` (docs/architecture.md).
"""

__version__ = "0.1.0"
