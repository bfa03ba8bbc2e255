"""A tiny dynamic provider that exists only to test the provider-host harness.

It manages one text file: ``directory/filename`` holding ``content``. The side effect is
real and observable from the test process, so a test can tell that the provider host
actually ran the provider rather than something answering in its place.

The class lives in an importable module on purpose: dill pickles it *by reference*
(``tests.support.sample_provider.FileProvider``), exactly like the project's hooks under
``codex_stacks.components.hooks``, so the host process must be able to import it from its cwd.
"""

from __future__ import annotations

from typing import Any

import pulumi
from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    ConfigureRequest,
    CreateResult,
    DiffResult,
    ReadResult,
    Resource,
    ResourceProvider,
    UpdateResult,
)

#: Inputs whose change moves the file elsewhere, so the old one must be deleted first.
REPLACE_KEYS = ("directory", "filename")


class FileProvider(ResourceProvider):
    """Write, rewrite and remove one file; ``fail_with`` makes create/update raise."""

    def configure(self, req: ConfigureRequest) -> None:
        """Keep the stack's ``<project>:stamp`` config: outputs show that Configure arrived."""
        self._stamp = req.config.get("stamp")

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        """Reject a filename that would escape the directory, before anything is touched."""
        failures: list[CheckFailure] = []
        filename = news.get("filename")
        if not isinstance(filename, str) or not filename or "/" in filename:
            failures.append(CheckFailure("filename", "must be a plain, non-empty file name"))
        if not isinstance(news.get("directory"), str):
            failures.append(CheckFailure("directory", "must be a path"))
        return CheckResult(dict(news), failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        """Content changes update in place; a new location replaces (delete first)."""
        keys = ("directory", "filename", "content", "fail_with")
        changed = [key for key in keys if olds.get(key) != news.get(key)]
        replaces = [key for key in changed if key in REPLACE_KEYS]
        return DiffResult(
            changes=bool(changed),
            replaces=replaces,
            delete_before_replace=bool(replaces),
        )

    def create(self, props: dict[str, Any]) -> CreateResult:
        """Write the file; the id is its path."""
        path = self._write(props)
        return CreateResult(path, self._outputs(props, path))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        """Report what is on disk now, so a refresh sees out-of-band edits."""
        import pathlib

        path = pathlib.Path(id_)
        content = path.read_text(encoding="utf-8") if path.exists() else None
        return ReadResult(id_, {**props, "content": content, "path": id_})

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        """Rewrite the content in place."""
        path = self._write(news)
        return UpdateResult(self._outputs(news, path))

    def delete(self, id_: str, _props: dict[str, Any]) -> None:
        """Remove the file; a file already gone counts as deleted."""
        import pathlib

        pathlib.Path(id_).unlink(missing_ok=True)

    @staticmethod
    def _write(props: dict[str, Any]) -> str:
        # Imports stay inside methods: the project's rule for hooks (they are pickled).
        import pathlib

        if props.get("fail_with"):
            raise RuntimeError(f"sample provider refused: {props['fail_with']}")
        path = pathlib.Path(props["directory"]) / props["filename"]
        path.write_text(props["content"], encoding="utf-8")
        return str(path)

    def _outputs(self, props: dict[str, Any], path: str) -> dict[str, Any]:
        return {
            "stamp": getattr(self, "_stamp", None),
            "directory": props["directory"],
            "filename": props["filename"],
            "content": props["content"],
            "path": path,
        }


class SampleFile(Resource, module="codex", name="SampleFile"):
    """The resource a program declares; registers as ``pulumi-python:dynamic/codex:SampleFile``."""

    path: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        *,
        directory: pulumi.Input[str],
        filename: pulumi.Input[str],
        content: pulumi.Input[str],
        token: pulumi.Input[str] | None = None,
        fail_with: str | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props: dict[str, Any] = {
            "directory": directory,
            "filename": filename,
            "content": content,
            "token": token,
            "fail_with": fail_with,
            "path": None,
        }
        super().__init__(FileProvider(), name, props, opts)
