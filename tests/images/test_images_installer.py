"""The installer choice: uv unpacked from its wheel offline, pip when asked or when no uv."""

from __future__ import annotations

import json
import subprocess
import zipfile
from pathlib import Path

import pytest

from devkit.images.installer import (
    SHARED_BYTES,
    Installer,
    choose_installer,
    runtime_closure,
    shared_steps,
    split_shared,
    uv_steps,
)
from devkit.images.wheelhouse import Target, requirements_key, wheelhouse_root

TARGET = Target(python="3.11", machine="x86_64", glibc="2.36")


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DEVKIT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("DEVKIT_INSTALLER", raising=False)
    return tmp_path / "cache"


def wheelhouse_with_uv(members: dict[str, str]) -> Path:
    """A resolved wheelhouse set for ``uv`` (as ``resolve`` leaves it), holding one wheel."""
    directory = wheelhouse_root() / TARGET.key
    (directory / "sets").mkdir(parents=True)
    wheel = directory / "uv-0.0.1-py3-none-manylinux_2_17_x86_64.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for name, text in members.items():
            archive.writestr(name, text)
    key = requirements_key(["pip", "uv"])
    (directory / "sets" / f"{key}.json").write_text(
        json.dumps({"requirements": ["pip", "uv"], "wheels": [wheel.name]}))
    return wheel


def test_uv_is_unpacked_from_its_wheel_without_a_network(cache: Path) -> None:
    wheelhouse_with_uv({"uv-0.0.1.data/scripts/uv": "#!/bin/sh\necho uv 0.0.1\n"})
    lines: list[str] = []

    installer, notice = choose_installer(TARGET, lines.append)

    assert notice is None and installer.name == "uv" and installer.uv is not None
    assert installer.uv.is_relative_to(cache / "uv")
    assert subprocess.run([str(installer.uv)], capture_output=True, text=True,
                          check=True).stdout == "uv 0.0.1\n"
    assert any("already resolved" in line for line in lines)


def test_a_uv_wheel_without_its_binary_falls_back_to_pip_with_one_notice(cache: Path) -> None:
    wheel = wheelhouse_with_uv({"uv/__init__.py": ""})

    installer, notice = choose_installer(TARGET, lambda _line: None)

    assert installer.name == "pip" and installer.uv is None
    assert notice is not None and "\n" not in notice
    assert str(wheel) in notice and notice.endswith("installing with pip (slower).")


def test_devkit_installer_pip_selects_the_previous_build(
        cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEVKIT_INSTALLER", "pip")
    assert choose_installer(TARGET, lambda _line: None) == (Installer(None), None)
    assert not (cache / "uv").exists()


def test_big_wheels_form_the_shared_layer_in_name_order(tmp_path: Path) -> None:
    sizes = {"scipy-1.whl": SHARED_BYTES * 3, "six-1.whl": 10_000,
             "numpy-2.whl": SHARED_BYTES, "joblib-1.whl": SHARED_BYTES - 1}
    for name, size in sizes.items():
        with (tmp_path / name).open("wb") as handle:
            handle.truncate(size)
    wheels = [tmp_path / name for name in sizes]

    shared, rest = split_shared(wheels)

    assert [w.name for w in shared] == ["numpy-2.whl", "scipy-1.whl"]
    assert [w.name for w in rest] == ["joblib-1.whl", "six-1.whl"]
    steps = shared_steps("base:1", "/opt/devkit/venv", shared)
    assert "/opt/devkit/shared/numpy-2.whl /opt/devkit/shared/scipy-1.whl" in steps
    assert "--no-deps" in steps
    assert "--no-deps" not in shared_steps("base:1", "/opt/devkit/venv", [])
    # An environment builds on the shared image and sends only the rest.
    rest_steps = uv_steps("devkit-shared:1", "/opt/devkit/venv")
    assert rest_steps.startswith("FROM devkit-shared:1\n") and "shared" not in \
        rest_steps.split("\n", 1)[1]


def fake_wheel(folder: Path, name: str, *requires: str) -> Path:
    """A wheel holding only its METADATA, with ``requires`` as its Requires-Dist lines."""
    wheel = folder / f"{name}-1.0-py3-none-any.whl"
    metadata = "".join(f"Requires-Dist: {line}\n" for line in requires)
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr(f"{name}-1.0.dist-info/METADATA",
                         f"Metadata-Version: 2.1\nName: {name}\n{metadata}\nlong description\n"
                         "Requires-Dist: not-a-header\n")
    return wheel


def test_the_runtimes_dependencies_are_found_by_the_wheels_metadata(tmp_path: Path) -> None:
    wheels = [fake_wheel(tmp_path, "uvicorn", "click>=8", "h11",
                         "typing_extensions; python_version < '3.11'",
                         "websockets; extra == 'standard'"),
              fake_wheel(tmp_path, "click"), fake_wheel(tmp_path, "h11"),
              fake_wheel(tmp_path, "typing_extensions"), fake_wheel(tmp_path, "websockets"),
              fake_wheel(tmp_path, "not_a_header"), fake_wheel(tmp_path, "joblib")]

    found = runtime_closure(wheels, ["uvicorn>=0.30", "watchdog>=4"], TARGET)

    # Python 3.11 needs no typing_extensions, no extra is asked for, watchdog is absent
    # (another version is pinned), the long description is no header and joblib is the
    # environment's own.
    assert [w.name.split("-")[0] for w in found] == ["click", "h11", "uvicorn"]
