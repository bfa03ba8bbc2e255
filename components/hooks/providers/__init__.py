"""Dynamic providers of the hook steps.

Module paths here are part of every stack's state: Pulumi pickles each provider by reference
(``codex_stacks.components.hooks.providers.data_dirs.EnsureDataDirsProvider``), so renaming or moving one
breaks ``destroy`` of stacks created before. Providers hold no attributes; clients are built
inside their methods.
"""
