"""``github.comment``: one comment per step on an issue or PR, through the GitHub REST API."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from codex_stacks.components.hooks.providers.base import HookError, HookProvider, StepRun

RETRY_STATUSES = frozenset({409, 500, 502, 503, 504})
"""Answers worth another try after a back-off (rate limits are read apart: they say how long to wait)."""
TOKEN_ENV = ("GITHUB_TOKEN", "CODEX_GH_PAT")
"""Where the token comes from when secret config ``codex:githubToken`` is not set, in this order."""
DEFAULT_API_URL = "https://api.github.com"
PER_PAGE = 100
MAX_PAGES = 1000
"""A bound on paging (100,000 comments), so a server that keeps answering full pages cannot loop."""
SECONDARY_LIMIT_WAIT = 60.0
"""GitHub's advice for a secondary rate limit that names no wait: at least one minute."""


class TransientGithubError(HookError):
    """Every attempt failed in a way worth retrying (5xx, 409, rate limits, transport)."""

    def __init__(self, message: str, *, reason: str, wait: float | None = None, refused: bool = False) -> None:
        super().__init__(message)
        self.reason = reason
        self.wait = wait
        """How long the server asked to wait before the next try, if it did."""
        self.refused = refused
        """The last answer was a rate limit: GitHub refused the request before doing anything."""


def checked_api_url(api_url: str) -> str:
    """``apiUrl`` if the token may go there: https to api.github.com or to the runner's
    ``GITHUB_API_URL`` (GitHub Enterprise), plain http only to a loopback address (tests)."""
    import os
    import urllib.parse

    from codex_stacks.components.hooks.providers.httpcall import is_loopback

    url = api_url.rstrip("/")
    parts = urllib.parse.urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.username is not None or parts.password is not None or parts.query or parts.fragment:
        # a user or password in the URL is a credential: the message shows *** in its place
        shown = url.replace(parts.netloc, "***@" + parts.netloc.rpartition("@")[2], 1) if "@" in parts.netloc else url
        raise HookError(f"refusing apiUrl {shown!r}: it must be a plain https://host[/path] URL")
    if is_loopback(host) and parts.scheme in ("http", "https"):
        return url
    if parts.scheme != "https":
        raise HookError(
            f"refusing apiUrl {url!r}: the token goes over https only (plain http only to a loopback address)"
        )
    trusted = {"api.github.com"}
    runner_api = urllib.parse.urlsplit(os.environ.get("GITHUB_API_URL") or "").hostname
    if runner_api:
        trusted.add(runner_api.lower())
    if host not in trusted:
        raise HookError(
            f"refusing apiUrl {url!r}: the token goes only to {' or '.join(sorted(trusted))} "
            "(set GITHUB_API_URL on the runner for GitHub Enterprise)"
        )
    return url


def rate_limited(status: int, message: str, *, retry_after: float | None, remaining: str | None) -> bool:
    """A 429, or a 403 that is a rate limit rather than a missing permission (GitHub answers both
    with 403: a rate limit names a wait, has ``X-RateLimit-Remaining: 0`` or says so)."""
    if status == 429:
        return True
    return status == 403 and (retry_after is not None or remaining == "0" or "rate limit" in message.lower())


class GithubApi:
    """JSON over https with a token header: each request bounded in wall-clock time, bounded retries."""

    def __init__(self, run: StepRun, *, api_url: str, token: str) -> None:
        self.run = run
        self.api_url = api_url  # checked_api_url took any trailing "/" off
        self._token = token
        self.request_timeout = float(run.tuning.get("request_timeout", 15.0))
        self.retry_delay = float(run.tuning.get("retry_delay", 1.0))
        self.attempts = max(1, int(run.tuning.get("attempts", 4)))
        self.secondary_wait = float(run.tuning.get("secondary_limit_wait", SECONDARY_LIMIT_WAIT))

    def call(self, method: str, path: str, body: dict[str, Any] | None = None, *, attempts: int | None = None) -> Any:
        """JSON in, JSON out; 409/5xx, rate limits and transport errors retried, others raised at once."""
        return self.request(method, path, body, attempts=attempts)[0]

    def request(
        self, method: str, path: str, body: dict[str, Any] | None = None, *, attempts: int | None = None
    ) -> tuple[Any, str | None]:
        """Like :meth:`call`, also returning the ``Link`` header; ``path`` may be a full URL under the API.

        A rate limit (429, or a 403 secondary limit) waits as long as GitHub asks (``Retry-After``,
        else ``X-RateLimit-Reset``, else a minute) when that fits in the step's timeout, and fails
        at once, saying so, when it does not.
        """
        import json

        from codex_stacks.components.hooks.providers.httpcall import TransportError, retry_after, send

        url = path if path.startswith(("http://", "https://")) else self.api_url + path
        data = json.dumps(body).encode() if body is not None else None
        headers = {
            "Accept": "application/vnd.github+json",
            "Authorization": f"Bearer {self._token}",
            "X-GitHub-Api-Version": "2022-11-28",
            "User-Agent": "codex-stacks",
        }
        if data is not None:
            headers["Content-Type"] = "application/json"
        what = f"GitHub {method} {path}"
        attempts = attempts or self.attempts
        for attempt in range(1, attempts + 1):
            self.run.check_deadline(what)
            refused = False
            told: float | None = None  # the wait GitHub asked for (or, for a rate limit, advises)
            wait = self.retry_delay * 2 ** (attempt - 1)
            try:
                reply = send(
                    method, url, headers=headers, body=data, timeout=min(self.request_timeout, self.run.remaining())
                )
            except TransportError as error:
                last = str(error)
            else:
                if 200 <= reply.status < 300:
                    return _json(reply.body, what=what, status=reply.status), reply.header("Link")
                message = _message(reply.body)
                last = f"HTTP {reply.status} {reply.reason}{f' ({message})' if message else ''}"
                asked = retry_after(reply)
                if rate_limited(
                    reply.status, message, retry_after=asked, remaining=reply.header("X-RateLimit-Remaining")
                ):
                    wait = told = asked if asked is not None else max(wait, self.secondary_wait)
                    self.fits(wait, what=what, reason=last)
                    refused = True
                elif reply.status in RETRY_STATUSES:
                    told = asked
                    wait = asked if asked is not None else wait
                else:
                    raise HookError(f"{what}: {last}")
            if attempt < attempts:
                self.run.sleep(wait)
        raise TransientGithubError(
            f"{what}: {last}; gave up after {attempts} attempts", reason=last, wait=told, refused=refused
        )

    def fits(self, wait: float, *, what: str, reason: str) -> None:
        """Fail now, saying why, when a rate limit asks for a wait longer than the step has left."""
        if wait > self.run.remaining():
            raise HookError(
                f"{what}: rate limited ({reason}); GitHub asks to wait {wait:.0f}s, more than the "
                f"{self.run.remaining():.0f}s left of the step's timeout"
            )

    def pages(self, path: str) -> Iterator[dict[str, Any]]:
        """Every item of a list endpoint (``path`` without a query), one page at a time, fetched
        only as far as it is read.

        Follows the ``Link: <…>; rel="next"`` header as GitHub documents it; a server that sends
        no ``Link`` header is asked for ``page=N+1`` until a short page.
        """
        base = f"{path}?per_page={PER_PAGE}"
        url, page = f"{base}&page=1", 1
        seen: set[str] = set()
        for _ in range(MAX_PAGES):
            answer, link = self.request("GET", url)
            if not isinstance(answer, list):
                raise HookError(f"GitHub GET {path}: the answer is not a list of comments")
            items = answer
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


def _json(body: bytes, *, what: str, status: int) -> Any:
    """The parsed body of a success (None when empty), or a clear error: a 200 that is not JSON
    is a proxy or a captive portal, not GitHub."""
    import json

    if not body.strip():
        return None
    try:
        return json.loads(body)
    except ValueError:
        raise HookError(f"{what}: answered {status} with a body that is not JSON") from None


def _message(body: bytes) -> str:
    """GitHub's ``message`` of an error answer, shortened; empty when there is none."""
    import json

    try:
        data = json.loads(body)
    except ValueError:
        return ""
    from codex_stacks.components.hooks.providers.httpcall import shortened

    return shortened(str(data.get("message") or "") if isinstance(data, dict) else "")


def next_link(header: str) -> str | None:
    """The ``rel="next"`` URL of an RFC 8288 ``Link`` header, or None."""
    import re

    for target, params in re.findall(r"<([^>]*)>((?:\s*;\s*[^,;<]+)*)", header):
        for name, value in re.findall(r";\s*([A-Za-z*]+)\s*=\s*\"?([^\";]*)\"?", params):
            if name.lower() == "rel" and "next" in value.lower().split():
                return str(target)
    return None


LIST_LAG = 10.0
"""Seconds a new comment may take to show in the thread's list (replicas trail the primary)."""
LIST_POLL = 1.0


class GithubCommentProvider(HookProvider):
    """Post the body once; a re-run edits the step's own comment (found by a hidden marker)."""

    def work(self, run: StepRun) -> dict[str, Any]:
        """Token from secret config (a secret input), else ``GITHUB_TOKEN``, else ``CODEX_GH_PAT`` at run time."""
        import os

        token = run.secrets.get("token") or next((os.environ[n] for n in TOKEN_ENV if os.environ.get(n)), "")
        if not token:
            raise HookError("no GitHub token: set secret config codex:githubToken, GITHUB_TOKEN or CODEX_GH_PAT")
        params = run.params
        api = GithubApi(run, api_url=checked_api_url(str(params.get("api_url") or DEFAULT_API_URL)), token=token)
        marker = str(params["marker"])  # the planner names every step (codex_stacks/plan/hooks.py)
        body = f"{params['body']}\n\n{marker}"
        issue = f"/repos/{params['repository']}/issues/{int(params['number'])}"
        comments = f"{issue}/comments"

        def own_comment() -> dict[str, Any] | None:
            for comment in api.pages(comments):
                text = comment.get("body")
                if isinstance(text, str) and marker in text:
                    return comment
            return None

        def settled(find: Callable[[], dict[str, Any] | None]) -> dict[str, Any] | None:
            """The comment a failed POST may have created: lists trail the primary by seconds, so
            look again for a while (within the step's time) before deciding it is not there."""
            waited = 0.0
            while True:
                found = find()
                if found is not None or waited >= LIST_LAG or run.remaining() <= LIST_POLL:
                    return found
                run.sleep(LIST_POLL)
                waited += LIST_POLL

        if params["update_existing"]:
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
                if not isinstance(created, dict) or not isinstance(created.get("id"), int):
                    raise HookError(f"GitHub POST {comments}: the answer names no comment id")
                return {"comment_id": created["id"], "action": "created"}
            except TransientGithubError as error:
                # a rate limit refused the POST before it ran; any other failure may have created it
                posted = None if error.refused else settled(own_comment)
                if posted is not None:
                    return {"comment_id": posted["id"], "action": "created"}
                if attempt == api.attempts:
                    raise HookError(
                        f"GitHub POST {comments}: {error.reason}; gave up after {api.attempts} attempts"
                    ) from None
                run.sleep(error.wait if error.wait is not None else api.retry_delay * 2 ** (attempt - 1))
        raise AssertionError("the loop returns or raises")
