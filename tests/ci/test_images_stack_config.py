"""``ci images`` renders image tags the way ``pulumi up -s S`` would: with the stack file's settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from codex_stacks.ci.images import plan_images
from tests.conftest import MINIMAL, NAMESPACE_MANIFEST, MakeProject


def test_image_tags_use_the_stack_files_vars(
    make_project: MakeProject, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = make_project(
        MINIMAL
        + """\
registry: registry.local
images:
  app:
    type: external
    from: "docker.io/library/app:{{ vars.release }}"
    local: "{{ registry }}/library/app:{{ vars.release }}"
""",
        {"ns.yaml": NAMESPACE_MANIFEST},
    )
    program = tmp_path / "program"
    (program / "stacks").mkdir(parents=True)
    (program / "Pulumi.yaml").write_text("name: codex\nstackConfigDir: stacks\n", encoding="utf-8")
    (program / "stacks" / "Pulumi.dev.yaml").write_text(
        'config:\n  codex:vars: \'{"release": "7.1"}\'\n', encoding="utf-8"
    )
    monkeypatch.setenv("CODEX_PROGRAM_DIR", str(program))
    [job] = plan_images(stack="dev", project_dir=project, only=[])
    assert "registry.local/library/app:7.1" in repr(job)
