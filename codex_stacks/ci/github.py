"""The GitHub side of a CI step: step outputs, the step summary, and issue/PR state over REST."""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
import uuid
from collections.abc import Mapping
from pathlib import Path

from codex_stacks.ci.errors import CiError, ExternalError

OutputValue = str | int | bool | None


def format_value(value: OutputValue) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def write_outputs(values: Mapping[str, OutputValue], *, path: str | None = None) -> None:
    """Append ``key=value`` lines to ``$GITHUB_OUTPUT`` (multi-line values in heredoc form)."""
    target = path if path is not None else os.environ.get("GITHUB_OUTPUT")
    if not target:
        return
    lines: list[str] = []
    for key, raw in values.items():
        value = format_value(raw)
        if "\n" in value:
            marker = f"codex_{uuid.uuid4().hex}"
            lines.append(f"{key}<<{marker}\n{value}\n{marker}")
        else:
            lines.append(f"{key}={value}")
    _append(target, "\n".join(lines) + "\n", name="GITHUB_OUTPUT")


def write_summary(markdown: str, *, path: str | None = None) -> None:
    """Append a short Markdown block to ``$GITHUB_STEP_SUMMARY`` so the run page tells what happened."""
    target = path if path is not None else os.environ.get("GITHUB_STEP_SUMMARY")
    if not target:
        return
    _append(target, markdown.rstrip("\n") + "\n\n", name="GITHUB_STEP_SUMMARY")


def _append(target: str, text: str, *, name: str) -> None:
    try:
        with Path(target).open("a", encoding="utf-8") as handle:
            handle.write(text)
    except OSError as exc:
        raise CiError(
            f"cannot write ${name} ({target}): {exc.strerror or exc}",
            hint=f"${name} must name a writable file (GitHub Actions sets it); unset it outside a workflow",
        ) from None


def issue_state(*, repository: str, number: int, token: str | None, api_url: str, timeout: float = 10.0) -> str:
    """``open`` or ``closed``: the issues endpoint answers for pull requests too."""
    url = f"{api_url.rstrip('/')}/repos/{repository}/issues/{number}"
    request = urllib.request.Request(url, headers={"Accept": "application/vnd.github+json"})
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            data = json.loads(response.read().decode("utf-8"))
    except urllib.error.HTTPError as exc:
        hint = None
        if exc.code in (401, 403, 404) and not token:
            hint = "set GITHUB_TOKEN: without it private repositories answer 404 and requests are rate-limited"
        elif exc.code in (401, 403):
            hint = "check that GITHUB_TOKEN may read issues and pull requests of the repository"
        raise ExternalError(f"GitHub API answered {exc.code} for {repository}#{number}", hint=hint) from None
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
        raise ExternalError(f"cannot reach the GitHub API at {api_url}: {reason}") from None
    except ValueError:
        raise ExternalError(f"the GitHub API at {api_url} did not answer JSON for {repository}#{number}") from None
    state = data.get("state") if isinstance(data, dict) else None
    if state not in ("open", "closed"):
        raise ExternalError(f"GitHub API gave no state for {repository}#{number}")
    return str(state)
