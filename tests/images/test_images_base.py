"""devkit's base image and the checks that guard building it."""

from __future__ import annotations

from typing import Any

import pytest

from devkit.errors import ImageBuildError
from devkit.images.base import (
    DEFAULT_BASE_IMAGE,
    base_image_tag,
    ensure_base_image,
    find_debootstrap,
    missing_base_image_error,
    require_root,
)


@pytest.mark.docker
def test_base_image_runs_python3(docker_client: Any, base_image: str) -> None:
    output = docker_client.containers.run(base_image, ["python3", "--version"], remove=True,
                                          network_disabled=True)
    assert output.decode().startswith("Python 3.")
    labels = docker_client.images.get(base_image).labels
    assert labels.get("devkit.base") == "1"


@pytest.mark.docker
def test_missing_base_image_names_the_command(docker_client: Any,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEVKIT_BASE_IMAGE", "devkit-test/absent-base:never")
    with pytest.raises(ImageBuildError) as info:
        ensure_base_image(docker_client)
    assert "devkit-test/absent-base:never" in str(info.value)
    assert "`devkit base-image --tag devkit-test/absent-base:never`" in str(info.value)


def test_base_image_tag_is_configurable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DEVKIT_BASE_IMAGE", raising=False)
    assert base_image_tag() == DEFAULT_BASE_IMAGE
    monkeypatch.setenv("DEVKIT_BASE_IMAGE", "corp/python:3.11")
    assert base_image_tag() == "corp/python:3.11"
    assert "corp/python:3.11" in str(missing_base_image_error())


def test_missing_debootstrap_says_how_to_install(tmp_path: Any) -> None:
    with pytest.raises(ImageBuildError, match=r"apt-get install debootstrap"):
        find_debootstrap(search_path=str(tmp_path))


def test_non_root_is_refused_with_the_fix() -> None:
    with pytest.raises(ImageBuildError, match="must run as root.*sudo"):
        require_root(euid=1000)
    require_root(euid=0)
