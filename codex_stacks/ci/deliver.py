"""``codexctl ci deliver``: the only writer of the repository. The agent never pushes.

The agent's working tree (``.git`` left out) is copied onto the runner's own checkout on the
issue's branch — the remote branch's tip, else the default branch — and committed there with
git's own rules (``git add -A``: never a file ``.gitignore`` matches, checked again with
``git check-ignore`` against the agent's ``.gitignore`` files and the branch's). Nothing leaves
when a changed file holds the value of a secret the run knows (the step's secret environment
variables and services.yaml's ``secret: true`` ones), as it is or encoded (:func:`secret_forms`):
the refusal names the file and the variable, never the value. The push never goes over a commit
deliver did not make: the branch's tip must be the commit last synced into the workspace or
last delivered (``sync.json``), or, without a record, every commit on the branch must carry
deliver's trailer; when the working copy's HEAD is a commit of the branch, only the commits after
it count (a workspace cloned at the branch's tip builds on everything before). Then the pull
request of the branch is opened or updated (``Closes #N``). The title and body come from
``.git/codex/pr.md`` in the agent's workspace (first line the title), else from the issue.
docs/operations.md, "Delivery".
"""

from __future__ import annotations

import base64
import contextlib
import os
import posixpath
import re
import stat
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

from codex_stacks.ci.errors import CiError, ExternalError
from codex_stacks.ci.ghrest import GithubRest, post_comment
from codex_stacks.ci.gitrepo import Git, commits_between
from codex_stacks.ci.mirror import MirrorError, mirror, read_bounded, tree_digest
from codex_stacks.ci.pulls import BODY_LIMIT, TITLE_LIMIT, issue_title, upsert_pull
from codex_stacks.ci.slots import Binding, format_time, now_utc
from codex_stacks.ci.sources import SyncRecord

TRAILER = "Codex-Delivery"
PR_FILE = ".git/codex/pr.md"
PR_FILE_LIMIT = 64 * 1024
MIN_SECRET = 8
"""Shorter values are not searched for: they would match ordinary text."""
SECRET_ENV = (
    "OPENAI_API_KEY",
    "CODEX_GH_PAT",
    "CONTEXT7_API_KEY",
    "GITHUB_TOKEN",
    "GH_TOKEN",
    "PULUMI_CONFIG_PASSPHRASE",
    "PULUMI_ACCESS_TOKEN",
    "AWS_SECRET_ACCESS_KEY",
)
"""Variables whose values never reach a commit: what the reusable workflows pass to their steps."""
Result = Literal["delivered", "nothing", "stopped"]


class DeliveryStoppedError(ExternalError):
    """Deliver refused to push (a foreign commit, a secret, a refused push): exit 1, with a comment."""


class AgentTree(Protocol):
    """Where the agent's work is: a folder the runner can read (without following links)."""

    def opened(self) -> contextlib.AbstractContextManager[int]: ...

    def head(self, agent: int) -> str | None:
        """The commit the working copy is at (``agent``: the opened folder), or None."""
        ...


class Records(Protocol):
    def read_record(self) -> SyncRecord | None: ...

    def write_record(self, record: SyncRecord) -> None: ...


@dataclass(frozen=True, slots=True)
class Delivery:
    result: Result
    branch: str
    message: str
    commit: str | None = None
    pull: int | None = None
    pull_url: str = ""
    pull_action: str = ""


def known_secrets(environ: Mapping[str, str], *, names: tuple[str, ...]) -> dict[str, str]:
    """Variable name → value, for every secret variable set to something long enough to search for."""
    return {name: environ[name] for name in dict.fromkeys(names) if len(environ.get(name, "")) >= MIN_SECRET}


def pr_text(raw: bytes | None) -> tuple[str, str] | None:
    """(title, body) of ``pr.md``: the first non-empty line (``#`` marks dropped), then the rest."""
    if not raw:
        return None
    lines = raw.decode("utf-8", "replace").replace("\r\n", "\n").split("\n")
    while lines and not lines[0].strip():
        lines.pop(0)
    if not lines:
        return None
    title = lines[0].strip().lstrip("#").strip()[:TITLE_LIMIT]
    body = "\n".join(lines[1:]).strip()[:BODY_LIMIT]
    return (title, body) if title else None


def secret_forms(value: str) -> tuple[bytes, ...]:
    """How a secret's value can sit in a file: as it is, in base64 (standard or URL-safe, at any of
    the three alignments it can take inside a longer encoded text) and in hex."""
    raw = value.encode()
    forms = {raw, raw.hex().encode(), raw.hex().upper().encode()}
    for shift in range(3):
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            encoded = encode(b"\0" * shift + raw).rstrip(b"=")
            # the characters that also depend on the bytes around the value are left out
            start = (shift * 4 + 2) // 3
            end = len(encoded) - (1 if (shift + len(raw)) % 3 else 0)
            if end - start >= MIN_SECRET:
                forms.add(encoded[start:end])
    return tuple(forms)


def _leaks(git: Git, paths: list[str], secrets: Mapping[str, str]) -> list[str]:
    """``file (VARIABLE)`` for each staged file whose content holds a secret's value (in any of
    :func:`secret_forms`)."""
    forms = {variable: secret_forms(value) for variable, value in secrets.items()}
    found = []
    fd = os.open(git.root, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for path in paths:
            parent, _, name = path.rpartition("/")
            try:
                info = os.stat(path, dir_fd=fd, follow_symlinks=False)
            except FileNotFoundError:
                continue
            if stat.S_ISLNK(info.st_mode):
                content = os.readlink(path, dir_fd=fd).encode()
            else:
                content = read_bounded(fd, path, limit=info.st_size + 1) or b""
            del parent, name
            for variable in secrets:
                if any(form in content for form in forms[variable]):
                    found.append(f"{path} (the value of ${variable})")
    finally:
        os.close(fd)
    return found


_COMMIT = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")


def working_copy_head(read: Callable[[str], bytes | None]) -> str | None:
    """The commit a working copy's HEAD names, from its files (``read``: a path inside the
    workspace → its first bytes, None when missing) as git itself would resolve it — a commit, or
    a branch's loose ref, else its line in ``packed-refs``. No git command runs in the agent's
    repository; anything unexpected is None."""
    head = (read(".git/HEAD") or b"").decode("utf-8", "replace").strip()
    if head.startswith("ref: "):
        ref = head[len("ref: ") :].strip()
        if not ref.startswith("refs/") or ".." in ref.split("/"):
            return None
        loose = read(f".git/{ref}")
        if loose is not None:
            head = loose.decode("utf-8", "replace").strip()
        else:
            lines = (read(".git/packed-refs") or b"").decode("utf-8", "replace").splitlines()
            found = [line.split(" ", 1)[0] for line in lines if line.endswith(f" {ref}")]
            head = found[0] if found else ""
    return head if _COMMIT.fullmatch(head) else None


def _ignored_by_base(git: Git, base: str, paths: list[str]) -> list[str]:
    """Which of ``paths`` the ``.gitignore`` files of ``base`` ignore: the agent may edit its own
    ``.gitignore``, but not to let through what the branch keeps out. The staged ``.gitignore``
    files are swapped for the base's for one ``git check-ignore``, then put back from the index."""
    rules = [
        path
        for path in git.paths("diff", "--cached", "--name-only", "-z", "--no-renames", base)
        if posixpath.basename(path) == ".gitignore"
    ]
    if not rules:
        return []
    root = Path(git.root)
    try:
        for path in rules:
            shown = git.run("show", f"{base}:{path}", check=False)
            target = root / path
            target.unlink(missing_ok=True)  # never written through: it may be the agent's link
            if shown.code == 0:
                target.parent.mkdir(parents=True, exist_ok=True)  # the agent may have removed its folder
                target.write_text(shown.out, encoding="utf-8")
        found = git.run("check-ignore", "--no-index", "-z", "--stdin", stdin="\0".join(paths), check=False)
        return sorted(path for path in found.out.split("\0") if path)
    finally:
        staged = set(git.paths("ls-files", "-z", "--", *rules))
        for path in rules:
            if path in staged:
                git.run("checkout-index", "--force", "--", path)
            else:
                (root / path).unlink(missing_ok=True)


def _restore(git: Git, base: str | None) -> None:
    """The runner's checkout back at ``base``, nothing of the agent's left in it."""
    if base is None:
        return
    git.run("reset", "--quiet", "--hard", base, check=False)
    git.run("clean", "--quiet", "-ffdx", check=False)


def deliver(
    *,
    source: Path,
    tree: AgentTree,
    records: Records,
    binding: Binding,
    branch: str,
    issue: int | None,
    pull: int | None,
    api: GithubRest,
    token: str | None,
    secrets: Mapping[str, str],
    progress: Callable[[str], None] = lambda _: None,
) -> Delivery:
    """Commit the agent's work onto ``branch``, push it and open or update its pull request."""
    repository = binding.repository
    git = Git(source, token=token)
    default = git.default_branch()
    default_tip = git.fetch_branch(default)
    tip = git.fetch_branch(branch)
    progress(f"{branch}: {'at ' + tip[:12] if tip else 'not on the remote yet'}; default branch {default}")
    record = records.read_record()
    base = tip or default_tip
    if base is None:
        raise ExternalError(f"the remote has neither {branch} nor its default branch {default}")
    checked_out: str | None = None
    """``base`` once the runner's checkout was moved to it: only then is there anything to restore."""
    try:
        with tree.opened() as agent:
            foreign = _foreign(
                git,
                tip=tip,
                record=record,
                branch=branch,
                default_tip=default_tip,
                binding=binding,
                head=tree.head(agent),
            )
            if foreign is not None:
                raise _stop(api, repository, binding.number, foreign)
            checked_out = base
            git.run("checkout", "--quiet", "--force", "-B", branch, base)
            _restore(git, base)
            wanted = tree_digest(agent)
            pr_md = read_bounded(agent, PR_FILE, limit=PR_FILE_LIMIT)
            source_fd = os.open(source, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
            try:
                mirror(agent, source_fd, skip_git=True)
            finally:
                os.close(source_fd)
    except MirrorError as exc:
        _restore(git, checked_out)
        raise _stop(api, repository, binding.number, f"the agent's workspace cannot be read: {exc}") from None
    except BaseException:
        _restore(git, checked_out)
        raise
    try:
        git.run("add", "--all")
        added = git.paths("diff", "--cached", "--name-only", "-z", "--diff-filter=A")
        if added:
            ignored = git.run("check-ignore", "--no-index", "-z", "--stdin", stdin="\0".join(added), check=False)
            if [path for path in ignored.out.split("\0") if path]:
                raise CiError(f"git staged ignored files: {', '.join(sorted(ignored.out.split(chr(0)))[:5])}")
            unignored = _ignored_by_base(git, base, added)
            if unignored:
                _restore(git, base)
                raise _stop(
                    api,
                    repository,
                    binding.number,
                    f"nothing was pushed: the agent's change to .gitignore would commit {len(unignored)} file(s) "
                    f"the branch ignores: {', '.join(unignored[:10])}",
                )
        if git.run("diff", "--cached", "--quiet", check=False).code == 0:
            _restore(git, base)
            message = f"codex: nothing to deliver, the agent's workspace matches `{branch}` ({base[:12]})."
            post_comment(api, repository=repository, number=binding.number, body=message)
            records.write_record(SyncRecord(branch=branch, commit=base, tree=wanted, at=format_time(now_utc())))
            return Delivery(result="nothing", branch=branch, message=message, commit=base)
        changed = git.paths("diff", "--cached", "--name-only", "-z", "--diff-filter=ACMRT")
        texts = pr_text(pr_md)
        leaks = _leaks(git, changed, secrets)
        if texts is not None:
            joined = f"{texts[0]}\n{texts[1]}"
            leaks += [f"{PR_FILE} (the value of ${name})" for name, value in secrets.items() if value in joined]
        if leaks:
            _restore(git, base)
            raise _stop(
                api,
                repository,
                binding.number,
                f"nothing was pushed: {len(leaks)} file(s) hold a secret's value: {', '.join(leaks[:10])}",
            )
        if texts is None:
            number = issue or binding.number
            found = issue_title(api, repository=repository, number=number) if issue else ""
            texts = (f"codex: {found}" if found else f"codex: changes for #{number}", "")
        title, body = texts
        trailer = f"{TRAILER}: {binding}"
        git.run(
            "commit",
            "--quiet",
            "--no-verify",
            "--file",
            "-",
            stdin=f"{title}\n\n{body}\n\n{trailer}\n".replace("\n\n\n\n", "\n\n"),
        )
        commit = git.rev("HEAD") or ""
        pushed = git.run(
            "push", "--quiet", "origin", f"HEAD:refs/heads/{branch}", network=True, check=False, timeout=600
        )
        if pushed.code != 0:
            _restore(git, base)
            from codex_stacks.ci.gitrepo import last_line

            raise _stop(api, repository, binding.number, f"the push of {branch} was refused: {last_line(pushed.err)}")
    except BaseException:
        _restore(git, base)
        raise
    records.write_record(SyncRecord(branch=branch, commit=commit, tree=wanted, at=format_time(now_utc())))
    progress(f"pushed {commit[:12]} to {branch}")
    closes = issue if issue is not None else None
    if pull is not None:
        payload = {"title": title, "body": body} if pr_md else {}
        if payload:
            api.call("PATCH", f"/repos/{repository}/pulls/{pull}", payload)
        return Delivery(
            result="delivered",
            branch=branch,
            message=f"pushed {commit[:12]}",
            commit=commit,
            pull=pull,
            pull_action="updated" if payload else "",
        )
    text = body.rstrip()
    if closes is not None and f"#{closes}" not in text:
        text = f"{text}\n\nCloses #{closes}".strip()
    action, number, url = upsert_pull(api, repository=repository, branch=branch, base=default, title=title, body=text)
    progress(f"pull request #{number} {action}")
    return Delivery(
        result="delivered",
        branch=branch,
        message=f"pushed {commit[:12]}; pull request #{number} {action}",
        commit=commit,
        pull=number,
        pull_url=url,
        pull_action=action,
    )


def _foreign(
    git: Git,
    *,
    tip: str | None,
    record: SyncRecord | None,
    branch: str,
    default_tip: str | None,
    binding: Binding,
    head: str | None = None,
) -> str | None:
    """Why the branch holds a commit deliver did not make (then nothing is pushed), or None.

    When the working copy's HEAD is on the branch (its commit an ancestor of the tip), only the
    commits after it count: the agent started from the rest (a workspace cloned at the branch's
    tip, a maintainer's commit included)."""
    if tip is None:
        return None
    trailer = f"{TRAILER}: {binding}"
    if head is not None and git.run("merge-base", "--is-ancestor", head, tip, check=False).code == 0:
        for commit in commits_between(git, head, tip):
            if trailer not in git.run("log", "-1", "--format=%B", commit).out:
                return (
                    f"`{branch}` holds commit {commit[:12]}, made after the agent's workspace started at "
                    f"{head[:12]} and not by codexctl ci deliver: nothing was pushed"
                )
        return None
    if record is not None and record.branch == branch:
        if tip == record.commit:
            return None
        return (
            f"`{branch}` is now at {tip[:12]}, not at {record.commit[:12]} where the agent's workspace started: "
            "someone else pushed to it. Nothing was pushed; sync the slot again (the agent's work there is kept "
            "until then) or deliver by hand"
        )
    for commit in commits_between(git, default_tip or "", tip) if default_tip else [tip]:
        message = git.run("log", "-1", "--format=%B", commit).out
        if trailer not in message:
            return f"`{branch}` holds commit {commit[:12]}, which codexctl ci deliver did not make: nothing was pushed"
    return None


def _stop(api: GithubRest, repository: str, number: int, why: str) -> DeliveryStoppedError:
    with contextlib.suppress(ExternalError):
        post_comment(api, repository=repository, number=number, body=f"codex: delivery stopped: {why}.")
    return DeliveryStoppedError(f"delivery stopped: {why}")


@dataclass(frozen=True, slots=True)
class HostPathTree:
    """The agent's working copy on the node: ``<codeRoot>/<slot>/src``, reached without following links."""

    opener: Callable[[], contextlib.AbstractContextManager[int]]

    def opened(self) -> contextlib.AbstractContextManager[int]:
        return self.opener()

    def head(self, agent: int) -> str | None:
        return working_copy_head(lambda path: read_bounded(agent, path, limit=1024 * 1024))


@contextlib.contextmanager
def folder_fd(path: Path) -> Iterator[int]:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    try:
        yield fd
    finally:
        os.close(fd)
