"""Reading project files within the operator's limits (codex_stacks.config.files and .limits).

FIFOs, sockets, /dev/zero and unreadable files are in the bad-input corpus, where each run is its
own process under a deadline (a regression there must fail, not hang this suite).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from codex_stacks.config.files import read_optional, read_text
from codex_stacks.config.limits import Limits
from codex_stacks.errors import ConfigError

SMALL = Limits(file_bytes=100, project_bytes=250)


def _project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    root.mkdir()
    return root


def test_a_file_of_exactly_the_limit_is_read_one_byte_more_is_not(tmp_path: Path) -> None:
    root = _project(tmp_path)
    (root / "fits.yaml").write_text("a" * 100, encoding="utf-8")
    (root / "over.yaml").write_text("a" * 101, encoding="utf-8")
    assert read_text(root / "fits.yaml", root=root, limits=SMALL) == "a" * 100
    with pytest.raises(ConfigError) as info:
        read_text(root / "over.yaml", root=root, limits=SMALL)
    assert str(info.value).startswith(f"{root / 'over.yaml'}: the file is larger than 100 bytes")
    assert "CODEX_MAX_FILE_BYTES" in str(info.value)


def test_the_project_total_counts_each_file_once(tmp_path: Path) -> None:
    """Three files of 90 bytes pass the per-file limit; the third takes the project past 250.
    Reading a file again (the second template pass does) does not count it twice."""
    root = _project(tmp_path)
    for name in ("a", "b", "c"):
        (root / f"{name}.yaml").write_text("x" * 90, encoding="utf-8")
    read_text(root / "a.yaml", root=root, limits=SMALL)
    read_text(root / "b.yaml", root=root, limits=SMALL)
    read_text(root / "a.yaml", root=root, limits=SMALL)
    with pytest.raises(ConfigError) as info:
        read_text(root / "c.yaml", root=root, limits=SMALL)
    assert "the project's files add up to more than 250 bytes with this one" in str(info.value)
    assert info.value.location.file == root / "c.yaml"


def test_links_may_point_inside_the_project_never_out_of_it(tmp_path: Path) -> None:
    root = _project(tmp_path)
    (root / "real").mkdir()
    (root / "real" / "services.yaml").write_text("project: demo\n", encoding="utf-8")
    (root / "services.yaml").symlink_to("real/services.yaml")
    (tmp_path / "outside.yaml").write_text("secret: x\n", encoding="utf-8")
    (root / "escape.yaml").symlink_to(tmp_path / "outside.yaml")
    assert read_text(root / "services.yaml", root=root) == "project: demo\n"
    with pytest.raises(ConfigError, match="the symbolic link leaves the project folder"):
        read_text(root / "escape.yaml", root=root)
    with pytest.raises(ConfigError, match="the file is outside the project folder"):
        read_text(tmp_path / "outside.yaml", root=root)
    assert read_text(root / "escape.yaml") == "secret: x\n"  # without a root, links are the caller's business


def test_every_os_error_is_one_line_naming_the_file(tmp_path: Path) -> None:
    root = _project(tmp_path)
    (root / "folder").mkdir()
    (root / "loop.yaml").symlink_to("loop.yaml")
    (root / "file.yaml").write_text("x", encoding="utf-8")
    cases = {
        root / "missing.yaml": "file not found",
        root / "folder": "expected a file, found a directory",
        root / "loop.yaml": "too many levels of symbolic links (a link loop?)",
        root / ("n" * 300): "file name too long",
        root / "file.yaml" / "below": "file not found (a part of its path is not a folder)",
    }
    for path, words in cases.items():
        for reader_root in (root, None):
            with pytest.raises(ConfigError) as info:
                read_text(path, root=reader_root)
            assert str(info.value) == f"{path}: {words}", (reader_root, str(info.value))


def test_not_utf8_names_the_line(tmp_path: Path) -> None:
    root = _project(tmp_path)
    (root / "services.yaml").write_bytes(b"project: demo\nname: caf\xe9\n")
    with pytest.raises(ConfigError) as info:
        read_text(root / "services.yaml", root=root)
    assert info.value.location.line == 2
    assert "not UTF-8 text" in info.value.message


def test_read_optional_is_none_only_when_nothing_is_there(tmp_path: Path) -> None:
    root = _project(tmp_path)
    assert read_optional(root / "Pulumi.dev.yaml", root=root) is None
    (root / "dangling.yaml").symlink_to("nowhere.yaml")
    with pytest.raises(ConfigError, match="file not found"):
        read_optional(root / "dangling.yaml", root=root)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("8388608", 8 << 20), ("8M", 8 << 20), ("8MiB", 8 << 20), ("512k", 512 << 10), ("1G", 1 << 30), (" 64 ", 64)],
)
def test_sizes_from_the_environment(value: str, expected: int) -> None:
    assert Limits.from_environment({"CODEX_MAX_FILE_BYTES": value}).file_bytes == expected


def test_defaults_when_the_environment_says_nothing() -> None:
    limits = Limits.from_environment({})
    assert (limits.file_bytes, limits.project_bytes) == (8 << 20, 64 << 20)
    assert (limits.yaml_nodes, limits.yaml_depth) == (200_000, 100)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("CODEX_MAX_FILE_BYTES", "lots"),
        ("CODEX_MAX_PROJECT_BYTES", "0"),
        ("CODEX_MAX_YAML_NODES", "-5"),
        ("CODEX_MAX_YAML_DEPTH", "1.5"),
    ],
)
def test_a_limit_that_is_not_a_number_names_its_variable(name: str, value: str) -> None:
    with pytest.raises(ConfigError) as info:
        Limits.from_environment({name: value})
    assert info.value.location.path == name
    assert repr(value) in info.value.message
