"""The slot's links comment as the bundled template renders it (codex_stacks/ci/links.py):
each link's title and address, the namespace, the stack."""

from __future__ import annotations

from codex_stacks.ci.links import SlotLinks, render_links


def test_the_comment_lists_each_link_with_its_address() -> None:
    slot = SlotLinks(
        stack="ai-slot-3",
        slot=3,
        namespace="shop-dev-3",
        mode="normal",
        result="succeeded",
        links=[("Web", "https://dev-3.example.org/"), ("API docs", "https://dev-3.example.org/api/docs")],
    )

    text = render_links(slot, lang="en", project_dir=None)

    assert "**codex slot `ai-slot-3`** is up (succeeded, normal mode)." in text
    assert "- Namespace: `shop-dev-3`" in text
    assert "- Web: https://dev-3.example.org/\n" in text
    assert "- API docs: https://dev-3.example.org/api/docs\n" in text
    assert "No links" not in text
