"""What a fresh mutation sample of config (seed 53) found unread in the template budget: ``batch``'s
count and ``replace``'s ``new=`` given by name (refused before they are built, not after: built,
the render ran out of memory), and the escaping formatter of a safe string's ``format``."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.config.test_budget import SIZE as DEFAULT_SIZE
from tests.config.test_budget import fork_server, hostile
from tests.config.test_mutation_kills_seed31_budget import render

__all__ = ["fork_server"]  # the fixture, used by name


def test_a_batch_filled_past_the_size_limit_is_refused_before_it_is_built(
    fork_server: subprocess.Popen[str], tmp_path: Path
) -> None:
    """``[1]|batch(2000000000, 0)`` pads its one batch to 2,000,000,000 items: past the default
    limit of 1,000,000, so refused at once; built, it would not fit in the child's 1 GiB."""
    source = "kind: ConfigMap\nx: {{ [1]|batch(2000000000, 0)|list }}\n"
    report = hostile(fork_server, tmp_path, source)
    assert (report["message"], report["line"]) == (DEFAULT_SIZE, 2)


def test_a_replace_with_its_new_text_named_is_held_to_what_it_could_make(
    fork_server: subprocess.Popen[str], tmp_path: Path
) -> None:
    """``replace('x', new='y' * 1000)`` over 1,000,000 x's would make 1,000,000,000 characters:
    refused before it is built, whether ``new`` is given by position or by name."""
    source = "kind: ConfigMap\nx: {{ ('x' * 1000000)|replace('x', new='y' * 1000) }}\n"
    report = hostile(fork_server, tmp_path, source)
    assert (report["message"], report["line"]) == (DEFAULT_SIZE, 2)


def test_format_of_a_safe_string_escapes_what_it_inserts() -> None:
    """A ``Markup`` string's ``format`` goes through the budget's escaping formatter: the inserted
    text is escaped, the safe text is not."""
    assert render("{{ ('<b>{}</b>'|safe).format('<i>') }}") == "<b>&lt;i&gt;</b>"
