"""``codexctl import``: write the converted project and print the report (text or JSON)."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from codex_stacks.cli.output import console, fail


def run_import(*, source: Path, out: Path | None, output: str) -> None:
    from codex_stacks.importer.migrate import check_out, import_project, write

    if output not in ("text", "json"):
        fail(f"--output must be text or json, not {output!r}")
    target = out if out is not None else Path.cwd() / f"{source.resolve().name}-imported"
    check_out(source, target)
    report, files = import_project(source, target)
    try:
        write(target, files)
    except OSError as exc:
        fail(f"--out: cannot write into {target}: {exc.strerror or exc}")
    if output == "json":
        typer.echo(json.dumps(report.as_json(), indent=2, ensure_ascii=False))
    else:
        typer.echo(report.as_text(), nl=False)
    steps = len(report.manual_steps)
    console.print(
        f"wrote {len(report.written)} files to {target}; "
        + (f"{steps} manual step{'s' if steps != 1 else ''} left (listed above)" if steps else "no manual steps left"),
        markup=False,
    )
