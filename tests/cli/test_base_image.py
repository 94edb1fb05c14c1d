"""``devkit base-image`` as a user runs it: real subprocesses, debootstrap and engine."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from typing import Any

import pytest

DEVKIT = [sys.executable, "-m", "devkit.cli.main"]


@pytest.fixture
def root_and_debootstrap(require: Any) -> None:
    require(os.geteuid() == 0 and
            shutil.which("debootstrap", path="/usr/sbin:/usr/bin") is not None,
            "building a base image needs root and debootstrap")


def base_image(*args: str, timeout: int = 60,
               user: str | None = None) -> subprocess.CompletedProcess[str]:
    prefix = ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups"] if user else []
    return subprocess.run([*prefix, *DEVKIT, "base-image", *args], capture_output=True,
                          text=True, timeout=timeout, check=False)


def test_help_has_an_example() -> None:
    result = base_image("--help")
    assert result.returncode == 0
    assert "devkit base-image --tag devkit/base:bookworm" in result.stdout
    assert "--python-only" in result.stdout and "--mirror URL" in result.stdout


def test_non_root_gets_one_sentence_and_no_docker_call(require: Any) -> None:
    require(os.geteuid() == 0 and shutil.which("setpriv") is not None,
            "switching to an unprivileged user needs root and setpriv")
    result = base_image("--tag", "devkit-test/never:built", user="65534")
    assert result.returncode == 4
    assert result.stderr.strip() == (
        "error: `devkit base-image` must run as root, because debootstrap creates device "
        "nodes and chroots into the new system: rerun it with sudo.")


@pytest.mark.docker
def test_unreachable_mirror_names_it(docker_client: Any, root_and_debootstrap: None) -> None:
    result = base_image("--tag", "devkit-test/never:built", "--mirror",
                        "http://127.0.0.1:9/debian")
    assert result.returncode == 4
    assert "debootstrap bookworm from http://127.0.0.1:9/debian failed" in result.stderr
    assert "--mirror URL" in result.stderr


@pytest.mark.docker
@pytest.mark.slow
def test_python_only_image_is_built_and_runs(docker_client: Any,
                                             root_and_debootstrap: None) -> None:
    tag = f"devkit-test/base-{uuid.uuid4().hex[:8]}:python-only"
    try:
        result = base_image("--tag", tag, "--python-only", timeout=600)
        assert result.returncode == 0, result.stderr + result.stdout
        assert "I: Base system installed successfully." in result.stdout
        assert f"built {tag}: " in result.stdout
        image = docker_client.images.get(tag)
        assert image.labels["devkit.base"] == "1"
        output = docker_client.containers.run(tag, ["python3", "-c", "import venv; print(1)"],
                                              remove=True, network_disabled=True)
        assert output.decode().strip() == "1"
    finally:
        subprocess.run(["docker", "rmi", "-f", tag], capture_output=True, check=False)
