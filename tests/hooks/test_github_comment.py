"""``github.comment`` against a loopback GitHub API double, with faults."""

from __future__ import annotations

import json
import threading
import time
import urllib.parse
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from codex_stacks.components.hooks.providers.base import HookError
from codex_stacks.components.hooks.providers.github_comment import GithubCommentProvider
from tests.hooks.doubles import GithubDouble, unused_port
from tests.hooks.helpers import step_props

TOKEN = "ghp-canary-51c0ffee"
MARKER = "<!-- codex-stacks:ai-slot-3:announce -->"


def comment_props(
    api_url: str, body: str = "Slot 3 is up", *, token: str | None = TOKEN, **kwargs: Any
) -> dict[str, Any]:
    return step_props(
        "github.comment",
        {
            "repository": "acme/alimentor",
            "number": 42,
            "body": body,
            "api_url": api_url,
            "update_existing": True,
            "marker": MARKER,
        },
        secrets={"token": token} if token else None,
        **kwargs,
    )


def test_comment_is_posted_with_the_token_and_marker(github: GithubDouble) -> None:
    created = GithubCommentProvider().create(comment_props(github.url))
    assert created.outs["result"]["action"] == "created"
    (comment,) = github.comments.values()
    assert comment["issue"] == 42
    assert comment["body"] == f"Slot 3 is up\n\n{MARKER}"
    post = github.headers[github.requests.index(("POST", "/repos/acme/alimentor/issues/42/comments"))]
    assert {k.lower(): v for k, v in post.items()}["authorization"] == f"Bearer {TOKEN}"
    assert TOKEN not in repr({k: v for k, v in created.outs.items() if k != "secrets"})


def test_second_run_edits_its_own_comment_instead_of_adding_one(github: GithubDouble) -> None:
    GithubCommentProvider().create(comment_props(github.url))
    same = GithubCommentProvider().update("id", {}, comment_props(github.url))
    assert same.outs["result"]["action"] == "unchanged"
    changed = GithubCommentProvider().update("id", {}, comment_props(github.url, "Slot 3 is up again"))
    assert changed.outs["result"]["action"] == "updated"
    assert len(github.comments) == 1
    assert next(iter(github.comments.values()))["body"].startswith("Slot 3 is up again")
    assert github.count("POST") == 1
    assert github.count("PATCH") == 1


def test_token_from_the_environment_when_no_secret_config(
    github: GithubDouble, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", "from-env")
    GithubCommentProvider().create(comment_props(github.url, token=None))
    assert {k.lower(): v for k, v in github.headers[-1].items()}["authorization"] == "Bearer from-env"


def test_codex_gh_pat_from_the_environment_when_there_is_no_github_token(
    github: GithubDouble, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", "")  # a workflow maps an unset secret to an empty value
    monkeypatch.setenv("CODEX_GH_PAT", "pat-from-env")
    created = GithubCommentProvider().create(comment_props(github.url, token=None))
    assert created.outs["result"]["action"] == "created"
    assert {k.lower(): v for k, v in github.headers[-1].items()}["authorization"] == "Bearer pat-from-env"


@pytest.mark.parametrize(
    ("config", "env", "used"),
    [
        (TOKEN, {"GITHUB_TOKEN": "gh-env", "CODEX_GH_PAT": "pat-env"}, TOKEN),
        (None, {"GITHUB_TOKEN": "gh-env", "CODEX_GH_PAT": "pat-env"}, "gh-env"),
    ],
    ids=["secret-config-first", "then-GITHUB_TOKEN"],
)
def test_token_precedence_is_secret_config_then_github_token_then_codex_gh_pat(
    github: GithubDouble, monkeypatch: pytest.MonkeyPatch, config: str | None, env: dict[str, str], used: str
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    GithubCommentProvider().create(comment_props(github.url, token=config))
    sent = {{k.lower(): v for k, v in headers.items()}["authorization"] for headers in github.headers}
    assert sent == {f"Bearer {used}"}


def test_no_token_is_a_clear_error(github: GithubDouble, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    monkeypatch.delenv("CODEX_GH_PAT", raising=False)
    with pytest.raises(
        HookError, match="no GitHub token: set secret config codex:githubToken, GITHUB_TOKEN or CODEX_GH_PAT"
    ):
        GithubCommentProvider().create(comment_props(github.url, token=None))
    assert github.requests == []


def test_500_and_409_are_retried(github: GithubDouble) -> None:
    github.fault("GET", "/comments", status=500)
    github.fault("POST", "/comments", status=409)
    created = GithubCommentProvider().create(comment_props(github.url))
    assert created.outs["result"]["action"] == "created"
    assert len(github.comments) == 1


def test_a_post_that_failed_after_creating_is_not_posted_again(github: GithubDouble) -> None:
    github.fault("POST", "/comments", status=502, after=True)
    created = GithubCommentProvider().create(comment_props(github.url))
    assert created.outs["result"]["action"] == "created"
    assert len(github.comments) == 1
    assert github.count("POST") == 1


def test_persistent_500_gives_up_without_leaking_the_token(github: GithubDouble) -> None:
    github.fault("POST", "/comments", status=502, times=10)
    with pytest.raises(HookError) as failure:
        GithubCommentProvider().create(comment_props(github.url))
    assert "HTTP 502" in str(failure.value)
    assert "gave up after 3 attempts" in str(failure.value)
    assert TOKEN not in str(failure.value)


def test_404_is_not_retried(github: GithubDouble) -> None:
    props = comment_props(github.url)
    props["params"]["repository"] = "acme/missing"
    github.fault("GET", "/repos/acme/missing", status=404)
    with pytest.raises(HookError, match="HTTP 404"):
        GithubCommentProvider().create(props)
    assert len(github.requests) == 1


def test_slow_answers_time_out_without_hanging(github: GithubDouble) -> None:
    github.fault("GET", "/comments", delay=0.6, times=10)
    started = time.monotonic()
    with pytest.raises(HookError, match="gave up after 3 attempts"):
        GithubCommentProvider().create(comment_props(github.url))
    assert time.monotonic() - started < 1.5


def test_connection_refused_is_a_clear_error() -> None:
    with pytest.raises(HookError, match=r"Connection refused.*gave up after 3 attempts"):
        GithubCommentProvider().create(comment_props(f"http://127.0.0.1:{unused_port()}"))


class PagedGithub:
    """Issue comments the way GitHub pages them: ``per_page`` (at most 100) and ``page``, and a
    ``Link`` header whose ``rel="next"`` URL names the repository by id (``/repositories/7/…``),
    not by ``owner/name``. ``links=False`` is a server that sends no ``Link`` header."""

    def __init__(self, *, links: bool = True, next_host: str | None = None) -> None:
        self.comments: list[dict[str, Any]] = []
        self.requests: list[tuple[str, str, str]] = []
        self.links = links
        self.next_host = next_host
        double = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: tests read ``requests``."""

            def _answer(self, status: int, payload: Any, link: str | None = None) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                if link:
                    self.send_header("Link", link)
                self.end_headers()
                self.wfile.write(data)

            def _body(self) -> Any:
                length = int(self.headers.get("Content-Length") or 0)
                return json.loads(self.rfile.read(length)) if length else None

            def do_GET(self) -> None:
                double.requests.append(("GET", self.path, self.headers.get("Authorization", "")))
                url = urllib.parse.urlsplit(self.path)
                query = urllib.parse.parse_qs(url.query)
                per_page = min(100, int(query.get("per_page", ["30"])[0]))
                page = int(query.get("page", ["1"])[0])
                if url.path not in ("/repos/acme/alimentor/issues/42/comments", "/repositories/7/issues/42/comments"):
                    self._answer(404, {"message": "Not Found"})
                    return
                last = max(1, -(-len(double.comments) // per_page))
                items = double.comments[(page - 1) * per_page : page * per_page]
                link = None
                if double.links:
                    host = double.next_host or double.url
                    pages = {"next": page + 1, "last": last} if page < last else {"prev": page - 1, "first": 1}
                    link = ", ".join(
                        f'<{host}/repositories/7/issues/42/comments?per_page={per_page}&page={n}>; rel="{rel}"'
                        for rel, n in pages.items()
                        if n >= 1
                    )
                self._answer(200, items, link)

            def do_POST(self) -> None:
                double.requests.append(("POST", self.path, self.headers.get("Authorization", "")))
                comment = {"id": 5000 + len(double.comments), "body": self._body()["body"]}
                double.comments.append(comment)
                self._answer(201, comment)

            def do_PATCH(self) -> None:
                double.requests.append(("PATCH", self.path, self.headers.get("Authorization", "")))
                comment_id = int(self.path.rsplit("/", 1)[1])
                comment = next(c for c in double.comments if c["id"] == comment_id)
                comment["body"] = self._body()["body"]
                self._answer(200, comment)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def busy_thread(self, others: int, own_at: int | None = None, own_body: str = "old") -> None:
        """``others`` comments by people, and the step's own comment at index ``own_at``."""
        self.comments = [{"id": 100 + n, "body": f"comment {n}"} for n in range(others)]
        if own_at is not None:
            self.comments.insert(own_at, {"id": 99, "body": f"{own_body}\n\n{MARKER}"})

    def count(self, method: str) -> int:
        return sum(1 for m, _, _ in self.requests if m == method)


@pytest.fixture
def paged() -> Iterator[PagedGithub]:
    double = PagedGithub()
    double.thread.start()
    try:
        yield double
    finally:
        double.server.shutdown()
        double.server.server_close()


def test_own_comment_past_the_first_100_is_edited_not_posted_again(paged: PagedGithub) -> None:
    paged.busy_thread(others=250, own_at=230)  # on page 3
    result = GithubCommentProvider().create(comment_props(paged.url))
    assert result.outs["result"] == {"comment_id": 99, "action": "updated"}
    assert paged.count("POST") == 0
    assert len(paged.comments) == 251
    assert next(c for c in paged.comments if c["id"] == 99)["body"] == f"Slot 3 is up\n\n{MARKER}"
    gets = [path for method, path, _ in paged.requests if method == "GET"]
    assert gets[0] == "/repos/acme/alimentor/issues/42/comments?per_page=100&page=1"
    assert gets[1:] == [  # the Link header's next URLs, as GitHub gives them
        "/repositories/7/issues/42/comments?per_page=100&page=2",
        "/repositories/7/issues/42/comments?per_page=100&page=3",
    ]
    assert {auth for _, _, auth in paged.requests} == {f"Bearer {TOKEN}"}


def test_unchanged_comment_on_a_later_page_is_left_alone(paged: PagedGithub) -> None:
    paged.busy_thread(others=150, own_at=120, own_body="Slot 3 is up")
    result = GithubCommentProvider().create(comment_props(paged.url))
    assert result.outs["result"] == {"comment_id": 99, "action": "unchanged"}
    assert paged.count("POST") == 0
    assert paged.count("PATCH") == 0


def test_paging_stops_at_the_page_that_holds_the_comment(paged: PagedGithub) -> None:
    paged.busy_thread(others=450, own_at=10)
    GithubCommentProvider().create(comment_props(paged.url))
    assert paged.count("GET") == 1


def test_every_page_is_read_before_a_new_comment_is_posted(paged: PagedGithub) -> None:
    paged.busy_thread(others=200)  # exactly two full pages: the second has no next link
    result = GithubCommentProvider().create(comment_props(paged.url))
    assert result.outs["result"]["action"] == "created"
    assert paged.count("GET") == 2
    assert paged.count("POST") == 1


def test_without_link_headers_pages_are_read_until_a_short_one(paged: PagedGithub) -> None:
    paged.links = False
    paged.busy_thread(others=250, own_at=249)
    result = GithubCommentProvider().create(comment_props(paged.url))
    assert result.outs["result"] == {"comment_id": 99, "action": "updated"}
    gets = [path for method, path, _ in paged.requests if method == "GET"]
    assert gets == [f"/repos/acme/alimentor/issues/42/comments?per_page=100&page={n}" for n in (1, 2, 3)]
    assert paged.count("POST") == 0


def test_a_next_link_to_another_host_is_not_followed_with_the_token(paged: PagedGithub) -> None:
    paged.next_host = f"http://127.0.0.1:{unused_port()}"
    paged.busy_thread(others=150)
    with pytest.raises(HookError, match="is not under") as failure:
        GithubCommentProvider().create(comment_props(paged.url))
    assert TOKEN not in str(failure.value)
    assert paged.count("GET") == 1
    assert paged.count("POST") == 0
