"""``github.comment``: one comment per step on an issue or PR, through the GitHub REST API."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from codex_stacks.components.hooks.providers.base import HookError, HookProvider, StepRun

RETRY_STATUSES = frozenset({409, 429, 500, 502, 503, 504})
TOKEN_ENV = ("GITHUB_TOKEN", "CODEX_GH_PAT")
"""Where the token comes from when secret config ``codex:githubToken`` is not set, in this order."""
PER_PAGE = 100
MAX_PAGES = 1000
"""A bound on paging (100,000 comments), so a server that keeps answering full pages cannot loop."""


class TransientGithubError(HookError):
    """Every attempt failed in a way worth retrying (5xx, 409/429, transport)."""

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


class GithubApi:
    """urllib with a token header, per-request timeouts and bounded retries."""

    def __init__(self, run: StepRun, *, api_url: str, token: str) -> None:
        self.run = run
        self.api_url = api_url.rstrip("/")
        self._token = token
        self.request_timeout = float(run.tuning.get("request_timeout", 15.0))
        self.retry_delay = float(run.tuning.get("retry_delay", 1.0))
        self.attempts = int(run.tuning.get("attempts", 4))

    def call(self, method: str, path: str, body: dict[str, Any] | None = None, *, attempts: int | None = None) -> Any:
        """JSON in, JSON out; 409/429/5xx and transport errors retried, others raised at once."""
        return self.request(method, path, body, attempts=attempts)[0]

    def request(
        self, method: str, path: str, body: dict[str, Any] | None = None, *, attempts: int | None = None
    ) -> tuple[Any, str | None]:
        """Like :meth:`call`, also returning the ``Link`` header; ``path`` may be a full URL under the API."""
        import json
        import urllib.error
        import urllib.request

        url = path if path.startswith(("http://", "https://")) else self.api_url + path
        data = json.dumps(body).encode() if body is not None else None
        last = ""
        attempts = attempts or self.attempts
        for attempt in range(1, attempts + 1):
            self.run.check_deadline(f"{method} {path}")
            request = urllib.request.Request(
                url,
                data=data,
                method=method,
                headers={
                    "Accept": "application/vnd.github+json",
                    "Authorization": f"Bearer {self._token}",
                    "X-GitHub-Api-Version": "2022-11-28",
                    "Content-Type": "application/json",
                    "User-Agent": "codex-stacks",
                },
            )
            timeout = max(0.05, min(self.request_timeout, self.run.remaining() or 0.05))
            try:
                with urllib.request.urlopen(request, timeout=timeout) as response:
                    payload = response.read()
                    return (json.loads(payload) if payload else None), response.headers.get("Link")
            except urllib.error.HTTPError as error:
                last = f"HTTP {error.code} {error.reason}"
                if error.code not in RETRY_STATUSES:
                    raise HookError(f"GitHub {method} {path}: {last}") from None
            except (urllib.error.URLError, OSError, ValueError) as error:
                last = f"{type(error).__name__}: {getattr(error, 'reason', error)}"
            if attempt < attempts:
                self.run.sleep(self.retry_delay * 2 ** (attempt - 1))
        raise TransientGithubError(f"GitHub {method} {path}: {last}; gave up after {attempts} attempts", reason=last)

    def pages(self, path: str) -> Iterator[dict[str, Any]]:
        """Every item of a list endpoint, one page at a time, fetched only as far as it is read.

        Follows the ``Link: <…>; rel="next"`` header as GitHub documents it; a server that sends
        no ``Link`` header is asked for ``page=N+1`` until a short page.
        """
        separator = "&" if "?" in path else "?"
        base = f"{path}{separator}per_page={PER_PAGE}"
        url, page = f"{base}&page=1", 1
        seen: set[str] = set()
        for _ in range(MAX_PAGES):
            items, link = self.request("GET", url)
            items = list(items or [])
            keys = {str(item.get("id")) for item in items if isinstance(item, dict)}
            if keys and keys <= seen:
                return  # a server that ignores `page` answers the first page again
            seen |= keys
            yield from (dict(item) for item in items if isinstance(item, dict))
            if link is not None:
                following = next_link(link)
                if following is None:
                    return
                if not following.startswith(self.api_url + "/"):
                    raise HookError(f"GitHub GET {path}: the next page ({following}) is not under {self.api_url}")
                url = following
            elif len(items) < PER_PAGE:
                return
            else:
                page += 1
                url = f"{base}&page={page}"
        raise HookError(f"GitHub GET {path}: more than {MAX_PAGES} pages")


def next_link(header: str) -> str | None:
    """The ``rel="next"`` URL of an RFC 8288 ``Link`` header, or None."""
    import re

    for target, params in re.findall(r"<([^>]*)>((?:\s*;\s*[^,;<]+)*)", header):
        for name, value in re.findall(r";\s*([A-Za-z*]+)\s*=\s*\"?([^\";]*)\"?", params):
            if name.lower() == "rel" and "next" in value.lower().split():
                return str(target)
    return None


class GithubCommentProvider(HookProvider):
    """Post the body once; a re-run edits the step's own comment (found by a hidden marker)."""

    def work(self, run: StepRun) -> dict[str, Any]:
        """Token from secret config (a secret input), else ``GITHUB_TOKEN``, else ``CODEX_GH_PAT`` at run time."""
        import os

        token = run.secrets.get("token") or next((os.environ[n] for n in TOKEN_ENV if os.environ.get(n)), "")
        if not token:
            raise HookError("no GitHub token: set secret config codex:githubToken, GITHUB_TOKEN or CODEX_GH_PAT")
        params = run.params
        api = GithubApi(run, api_url=str(params.get("api_url") or "https://api.github.com"), token=token)
        marker = str(params.get("marker") or "")
        body = f"{params['body']}\n\n{marker}" if marker else str(params["body"])
        issue = f"/repos/{params['repository']}/issues/{int(params['number'])}"
        comments = f"{issue}/comments"

        def own_comment() -> dict[str, Any] | None:
            for comment in api.pages(comments):
                if marker in str(comment.get("body") or ""):
                    return comment
            return None

        if marker and params.get("update_existing", True):
            existing = own_comment()
            if existing is not None:
                if existing.get("body") == body:
                    return {"comment_id": existing["id"], "action": "unchanged"}
                api.call("PATCH", f"/repos/{params['repository']}/issues/comments/{existing['id']}", {"body": body})
                return {"comment_id": existing["id"], "action": "updated"}
        # A POST is not idempotent: after a failed answer, look for the marker before posting again
        # (GitHub may have created the comment and still answered 5xx).
        for attempt in range(1, api.attempts + 1):
            try:
                created = api.call("POST", comments, {"body": body}, attempts=1)
                return {"comment_id": (created or {}).get("id"), "action": "created"}
            except TransientGithubError as error:
                posted = own_comment() if marker else None
                if posted is not None:
                    return {"comment_id": posted["id"], "action": "created"}
                if attempt == api.attempts:
                    raise HookError(
                        f"GitHub POST {comments}: {error.reason}; gave up after {api.attempts} attempts"
                    ) from None
                run.sleep(api.retry_delay * 2 ** (attempt - 1))
        raise AssertionError("the loop returns or raises")
