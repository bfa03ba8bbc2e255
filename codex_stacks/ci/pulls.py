"""Pull requests: which issue one closes, and opening or updating the one of a branch.

GitHub links a pull request to an issue when its body says ``close``/``closes``/``closed``,
``fix``/``fixes``/``fixed`` or ``resolve``/``resolves``/``resolved`` followed by ``#N`` (or
``owner/repo#N``), case-insensitively, with an optional colon (docs.github.com, "Linking a pull
request to an issue using a keyword"). Only issues of the same repository count here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from codex_stacks.ci.errors import ExternalError
from codex_stacks.ci.ghrest import GithubRest

KEYWORDS = ("close", "closes", "closed", "fix", "fixes", "fixed", "resolve", "resolves", "resolved")
_CLOSING = re.compile(
    r"(?<![\w/#-])(?:"
    + "|".join(KEYWORDS)
    + r")\s*:?\s+(?:(?P<repo>[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+))?#(?P<n>\d{1,9})\b",
    re.IGNORECASE,
)
MAX_SCANNED = 65536
"""A PR body is at most 65,536 characters on GitHub; nothing beyond is read."""
TITLE_LIMIT = 256
BODY_LIMIT = 60000


def closed_issues(body: str, *, repository: str) -> list[int]:
    """The issues of ``repository`` a pull request body closes, in order, each once."""
    found: list[int] = []
    for match in _CLOSING.finditer(body[:MAX_SCANNED]):
        repo = match.group("repo")
        if repo is not None and repo.lower() != repository.lower():
            continue
        number = int(match.group("n"))
        if number > 0 and number not in found:
            found.append(number)
    return found


def branch_issue(branch: str, *, pattern: str) -> int | None:
    """The issue of a branch named by the delivery pattern (``codex/issue-{issue}``)."""
    head, _, tail = pattern.partition("{issue}")
    if not branch.startswith(head) or not branch.endswith(tail):
        return None
    middle = branch[len(head) : len(branch) - len(tail) if tail else None]
    return int(middle) if middle.isdigit() and not middle.startswith("0") else None


@dataclass(frozen=True, slots=True)
class PullInfo:
    number: int
    head: str
    head_repository: str
    body: str
    title: str
    url: str


def read_pull(api: GithubRest, *, repository: str, number: int) -> PullInfo:
    data = api.get(f"/repos/{repository}/pulls/{number}")
    if not isinstance(data, dict) or not isinstance(data.get("head"), dict):
        raise ExternalError(f"GitHub API: pull request {repository}#{number} has no head")
    head = data["head"]
    repo = head.get("repo") if isinstance(head.get("repo"), dict) else {}
    return PullInfo(
        number=number,
        head=str(head.get("ref", "")),
        head_repository=str((repo or {}).get("full_name", "")),
        body=str(data.get("body") or "")[:MAX_SCANNED],
        title=str(data.get("title") or ""),
        url=str(data.get("html_url") or ""),
    )


def linked_issue(pull: PullInfo, *, repository: str, pattern: str) -> int | None:
    """The issue a pull request works on: its branch (``codex/issue-N``) first, else its body."""
    if pull.head_repository.lower() == repository.lower():
        by_branch = branch_issue(pull.head, pattern=pattern)
        if by_branch is not None:
            return by_branch
    found = closed_issues(pull.body, repository=repository)
    return found[0] if found else None


def issue_title(api: GithubRest, *, repository: str, number: int) -> str:
    data = api.get(f"/repos/{repository}/issues/{number}")
    return str(data.get("title") or "")[:TITLE_LIMIT] if isinstance(data, dict) else ""


def open_pull_of(api: GithubRest, *, repository: str, branch: str) -> dict[str, Any] | None:
    """The open pull request whose head is ``owner:branch`` of the repository itself."""
    owner = repository.split("/", 1)[0]
    for pull in api.pages(f"/repos/{repository}/pulls?state=open&head={owner}:{branch}"):
        head = pull.get("head") if isinstance(pull, dict) else None
        if isinstance(head, dict) and head.get("ref") == branch:
            return dict(pull)
    return None


def upsert_pull(
    api: GithubRest, *, repository: str, branch: str, base: str, title: str, body: str
) -> tuple[str, int, str]:
    """Update the open pull request of ``branch``, else open one: ``("created" | "updated", number, url)``."""
    payload = {"title": title[:TITLE_LIMIT], "body": body[:BODY_LIMIT]}
    found = open_pull_of(api, repository=repository, branch=branch)
    if found is None:
        status, made, _ = api.call(
            "POST", f"/repos/{repository}/pulls", {**payload, "head": branch, "base": base}, allow=(422,)
        )
        if status != 422 and isinstance(made, dict):
            return "created", int(made["number"]), str(made.get("html_url", ""))
        found = open_pull_of(api, repository=repository, branch=branch)  # opened meanwhile by someone else
        if found is None:
            raise ExternalError(f"GitHub API refused to open a pull request for {branch} (422) and none is open")
    number = int(found["number"])
    _, updated, _ = api.call("PATCH", f"/repos/{repository}/pulls/{number}", payload)
    url = str(updated.get("html_url", "")) if isinstance(updated, dict) else ""
    return "updated", number, url
