"""The GitHub side of a CI step: step outputs, the step summary, and issue/PR state over REST."""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
import uuid
from collections.abc import Mapping
from pathlib import Path

from codexctl.ci.errors import CiError

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
    with Path(target).open("a", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")


def write_summary(markdown: str, *, path: str | None = None) -> None:
    """Append a short Markdown block to ``$GITHUB_STEP_SUMMARY`` so the run page tells what happened."""
    target = path if path is not None else os.environ.get("GITHUB_STEP_SUMMARY")
    if not target:
        return
    with Path(target).open("a", encoding="utf-8") as handle:
        handle.write(markdown.rstrip("\n") + "\n\n")


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
        raise CiError(f"GitHub API answered {exc.code} for {repository}#{number}") from None
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise CiError(f"cannot reach the GitHub API at {api_url}: {exc}") from None
    state = data.get("state") if isinstance(data, dict) else None
    if state not in ("open", "closed"):
        raise CiError(f"GitHub API gave no state for {repository}#{number}")
    return str(state)
