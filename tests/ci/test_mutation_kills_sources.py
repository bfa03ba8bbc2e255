"""The runner's checkout before ``ci sync-sources`` copies it (codex_stacks/ci/sources.py): a
credential in the origin URL's host part is refused; an ``@`` elsewhere in the URL is no credential."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from codex_stacks.ci.errors import CiError
from codex_stacks.ci.gitrepo import Git
from codex_stacks.ci.sources import check_checkout


def checkout_with_origin(folder: Path, url: str) -> Git:
    subprocess.run(["git", "init", "--quiet", "-b", "main", str(folder)], check=True)
    git = Git(folder)
    git.run("remote", "add", "origin", url)
    return git


@pytest.mark.parametrize(
    "url",
    [
        "https://github.com/acme/shop.git",
        "/srv/mirrors/runner@ci/shop.git",  # a local remote whose folder name holds an @
        "file:///srv/mirrors/runner@ci/shop.git",
        "https://github.com/acme/shop.git?ref=v1@2",
    ],
)
def test_an_origin_without_a_credential_is_accepted(tmp_path: Path, url: str) -> None:
    check_checkout(checkout_with_origin(tmp_path / "checkout", url))


@pytest.mark.parametrize(
    "url", ["https://x-access-token:ghs_abc123@github.com/acme/shop.git", "https://ghs_abc123@github.com/acme/shop"]
)
def test_an_origin_with_a_credential_is_refused(tmp_path: Path, url: str) -> None:
    folder = tmp_path / "checkout"

    with pytest.raises(CiError) as raised:
        check_checkout(checkout_with_origin(folder, url))

    assert str(raised.value) == (
        f"the origin URL of {folder} holds a credential\n  hint: check out without one in the URL"
    )
    assert "ghs_abc123" not in str(raised.value)
