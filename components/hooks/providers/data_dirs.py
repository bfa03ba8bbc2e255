"""``codex.ensure-data-dirs``: host folders for the stack's databases, never outside the root."""

from __future__ import annotations

from typing import Any

from codex_stacks.components.hooks.providers.base import HookError, HookProvider, StepRun


def checked_paths(params: dict[str, Any]) -> tuple[str, str, list[str]]:
    """Root, env folder and data folders, re-checked here: state may predate a check, or be edited."""
    import posixpath

    root = posixpath.normpath(str(params.get("root") or ""))
    env_dir = posixpath.normpath(str(params.get("env_dir") or ""))
    if not posixpath.isabs(root) or root == "/":
        raise HookError(f"refusing data root {root!r}: it must be an absolute folder other than /")

    def inside(path: str, parent: str) -> bool:
        return path != parent and path.startswith(parent.rstrip("/") + "/")

    if not inside(env_dir, root):
        raise HookError(f"refusing data folder {env_dir!r}: not inside the data root {root!r}")
    paths = [posixpath.normpath(str(path)) for path in params.get("paths") or []]
    for path in paths:
        if not inside(path, env_dir):
            raise HookError(f"refusing data folder {path!r}: not inside {env_dir!r}")
    return root, env_dir, paths


class EnsureDataDirsProvider(HookProvider):
    """Create ``<env_dir>/<dir>`` with the given mode; on destroy remove them only if asked.

    Every folder is reached without following a symbolic link, and the root must be where the
    runner's operator allows data roots (``CODEX_DATA_ROOT_ALLOWED``; see codex_stacks.hostdirs).
    """

    def work(self, run: StepRun) -> dict[str, Any]:
        """mkdir -p and chmod, idempotently; a chmod we may not do is a warning."""
        from codex_stacks.hostdirs import HostDirError, ensure_dirs

        root, env_dir, paths = checked_paths(run.params)
        mode = int(str(run.params.get("mode") or "0777"), 8)
        try:
            done = ensure_dirs(root=root, folders=[env_dir, *paths], mode=mode)
        except HostDirError as error:
            raise HookError(str(error)) from None
        for warning in done.warnings:
            run.warn(warning)
        return {"root": root, "env_dir": env_dir, "paths": paths, "created": done.created}

    def cleanup(self, run: StepRun) -> dict[str, Any]:
        """Remove the data folders (and the env folder if then empty), only with deleteOnDestroy."""
        from codex_stacks.hostdirs import HostDirError, remove_dir_if_empty, remove_tree_nofollow

        if not run.params.get("delete_on_destroy"):
            return {}
        root, env_dir, paths = checked_paths(run.params)
        try:
            for path in paths:
                remove_tree_nofollow(root, path)
            remove_dir_if_empty(root, env_dir)
        except HostDirError as error:
            raise HookError(str(error)) from None
        return {}  # a delete has no outputs
