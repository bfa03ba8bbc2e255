"""``github.comment``: one comment per step on an issue or PR, through the GitHub REST API."""

from __future__ import annotations

from typing import Any

from components.hooks.providers.base import HookError, HookProvider, StepRun

RETRY_STATUSES = frozenset({409, 429, 500, 502, 503, 504})


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
        import json
        import urllib.error
        import urllib.request

        data = json.dumps(body).encode() if body is not None else None
        last = ""
        attempts = attempts or self.attempts
        for attempt in range(1, attempts + 1):
            self.run.check_deadline(f"{method} {path}")
            request = urllib.request.Request(
                self.api_url + path,
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
                    return json.loads(payload) if payload else None
            except urllib.error.HTTPError as error:
                last = f"HTTP {error.code} {error.reason}"
                if error.code not in RETRY_STATUSES:
                    raise HookError(f"GitHub {method} {path}: {last}") from None
            except (urllib.error.URLError, OSError, ValueError) as error:
                last = f"{type(error).__name__}: {getattr(error, 'reason', error)}"
            if attempt < attempts:
                self.run.sleep(self.retry_delay * 2 ** (attempt - 1))
        raise TransientGithubError(f"GitHub {method} {path}: {last}; gave up after {attempts} attempts", reason=last)


class GithubCommentProvider(HookProvider):
    """Post the body once; a re-run edits the step's own comment (found by a hidden marker)."""

    def work(self, run: StepRun) -> dict[str, Any]:
        """Token from secret config (a secret input), else ``GITHUB_TOKEN`` at run time."""
        import os

        token = run.secrets.get("token") or os.environ.get("GITHUB_TOKEN") or ""
        if not token:
            raise HookError("no GitHub token: set secret config codex:githubToken or GITHUB_TOKEN")
        params = run.params
        api = GithubApi(run, api_url=str(params.get("api_url") or "https://api.github.com"), token=token)
        marker = str(params.get("marker") or "")
        body = f"{params['body']}\n\n{marker}" if marker else str(params["body"])
        issue = f"/repos/{params['repository']}/issues/{int(params['number'])}"
        comments = f"{issue}/comments"

        def own_comment() -> dict[str, Any] | None:
            for comment in api.call("GET", f"{comments}?per_page=100") or []:
                if marker in str(comment.get("body") or ""):
                    return dict(comment)
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
