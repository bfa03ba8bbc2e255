"""Reading services.yaml inside the project folder (codex_stacks/config/loader.py), where a fifth
sampled mutation run (tools/mutation.py config --sample 60 --seed 41 --recheck) found that no
test of the loader read a file through a link that leaves the folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from codex_stacks.config.loader import load_document, read_text
from codex_stacks.errors import ConfigError

SHOWN = (
    "{file}: the symbolic link leaves the project folder\n"
    "  hint: project files must stay inside the project folder (links may point only within it)"
)


def test_a_services_yaml_linked_from_outside_the_project_folder_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "outside.yaml"
    outside.write_text("project: demo\n", encoding="utf-8")
    project = tmp_path / "project"
    project.mkdir()
    (project / "services.yaml").symlink_to(outside)
    with pytest.raises(ConfigError) as caught:
        load_document(project / "services.yaml", root=project)
    assert str(caught.value) == SHOWN.format(file=project / "services.yaml")
    with pytest.raises(ConfigError) as caught:
        read_text(project / "services.yaml", root=project)
    assert str(caught.value) == SHOWN.format(file=project / "services.yaml")
    # without a project folder to stay in, the same link is read
    assert read_text(project / "services.yaml") == "project: demo\n"
