"""A harsh loopback double of the GitHub REST API: issues, pull requests and issue comments.

The production code reaches it through its real HTTP client (urllib) with only the API URL
changed. It is unkind the way api.github.com is; each behaviour names where it is documented
(docs.github.com, REST reference and guides) or where it was observed:

* **Paging** (docs.github.com/rest/using-the-rest-api/using-pagination-in-the-rest-api) — list
  endpoints answer ``per_page`` items (default 30, at most 100) of page ``page``, with a ``Link``
  header of ``rel="next"``/``"last"``/``"first"``/``"prev"`` URLs. As on GitHub, those URLs name the
  repository by id (``/repositories/<id>/issues/<n>/comments?…``), not by ``owner/name``: a
  client must follow them, not rebuild them. Harsher modes: ``per_page_cap`` (an endpoint that
  ignores a larger ``per_page``: the client must page), ``honour_page=False`` (a server that
  answers page 1 whatever ``page`` says: the client must notice the repeat), ``send_links=False``
  (no ``Link`` header: the client pages until a short page), ``link_host`` (``Link`` URLs on
  another host).
* **Rate limits** (docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api) — every
  answer has ``x-ratelimit-limit``/``-remaining``/``-used``/``-reset``/``-resource``; when the
  primary limit is spent the answer is 403 (or 429, ``primary_status``) with
  ``x-ratelimit-remaining: 0`` until ``x-ratelimit-reset``; a secondary limit
  (:meth:`GithubDouble.secondary_limit`) is 403 or 429 with ``retry-after`` and the documented
  message. Unauthenticated requests have 60 an hour, a token 5,000.
* **A lagging list** — a comment just created (or a POST that committed before a 5xx) appears in
  the list endpoint only ``lag_seconds`` later (default 0.5 s, longer than a client's first retry):
  the list is served from replicas that trail the primary. Observed and reported by API users:
  dennisreimann/ioctocat#182 ("the API response does not contain the new comment yet"),
  dangwu/Octal#16 ("a bit of a non-constant delay"), buildasaurs/Buildasaur#163 (duplicate
  comments). A single comment fetched by id is read from the primary and is always current.
  :meth:`GithubDouble.settle` ends the lag (a re-run minutes later).
* **Faults** — :meth:`GithubDouble.fault` answers a status (or waits) for the next matching
  requests; ``after=True`` commits the work first (a 502 from the proxy after the POST landed).
* **Authentication** — ``Authorization: Bearer <token>`` or ``token <token>``; with ``tokens`` set,
  any other token is 401 ``Bad credentials``; a write without a token is 401 ``Requires
  authentication``; a private repository is 404 without a token (GitHub hides it); a request
  without ``User-Agent`` is 403 (docs.github.com/rest/using-the-rest-api/getting-started-with-the-rest-api,
  "User agent required").
* **Errors** — JSON ``{"message", "documentation_url", "status"}``; unknown repositories, issues and
  comments are 404; an empty or too long (> 65,536 characters) comment body is 422
  ``Validation Failed`` (docs.github.com/rest/issues/comments).
* **Issues and pull requests** — ``GET /repos/{o}/{r}/issues/{n}`` answers pull requests too,
  with a ``pull_request`` key (docs.github.com/rest/issues/issues#get-an-issue);
  ``/pulls/{n}`` answers only pull requests; ``/pulls`` lists them (``state`` filter, ``head``
  filter ``owner:branch``, paged). ``POST /pulls`` (docs.github.com/rest/pulls/pulls#create-a-pull-request)
  takes ``title``/``head``/``base``/``body``, numbers the pull request after the repository's
  issues (one sequence for both) and answers 201; a second open pull request for the same head
  and base is 422 ``A pull request already exists for owner:branch.``; a missing title, head or
  base is 422. ``PATCH /pulls/{n}`` changes ``title``/``body``/``state``. A pull request's ``head``
  is ``{ref, label, repo: {full_name}}`` (a fork's head names the fork).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

DOCS = "https://docs.github.com/rest"
SECONDARY_MESSAGE = (
    "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. "
    "If you reach out to GitHub Support for help, please include the request ID."
)
MAX_BODY = 65536


@dataclass
class Fault:
    """Answer ``status`` (or wait ``delay`` seconds first) for the next ``times`` matching requests;
    ``after``: do the work first, then answer ``status``. ``headers`` go with the answer."""

    method: str
    path_contains: str
    status: int | None = None
    delay: float = 0.0
    times: int = 1
    after: bool = False
    message: str = "Server Error"
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any
    status: int = 0

    @property
    def authorization(self) -> str | None:
        return next((v for k, v in self.headers.items() if k.lower() == "authorization"), None)

    @property
    def target(self) -> str:
        """Path and query as sent."""
        return self.path + (f"?{urlencode(self.query, doseq=True)}" if self.query else "")


@dataclass
class Issue:
    number: int
    state: str = "open"
    pull: bool = False
    title: str = ""
    body: str = ""
    head: str = ""
    head_repo: str = ""
    base: str = "main"


@dataclass
class Comment:
    id: int
    repo: str
    issue: int
    body: str
    user: str
    created: float
    updated: float
    visible_at: float
    """When the list endpoint starts showing it (the replicas caught up)."""


class GithubError(Exception):
    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None, **extra: Any) -> None:
        super().__init__(message)
        self.status, self.message, self.headers, self.extra = status, message, headers or {}, extra

    def body(self) -> dict[str, Any]:
        return {"message": self.message, **self.extra, "documentation_url": DOCS, "status": str(self.status)}


class GithubDouble:
    """The server and its state; a context manager (or ``start()``/``stop()``)."""

    def __init__(
        self,
        *,
        repos: dict[str, int] | None = None,
        private: Iterable[str] = (),
        tokens: Iterable[str] | None = None,
        lag_seconds: float = 0.5,
        per_page_cap: int = 100,
        honour_page: bool = True,
        send_links: bool = True,
        rate_limit: int = 5000,
        primary_status: int = 403,
    ) -> None:
        self.lock = threading.RLock()
        self.repos: dict[str, int] = dict(repos or {"acme/alimentor": 7})
        self.private = set(private)
        self.tokens = set(tokens) if tokens is not None else None
        self.issues: dict[tuple[str, int], Issue] = {}
        self.comments: dict[int, Comment] = {}
        self.next_id = 1000
        self.lag_seconds = lag_seconds
        self.per_page_cap = per_page_cap
        self.honour_page = honour_page
        self.send_links = send_links
        self.link_host: str | None = None
        self.rate_limit = rate_limit
        self.primary_status = primary_status
        self.used: dict[str, int] = {}
        """Requests counted against each caller's hourly limit (token, or ``""`` for anonymous)."""
        self.reset_at = int(time.time()) + 3600
        self.spent_until: float | None = None
        self.secondary_wait = 0.0
        self.secondary_until: float | None = None
        self.secondary_status = 403
        self.requests: list[Request] = []
        self.faults: list[Fault] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    # ------------------------------------------------------------------ life cycle

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> GithubDouble:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> GithubDouble:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------------ state, for tests

    def add_issue(
        self,
        repo: str,
        number: int,
        *,
        state: str = "open",
        pull: bool = False,
        title: str = "",
        body: str = "",
        head: str = "",
        head_repo: str | None = None,
    ) -> None:
        with self.lock:
            self.repos.setdefault(repo, 100 + len(self.repos))
            self.issues[(repo, number)] = Issue(number, state, pull, title, body, head, head_repo or repo)

    def pulls(self, repo: str) -> list[Issue]:
        with self.lock:
            return [i for (r, _), i in sorted(self.issues.items()) if r == repo and i.pull]

    def add_comments(self, repo: str, number: int, bodies: Iterable[str], *, user: str = "someone") -> list[int]:
        """Comments already on the thread (visible in lists at once), in order; their ids."""
        ids = []
        with self.lock:
            for body in bodies:
                ids.append(self._new_comment(repo, number, body, user, visible_at=0.0).id)
        return ids

    def comments_of(self, repo: str, number: int) -> list[Comment]:
        """Every comment of the thread as the primary has it (lag ignored), in order."""
        with self.lock:
            return [c for c in self.comments.values() if (c.repo, c.issue) == (repo, number)]

    def settle(self) -> None:
        """Let the replicas catch up: every comment shows in lists from now on."""
        with self.lock:
            for comment in self.comments.values():
                comment.visible_at = 0.0

    def fault(
        self,
        method: str,
        path_contains: str,
        *,
        status: int | None = None,
        delay: float = 0.0,
        times: int = 1,
        after: bool = False,
    ) -> None:
        message = {500: "Server Error", 502: "Server Error", 503: "Service Unavailable", 409: "Conflict"}.get(
            status or 0, "Error"
        )
        with self.lock:
            self.faults.append(Fault(method, path_contains, status, delay, times, after, message))

    def secondary_limit(self, method: str, path_contains: str, *, status: int = 403, retry_after: int = 1) -> None:
        """The next matching request hits a secondary rate limit: answered ``status`` with ``retry-after``,
        and so is every request until ``retry_after`` seconds have passed (GitHub keeps refusing a
        client that does not wait, and may ban it)."""
        with self.lock:
            self.faults.append(Fault(method, path_contains, status, 0.0, 1, False, SECONDARY_MESSAGE))
            self.secondary_wait = float(retry_after)

    def exhaust(self, *, reset_in: float = 1.0) -> None:
        """Spend every caller's primary limit; it comes back ``reset_in`` seconds from now."""
        with self.lock:
            self.spent_until = time.time() + reset_in
            self.reset_at = int(self.spent_until + 0.999)

    def count(self, method: str, path_contains: str = "") -> int:
        with self.lock:
            return sum(1 for r in self.requests if r.method == method and path_contains in r.path)

    def calls(self, method: str | None = None) -> list[Request]:
        with self.lock:
            return [r for r in self.requests if method is None or r.method == method]

    # ------------------------------------------------------------------ internals

    def _new_comment(self, repo: str, number: int, body: str, user: str, *, visible_at: float) -> Comment:
        self.next_id += 1
        now = time.time()
        comment = Comment(self.next_id, repo, number, body, user, now, now, visible_at)
        self.comments[comment.id] = comment
        return comment

    def _comment_json(self, comment: Comment) -> dict[str, Any]:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(comment.created))
        updated = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(comment.updated))
        return {
            "id": comment.id,
            "node_id": f"IC_{comment.id}",
            "url": f"{self.url}/repos/{comment.repo}/issues/comments/{comment.id}",
            "html_url": f"https://github.com/{comment.repo}/issues/{comment.issue}#issuecomment-{comment.id}",
            "issue_url": f"{self.url}/repos/{comment.repo}/issues/{comment.issue}",
            "body": comment.body,
            "user": {"login": comment.user, "type": "User"},
            "created_at": stamp,
            "updated_at": updated,
            "author_association": "MEMBER",
        }

    def _issue_json(self, repo: str, issue: Issue) -> dict[str, Any]:
        body: dict[str, Any] = {
            "number": issue.number,
            "state": issue.state,
            "title": issue.title,
            "body": issue.body or None,
            "html_url": f"https://github.com/{repo}/{'pull' if issue.pull else 'issues'}/{issue.number}",
        }
        if issue.pull:
            body["pull_request"] = {"url": f"{self.url}/repos/{repo}/pulls/{issue.number}"}
        return body

    def _pull_json(self, repo: str, issue: Issue) -> dict[str, Any]:
        owner = issue.head_repo.split("/", 1)[0]
        return {
            **self._issue_json(repo, issue),
            "head": {"ref": issue.head, "label": f"{owner}:{issue.head}", "repo": {"full_name": issue.head_repo}},
            "base": {"ref": issue.base, "repo": {"full_name": repo}},
        }

    def _create_pull(self, repo: str, payload: Any) -> dict[str, Any]:
        data = payload if isinstance(payload, dict) else {}
        missing = [key for key in ("title", "head", "base") if not isinstance(data.get(key), str) or not data[key]]
        if missing:
            raise GithubError(
                422,
                "Validation Failed",
                errors=[{"resource": "PullRequest", "code": "missing_field", "field": missing[0]}],
            )
        head = str(data["head"]).split(":", 1)[-1]
        for (r, _), other in self.issues.items():
            if r == repo and other.pull and other.state == "open" and other.head == head and other.base == data["base"]:
                owner = repo.split("/", 1)[0]
                raise GithubError(
                    422,
                    "Validation Failed",
                    errors=[
                        {
                            "resource": "PullRequest",
                            "code": "custom",
                            "message": f"A pull request already exists for {owner}:{head}.",
                        }
                    ],
                )
        number = max([n for (r, n) in self.issues if r == repo] + [0]) + 1
        issue = Issue(
            number, "open", True, str(data["title"]), str(data.get("body") or ""), head, repo, str(data["base"])
        )
        self.issues[(repo, number)] = issue
        return self._pull_json(repo, issue)

    def _caller(self, request: Request) -> str | None:
        auth = request.authorization or ""
        for scheme in ("Bearer ", "bearer ", "token "):
            if auth.startswith(scheme):
                token = auth[len(scheme) :].strip()
                if self.tokens is not None and token not in self.tokens:
                    raise GithubError(401, "Bad credentials")
                return token or None
        if auth:
            raise GithubError(401, "Bad credentials")
        return None

    def _limit(self, caller: str | None) -> int:
        return self.rate_limit if caller else min(self.rate_limit, 60)

    def _spent(self, caller: str | None) -> bool:
        if self.spent_until is not None and time.time() < self.spent_until:
            return True
        return self.used.get(caller or "", 0) >= self._limit(caller)

    def _rate_headers(self, caller: str | None) -> dict[str, str]:
        limit = self._limit(caller)
        used = self.used.get(caller or "", 0)
        return {
            "x-ratelimit-limit": str(limit),
            "x-ratelimit-remaining": "0" if self._spent(caller) else str(max(0, limit - used)),
            "x-ratelimit-used": str(used),
            "x-ratelimit-reset": str(self.reset_at),
            "x-ratelimit-resource": "core",
        }

    def _repo(self, owner_repo: str, caller: str | None) -> str:
        if owner_repo not in self.repos or (owner_repo in self.private and caller is None):
            raise GithubError(404, "Not Found")
        return owner_repo

    def _repo_by_id(self, repo_id: str, caller: str | None) -> str:
        for name, number in self.repos.items():
            if str(number) == repo_id:
                return self._repo(name, caller)
        raise GithubError(404, "Not Found")

    def _page(self, request: Request, items: list[dict[str, Any]], link_path: str) -> tuple[list[Any], dict[str, str]]:
        query = request.query
        try:
            per_page = int(query.get("per_page", ["30"])[0])
            page = int(query.get("page", ["1"])[0])
        except ValueError:
            raise GithubError(422, "Validation Failed") from None
        per_page = max(1, min(per_page, 100, self.per_page_cap))
        page = max(1, page) if self.honour_page else 1
        last = max(1, -(-len(items) // per_page))
        chunk = items[(page - 1) * per_page : page * per_page]
        headers: dict[str, str] = {}
        if self.send_links and last > 1:
            host = self.link_host or self.url
            rels = {}
            if page < last:
                rels["next"], rels["last"] = page + 1, last
            if page > 1:
                rels["first"], rels["prev"] = 1, page - 1
            others = {k: v for k, v in query.items() if k not in ("page", "per_page")}
            extra = f"&{urlencode(others, doseq=True)}" if others else ""
            headers["Link"] = ", ".join(
                f'<{host}{link_path}?per_page={per_page}&page={n}{extra}>; rel="{rel}"' for rel, n in rels.items()
            )
        return chunk, headers

    def handle(self, request: Request) -> tuple[int, Any, dict[str, str]]:
        """(status, JSON body, headers) of one request. Called with the lock held."""
        if not any(k.lower() == "user-agent" and v for k, v in request.headers.items()):
            raise GithubError(
                403,
                "Request forbidden by administrative rules. Please make sure your request has a User-Agent header",
            )
        caller = self._caller(request)
        key = caller or ""
        if self.spent_until is not None and time.time() >= self.spent_until:
            self.spent_until, self.used, self.reset_at = None, {}, int(time.time()) + 3600
        if self._spent(caller):
            who = "user ID 1" if caller else "127.0.0.1"
            raise GithubError(
                self.primary_status,
                f"API rate limit exceeded for {who}. (But here's the good news: Authenticated requests get a higher "
                "rate limit. Check out the documentation for more details.)",
                self._rate_headers(caller),
            )
        self.used[key] = self.used.get(key, 0) + 1
        status, body, headers = self._route(request, caller)
        return status, body, {**self._rate_headers(caller), **headers}

    def _route(self, request: Request, caller: str | None) -> tuple[int, Any, dict[str, str]]:
        parts = [p for p in request.path.split("/") if p]
        method = request.method
        if method in ("POST", "PATCH", "PUT", "DELETE") and caller is None:
            raise GithubError(401, "Requires authentication")
        if parts[:1] == ["repositories"] and len(parts) >= 2:
            repo = self._repo_by_id(parts[1], caller)
            rest = parts[2:]
        elif parts[:1] == ["repos"] and len(parts) >= 3:
            repo = self._repo(f"{parts[1]}/{parts[2]}", caller)
            rest = parts[3:]
        else:
            raise GithubError(404, "Not Found")
        repo_id = self.repos[repo]
        # /issues/comments/{id}
        if rest[:2] == ["issues", "comments"] and len(rest) == 3:
            comment = self.comments.get(int(rest[2])) if rest[2].isdigit() else None
            if comment is None or comment.repo != repo:
                raise GithubError(404, "Not Found")
            if method == "GET":
                return 200, self._comment_json(comment), {}
            if method == "PATCH":
                comment.body = self._valid_body(request.body)
                comment.updated = time.time()
                return 200, self._comment_json(comment), {}
            if method == "DELETE":
                del self.comments[comment.id]
                return 204, None, {}
        # /issues/{n}[/comments]
        if rest[:1] == ["issues"] and len(rest) in (2, 3) and rest[1].isdigit():
            number = int(rest[1])
            issue = self.issues.get((repo, number))
            if issue is None:
                raise GithubError(404, "Not Found")
            if len(rest) == 2 and method == "GET":
                return 200, self._issue_json(repo, issue), {}
            if len(rest) == 3 and rest[2] == "comments":
                if method == "GET":
                    now = time.time()
                    shown = [
                        self._comment_json(c)
                        for c in self.comments.values()
                        if (c.repo, c.issue) == (repo, number) and c.visible_at <= now
                    ]
                    chunk, headers = self._page(request, shown, f"/repositories/{repo_id}/issues/{number}/comments")
                    return 200, chunk, headers
                if method == "POST":
                    body = self._valid_body(request.body)
                    comment = self._new_comment(
                        repo, number, body, "codex-bot", visible_at=time.time() + self.lag_seconds
                    )
                    return 201, self._comment_json(comment), {"Location": self._comment_json(comment)["url"]}
        # /pulls[/{n}]
        if rest[:1] == ["pulls"] and len(rest) == 1 and method == "POST":
            return 201, self._create_pull(repo, request.body), {}
        if rest[:1] == ["pulls"] and len(rest) == 2 and rest[1].isdigit() and method == "PATCH":
            issue = self.issues.get((repo, int(rest[1])))
            if issue is None or not issue.pull:
                raise GithubError(404, "Not Found")
            data = request.body if isinstance(request.body, dict) else {}
            issue.title = str(data.get("title", issue.title))
            issue.body = str(data.get("body", issue.body) or "")
            issue.state = str(data.get("state", issue.state))
            return 200, self._pull_json(repo, issue), {}
        if rest[:1] == ["pulls"] and method == "GET":
            if len(rest) == 2 and rest[1].isdigit():
                issue = self.issues.get((repo, int(rest[1])))
                if issue is None or not issue.pull:
                    raise GithubError(404, "Not Found")
                return 200, self._pull_json(repo, issue), {}
            if len(rest) == 1:
                wanted = request.query.get("state", ["open"])[0]
                head = request.query.get("head", [""])[0]
                pulls = [
                    self._pull_json(repo, i)
                    for (r, _), i in sorted(self.issues.items(), key=lambda kv: -kv[0][1])
                    if r == repo
                    and i.pull
                    and wanted in ("all", i.state)
                    and (not head or head == f"{i.head_repo.split('/', 1)[0]}:{i.head}")
                ]
                chunk, headers = self._page(request, pulls, f"/repositories/{repo_id}/pulls")
                return 200, chunk, headers
        raise GithubError(404, "Not Found")

    @staticmethod
    def _valid_body(payload: Any) -> str:
        body = payload.get("body") if isinstance(payload, dict) else None
        if not isinstance(body, str) or not body:
            raise GithubError(
                422,
                "Validation Failed",
                errors=[{"resource": "IssueComment", "code": "missing_field", "field": "body"}],
            )
        if len(body) > MAX_BODY:
            raise GithubError(
                422,
                "Validation Failed",
                errors=[
                    {
                        "resource": "IssueComment",
                        "code": "custom",
                        "field": "body",
                        "message": "body is too long (maximum is 65536 characters)",
                    }
                ],
            )
        return body


def _handler(double: GithubDouble) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: tests read ``requests``."""

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                body = raw.decode(errors="replace")
            url = urlsplit(self.path)
            request = Request(self.command, url.path, parse_qs(url.query), dict(self.headers.items()), body)
            with double.lock:
                double.requests.append(request)
                fault = next(
                    (
                        f
                        for f in double.faults
                        if f.method == self.command and f.path_contains in self.path and f.times > 0
                    ),
                    None,
                )
                if fault is not None:
                    fault.times -= 1
            if fault is not None and fault.delay:
                time.sleep(fault.delay)
            with double.lock:
                status: int
                payload: Any
                headers: dict[str, str]
                now = time.time()
                if fault is not None and fault.message == SECONDARY_MESSAGE:
                    double.secondary_until = now + double.secondary_wait
                    double.secondary_status = fault.status or 403
                if double.secondary_until is not None and now < double.secondary_until:
                    wait = max(1, int(double.secondary_until - now + 0.999))
                    error = GithubError(double.secondary_status, SECONDARY_MESSAGE, {"retry-after": str(wait)})
                    status, payload, headers = error.status, error.body(), error.headers
                elif fault is not None and fault.message == SECONDARY_MESSAGE:
                    error = GithubError(fault.status or 403, SECONDARY_MESSAGE, {"retry-after": "0"})
                    status, payload, headers = error.status, error.body(), error.headers
                elif fault is not None and fault.status is not None and not fault.after:
                    status, payload, headers = (
                        fault.status,
                        GithubError(fault.status, fault.message).body(),
                        fault.headers,
                    )
                else:
                    try:
                        status, payload, headers = double.handle(request)
                    except GithubError as error:
                        status, payload, headers = error.status, error.body(), error.headers
                    if fault is not None and fault.status is not None:
                        status, payload, headers = (
                            fault.status,
                            GithubError(fault.status, fault.message).body(),
                            fault.headers,
                        )
                request.status = status
            data = json.dumps(payload).encode() if payload is not None else b""
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("X-GitHub-Request-Id", f"DOUBLE:{len(double.requests)}")
                for key, value in headers.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (a timeout test)

        def do_GET(self) -> None:
            self._serve()

        def do_POST(self) -> None:
            self._serve()

        def do_PATCH(self) -> None:
            self._serve()

        def do_PUT(self) -> None:
            self._serve()

        def do_DELETE(self) -> None:
            self._serve()

    return Handler
