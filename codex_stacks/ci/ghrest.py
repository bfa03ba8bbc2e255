"""A small GitHub REST client for the CI steps that write: pull requests and comments.

Every request is bounded (a socket timeout, an answer of at most 1 MiB, at most
:data:`MAX_PAGES` pages); the token goes over https to api.github.com or the runner's
``GITHUB_API_URL`` only (plain http to a loopback address, for tests); redirects are not
followed. Rate limits are waited out as GitHub asks when the wait fits a budget
(codex_stacks/ci/github.py: ``rate_limit``); 5xx answers are retried a few times. Failures
are one line (exit 1) naming the request, never the token.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

from codex_stacks.ci.errors import CiError, ExternalError
from codex_stacks.ci.github import MAX_ANSWER, RATE_LIMIT_WAIT, rate_limit

DEFAULT_API_URL = "https://api.github.com"
MAX_PAGES = 50
RETRIES = 3
_NEXT = re.compile(r'<([^>]+)>\s*;\s*rel="next"')


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def checked_api_url(api_url: str) -> str:
    """``api_url`` if a token may be sent there."""
    url = api_url.rstrip("/")
    parts = urllib.parse.urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.username or parts.password or parts.query or parts.fragment:
        raise CiError(f"--api-url {url!r} must be a plain https://host[/path] URL")
    if _loopback(host) and parts.scheme in ("http", "https"):
        return url
    trusted = {"api.github.com"}
    runner = urllib.parse.urlsplit(os.environ.get("GITHUB_API_URL") or "").hostname
    if runner:
        trusted.add(runner.lower())
    if parts.scheme != "https" or host not in trusted:
        raise CiError(
            f"refusing --api-url {url!r}: the token goes over https to {' or '.join(sorted(trusted))} only",
            hint="GitHub Enterprise runners set GITHUB_API_URL",
        )
    return url


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class GithubRest:
    """JSON requests to one API root with one token."""

    def __init__(
        self,
        *,
        api_url: str,
        token: str | None,
        timeout: float = 15.0,
        max_wait: float = RATE_LIMIT_WAIT,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.api_url = checked_api_url(api_url)
        self._token = token or None
        self.timeout = timeout
        self.budget = max_wait
        self.sleep = sleep
        self._opener = urllib.request.build_opener(_NoRedirect)

    def _send(self, method: str, url: str, body: Any) -> tuple[int, dict[str, str], bytes]:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(url, data=data, method=method)
        request.add_header("Accept", "application/vnd.github+json")
        request.add_header("User-Agent", "codexctl")
        request.add_header("X-GitHub-Api-Version", "2022-11-28")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        if self._token:
            request.add_header("Authorization", f"Bearer {self._token}")
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                return int(response.status), dict(response.headers.items()), response.read(MAX_ANSWER)
        except urllib.error.HTTPError as exc:
            try:
                text = exc.read(MAX_ANSWER)
            except OSError:
                text = b""
            return exc.code, dict(exc.headers.items()) if exc.headers else {}, text
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
            raise ExternalError(f"cannot reach the GitHub API at {self.api_url}: {reason}") from None

    def call(
        self, method: str, path: str, body: Any = None, *, allow: tuple[int, ...] = ()
    ) -> tuple[int, Any, dict[str, str]]:
        """(status, JSON, headers) of one request; a status in ``allow`` is returned, not raised."""
        url = path if path.startswith(("http://", "https://")) else f"{self.api_url}{path}"
        if not url.startswith(self.api_url + "/"):
            raise ExternalError(f"the GitHub API sent a link outside {self.api_url}: refusing to follow it")
        what = f"{method} {urllib.parse.urlsplit(url).path}"
        for attempt in range(RETRIES + 1):
            status, headers, raw = self._send(method, url, body)
            text = raw.decode("utf-8", "replace")
            if 200 <= status < 300:
                return status, _json(raw, what=what) if raw else None, headers
            limit = rate_limit(status, headers, text, now=time.time())
            if limit is not None and limit.wait <= self.budget:
                pause = max(1.0, limit.wait)
                self.budget -= pause
                self.sleep(pause)
                continue
            if status in allow:
                return status, _json(raw, what=what) if raw else None, headers
            if status >= 500 and attempt < RETRIES:
                self.sleep(min(8.0, 2.0**attempt))
                continue
            raise ExternalError(f"GitHub API: {what} answered {status}: {_message(text)}", hint=_hint(status))
        raise ExternalError(f"GitHub API: {what} kept failing")

    def get(self, path: str) -> Any:
        return self.call("GET", path)[1]

    def pages(self, path: str) -> Iterator[Any]:
        """Every item of a list endpoint, following ``Link: rel="next"`` (GitHub's paging)."""
        url: str | None = path + ("&" if "?" in path else "?") + "per_page=100"
        seen: set[str] = set()
        for _ in range(MAX_PAGES):
            if url is None or url in seen:
                return
            seen.add(url)
            _, items, headers = self.call("GET", url)
            if not isinstance(items, list):
                raise ExternalError(f"GitHub API: GET {path} did not answer a list")
            yield from items
            found = _NEXT.search(next((v for k, v in headers.items() if k.lower() == "link"), ""))
            url = found.group(1) if found else None


def _json(raw: bytes, *, what: str) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        raise ExternalError(f"GitHub API: {what} did not answer JSON") from None


def _message(text: str) -> str:
    try:
        data = json.loads(text)
    except ValueError:
        return text.strip().splitlines()[0][:200] if text.strip() else "no message"
    message = str(data.get("message", "")) if isinstance(data, dict) else ""
    errors = data.get("errors") if isinstance(data, dict) else None
    if isinstance(errors, list) and errors and isinstance(errors[0], dict) and errors[0].get("message"):
        message += f" ({errors[0]['message']})"
    return message[:300] or "no message"


def _hint(status: int) -> str | None:
    if status in (401, 403):
        return (
            "check the token's rights: pull-requests and issues write, contents write for the push (docs/security.md)"
        )
    if status == 404:
        return "the repository, issue or pull request does not exist, or the token may not read it"
    return None


MARKER_PREFIX = "<!-- codexctl:"


def upsert_comment(api: GithubRest, *, repository: str, number: int, marker: str, body: str) -> tuple[str, int]:
    """Edit the comment carrying ``marker`` (a hidden HTML comment) on the thread, else post one.
    ``("created" | "updated", comment id)``."""
    tag = f"{MARKER_PREFIX}{marker} -->"
    text = f"{tag}\n{body}"
    for comment in api.pages(f"/repos/{repository}/issues/{number}/comments"):
        if isinstance(comment, dict) and str(comment.get("body", "")).startswith(tag):
            api.call("PATCH", f"/repos/{repository}/issues/comments/{int(comment['id'])}", {"body": text})
            return "updated", int(comment["id"])
    _, made, _ = api.call("POST", f"/repos/{repository}/issues/{number}/comments", {"body": text})
    return "created", int(made["id"]) if isinstance(made, dict) else 0


def post_comment(api: GithubRest, *, repository: str, number: int, body: str) -> None:
    api.call("POST", f"/repos/{repository}/issues/{number}/comments", {"body": body})
