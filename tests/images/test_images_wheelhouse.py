"""Wheelhouse resolution against the real package index, into a temporary cache."""

from __future__ import annotations

from pathlib import Path

import pytest

from devkit.errors import ImageBuildError
from devkit.images.runtime_wheel import runtime_wheel, wheel_requirements
from devkit.images.wheelhouse import Target, resolve

TARGET = Target(python="3.11", machine="x86_64", glibc="2.36")


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DEVKIT_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_platform_tags_cover_every_manylinux_the_glibc_runs() -> None:
    tags = TARGET.platforms()
    assert tags[0] == "manylinux_2_36_x86_64"
    assert "manylinux_2_17_x86_64" in tags and "manylinux2014_x86_64" in tags
    assert "manylinux1_x86_64" in tags
    arm = Target(python="3.12", machine="aarch64", glibc="2.31").platforms()
    assert arm[0] == "manylinux_2_31_aarch64" and arm[-1] == "manylinux2014_aarch64"
    assert not any("manylinux1" in t or "_2_16_" in t for t in arm)
    assert TARGET.key == "cp311-manylinux_2_36_x86_64"


def test_second_resolve_downloads_nothing(cache: Path) -> None:
    lines: list[str] = []
    first = resolve(["six", "markupsafe"], TARGET, progress=lines.append)
    names = sorted(w.name for w in first.wheels)
    assert first.directory == cache / "wheelhouse" / TARGET.key
    assert [n.split("-")[0].lower() for n in names] == ["markupsafe", "pip", "six"]
    assert "cp311" in next(n for n in names if n.lower().startswith("markupsafe"))
    assert sorted(first.downloaded) == names
    assert any("downloaded 3" in line for line in lines)
    mtimes = {w: w.stat().st_mtime_ns for w in first.wheels}

    second = resolve(["markupsafe", "six", "six"], TARGET)
    assert second.downloaded == ()
    assert second.wheels == first.wheels and second.key == first.key
    assert {w: w.stat().st_mtime_ns for w in second.wheels} == mtimes


def test_overlapping_set_fetches_only_what_is_new(cache: Path) -> None:
    resolve(["six"], TARGET)
    grown = resolve(["six", "idna"], TARGET)
    assert [n.split("-")[0] for n in grown.downloaded] == ["idna"]
    assert len(grown.wheels) == 3


def test_package_without_a_wheel_names_it(cache: Path) -> None:
    # six 1.0.0 was published as a source archive only.
    with pytest.raises(ImageBuildError) as info:
        resolve(["six==1.0.0"], TARGET)
    message = str(info.value)
    assert "'six==1.0.0'" in message and "Python 3.11" in message
    assert "pin a version" in message


def test_runtime_wheel_is_built_once_and_lists_its_dependencies(cache: Path) -> None:
    wheel = runtime_wheel()
    assert wheel.name.startswith("devkit_runtime-") and wheel.suffix == ".whl"
    assert wheel.is_relative_to(cache)
    names = [r.split(">")[0].split("=")[0].strip() for r in wheel_requirements(wheel)]
    assert "uvicorn" in names
    mtime = wheel.stat().st_mtime_ns
    assert runtime_wheel() == wheel and wheel.stat().st_mtime_ns == mtime


def test_new_set_in_the_wheelhouse_is_resolved_offline_by_uv(cache: Path) -> None:
    first = resolve(["six", "markupsafe"], TARGET)  # no uv unpacked yet: pip
    from devkit.images.installer import uv_binary

    uv_binary(TARGET, lambda _line: None)  # as the first uv build does
    lines: list[str] = []
    subset = resolve(["six; python_version >= '3'"], TARGET, progress=lines.append)
    assert any("resolved offline from the wheelhouse" in line for line in lines)
    assert not any(line.startswith("pip download") for line in lines)
    assert sorted(w.name.split("-")[0] for w in subset.wheels) == ["pip", "six"]
    assert set(subset.wheels) <= set(first.wheels) and subset.downloaded == ()

    lines.clear()  # a package the wheelhouse lacks: pip and the index, as before
    grown = resolve(["six", "idna"], TARGET, progress=lines.append)
    assert any(line.startswith("pip download") for line in lines)
    assert [n.split("-")[0] for n in grown.downloaded] == ["idna"]
