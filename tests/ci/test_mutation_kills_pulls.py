"""Pull requests of ``ci deliver`` (codex_stacks/ci/pulls.py): the address of a pull request it
updated, and an issue's title when the API answers something other than an issue."""

from __future__ import annotations

from codex_stacks.ci.ghrest import GithubRest
from codex_stacks.ci.pulls import issue_title, upsert_pull
from tests.ci.test_mutation_kills_ghrest import fixed_answer
from tests.support.github_double import GithubDouble

REPOSITORY = "acme/shop"


def test_updating_the_open_pull_request_of_a_branch_gives_its_address() -> None:
    with GithubDouble(repos={REPOSITORY: 11}) as github:
        github.add_issue(REPOSITORY, 5, title="The greeting is rude")
        github.add_issue(REPOSITORY, 6, pull=True, title="old title", head="codex/issue-5")
        api = GithubRest(api_url=github.url, token="t0ken")

        action, number, url = upsert_pull(
            api, repository=REPOSITORY, branch="codex/issue-5", base="main", title="Kinder greeting", body="Closes #5"
        )

        assert (action, number) == ("updated", 6)
        assert url == "https://github.com/acme/shop/pull/6"
        assert github.pulls(REPOSITORY)[0].title == "Kinder greeting"


def test_an_answer_that_is_no_issue_gives_no_title() -> None:
    for answer in (b"[]", b"", b'"a string"'):
        with fixed_answer(answer) as url:
            api = GithubRest(api_url=url, token="t0ken")
            assert issue_title(api, repository=REPOSITORY, number=5) == ""
