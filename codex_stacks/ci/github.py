"""The GitHub side of a CI step: step outputs, the step summary, and issue/PR state over REST."""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

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


RATE_LIMIT_WAIT = 60.0
"""The longest wait for a GitHub rate limit to pass (seconds, all lookups of a run together);
a limit that lasts longer fails the lookup at once, naming when it resets."""
MAX_ANSWER = 1024 * 1024
"""The most of an issue's JSON read: the answer is a few kilobytes."""


@dataclass(frozen=True, slots=True)
class RateLimit:
    """A GitHub rate-limit answer: how long it asks us to wait, and which limit it is."""

    wait: float
    kind: str
    """``primary`` (the hourly quota is spent) or ``secondary`` (too many requests too fast)."""


def rate_limit(status: int, headers: Mapping[str, str], body: str, *, now: float) -> RateLimit | None:
    """Whether a 403/429 is a rate limit, as docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api
    describes it: ``retry-after`` (seconds) on a secondary limit; ``x-ratelimit-remaining: 0`` with
    ``x-ratelimit-reset`` (epoch seconds) on a spent quota; a 403 without them is a rate limit only
    when its message says so, else it is about the token's rights."""
    if status not in (403, 429):
        return None
    lowered = {key.lower(): value.strip() for key, value in headers.items()}
    retry = lowered.get("retry-after", "")
    if retry.isdigit():
        return RateLimit(wait=float(retry), kind="secondary")
    reset = lowered.get("x-ratelimit-reset", "")
    if lowered.get("x-ratelimit-remaining") == "0" and reset.isdigit():
        return RateLimit(wait=max(0.0, float(reset) - now), kind="primary")
    if status == 429 or "rate limit" in body.lower():
        return RateLimit(wait=60.0, kind="secondary" if "secondary" in body.lower() else "primary")
    return None


class IssueStates:
    """``open`` or ``closed`` of issues and pull requests over the REST API (the issues endpoint
    answers for pull requests too), for one run of a command: a rate limit is waited out when
    it passes within ``max_wait`` in all; once a longer one is met, later lookups fail at once
    instead of asking a server that refuses (GitHub may ban a client that keeps asking)."""

    def __init__(
        self,
        *,
        api_url: str,
        token: str | None,
        timeout: float = 10.0,
        max_wait: float = RATE_LIMIT_WAIT,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        progress: Callable[[str], None] = lambda _: None,
    ) -> None:
        self.progress = progress
        self.api_url = api_url.rstrip("/")
        self.token = token
        self.timeout = timeout
        self.budget = max_wait
        self.sleep = sleep
        self.clock = clock
        self.blocked: tuple[float, str] | None = None
        """(until, kind) of a rate limit longer than the budget."""

    def __call__(self, *, repository: str, number: int) -> str:
        if self.blocked is not None and self.clock() < self.blocked[0]:
            raise self._limited(repository, number, until=self.blocked[0], kind=self.blocked[1])
        while True:
            status, headers, text = self._get(repository, number)
            if status == 200:
                return self._state(text, repository, number)
            limit = rate_limit(status, headers, text, now=self.clock())
            if limit is None:
                raise self._refused(status, repository, number)
            if limit.wait > self.budget:
                self.blocked = (self.clock() + limit.wait, limit.kind)
                raise self._limited(repository, number, until=self.blocked[0], kind=limit.kind)
            pause = max(1.0, limit.wait)
            self.budget -= pause
            self.progress(f"GitHub API rate limit ({limit.kind}) at {repository}#{number}: waiting {pause:.0f}s")
            self.sleep(pause)

    def _get(self, repository: str, number: int) -> tuple[int, dict[str, str], str]:
        url = f"{self.api_url}/repos/{repository}/issues/{number}"
        request = urllib.request.Request(url, headers={"Accept": "application/vnd.github+json"})
        if self.token:
            request.add_header("Authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return 200, dict(response.headers.items()), self._read(response)
        except urllib.error.HTTPError as exc:
            try:
                text = self._read(exc)
            except OSError:
                text = ""
            return exc.code, dict(exc.headers.items()) if exc.headers else {}, text
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
            raise ExternalError(f"cannot reach the GitHub API at {self.api_url}: {reason}") from None

    @staticmethod
    def _read(response: Any) -> str:
        return bytes(response.read(MAX_ANSWER)).decode("utf-8", "replace")

    def _state(self, text: str, repository: str, number: int) -> str:
        try:
            data = json.loads(text)
        except ValueError:
            raise ExternalError(
                f"the GitHub API at {self.api_url} did not answer JSON for {repository}#{number}"
            ) from None
        state = data.get("state") if isinstance(data, dict) else None
        if state not in ("open", "closed"):
            raise ExternalError(f"GitHub API gave no state for {repository}#{number}")
        return str(state)

    def _refused(self, status: int, repository: str, number: int) -> ExternalError:
        hint = None
        if status in (401, 403, 404) and not self.token:
            hint = "set GITHUB_TOKEN: without it private repositories answer 404 and requests are rate-limited"
        elif status in (401, 403):
            hint = "check that GITHUB_TOKEN may read issues and pull requests of the repository"
        return ExternalError(f"GitHub API answered {status} for {repository}#{number}", hint=hint)

    def _limited(self, repository: str, number: int, *, until: float, kind: str) -> ExternalError:
        left = max(0.0, until - self.clock())
        when = datetime.fromtimestamp(until, UTC).strftime("%H:%M:%SZ")
        what = "the API rate limit is spent" if kind == "primary" else "a secondary rate limit holds"
        hint = "gc runs again on its schedule; the limit is per token"
        if not self.token:
            hint = "set GITHUB_TOKEN: without it the API allows 60 requests an hour"
        return ExternalError(
            f"GitHub API rate limit: {what} until {when} (in {left:.0f}s); {repository}#{number} not looked up",
            hint=hint,
        )
