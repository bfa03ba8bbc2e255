"""``python -m codex_stacks``: the ``codexctl`` command line.

Not ``python -m codexctl``: the import package is ``codex_stacks`` because PyPI's ``codexctl`` is
an unrelated project, and a second top-level module would be one more name to collide with
(docs/architecture.md).
"""

from codex_stacks.cli import main

if __name__ == "__main__":
    main()
