"""The host's apt sources, read from real files in both formats."""

from __future__ import annotations

from pathlib import Path

import pytest

from devkit.errors import ImageBuildError
from devkit.images.mirror import host_mirror, read_apt_sources


def apt_dir(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "apt"
    (root / "sources.list.d").mkdir(parents=True)
    for name, text in files.items():
        (root / name).write_text(text)
    return root


def test_deb822_sources_skip_security_and_disabled(tmp_path: Path) -> None:
    root = apt_dir(tmp_path, {"sources.list.d/debian.sources": """\
Types: deb
URIs: http://security.mirror.test/debian-security
Suites: bookworm-security
Components: main

Types: deb-src
URIs: http://src.mirror.test/debian
Suites: bookworm

Types: deb
URIs: http://off.mirror.test/debian
Suites: bookworm
Enabled: no

# the one apt really uses
Types: deb
URIs: http://main.mirror.test/debian
Suites: bookworm bookworm-updates
Components: main
"""})
    assert host_mirror("bookworm", root) == "http://main.mirror.test/debian"


def test_one_line_list_with_options(tmp_path: Path) -> None:
    root = apt_dir(tmp_path, {
        "sources.list": "# comment\ndeb [arch=amd64 signed-by=/k.gpg] http://a.test/debian "
                        "trixie main\n",
        "sources.list.d/other.list": "deb http://b.test/debian bookworm main contrib\n",
    })
    assert [s.uri for s in read_apt_sources(root)] == ["http://a.test/debian",
                                                      "http://b.test/debian"]
    assert host_mirror("bookworm", root) == "http://b.test/debian"
    assert host_mirror("trixie", root) == "http://a.test/debian"


def test_other_suite_falls_back_to_a_debian_archive(tmp_path: Path) -> None:
    root = apt_dir(tmp_path, {"sources.list": "deb http://a.test/debian bookworm main\n"})
    assert host_mirror("trixie", root) == "http://a.test/debian"


def test_no_mirror_names_the_flag(tmp_path: Path) -> None:
    root = apt_dir(tmp_path, {"sources.list.d/x.list.disabled": "deb http://a.test/debian "
                                                               "bookworm main\n"})
    with pytest.raises(ImageBuildError, match="--mirror URL"):
        host_mirror("bookworm", root)
