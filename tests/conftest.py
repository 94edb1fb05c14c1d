"""Fixtures shared by every test package. Package-specific fixtures live in the
package's own ``conftest.py`` (tests/engines/, tests/images/, tests/router/, tests/spec/,
tests/tui/); tests/runtime/ starts its servers with the helpers in ``runtime_server.py``."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
SAMPLES = REPO_ROOT / "samples"
IN_CI = bool(os.environ.get("CI"))
# Images run the runtime on uvloop (a runtime dependency); the suite's servers run on plain
# asyncio unless a test asks for another, so the fallback loop (a platform without uvloop)
# stays exercised; tests/runtime/test_event_loop.py and test_oneshot.py run uvloop.
os.environ.setdefault("DEVKIT_LOOP", "asyncio")


def find_free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def require(condition: bool, reason: str) -> None:
    """Skip a test whose precondition (root, debootstrap, uvloop, an engine without the
    NVIDIA runtime) does not hold here, but fail it under CI: CI is where every path must
    run, so a missing precondition there is a broken CI machine, not a reason to pass."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"CI is set but {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(name="require")
def require_fixture() -> Any:
    """:func:`require`, for test folders that cannot import this conftest by name."""
    return require


@pytest.fixture
def free_port() -> int:
    return find_free_port()


@pytest.fixture(scope="module")
def module_state(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Like ``isolated_state``, for a whole module (one ``up`` shared by many tests)."""
    state = tmp_path_factory.mktemp("state")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DEVKIT_STATE_DIR", str(state))
        yield state


@pytest.fixture
def isolated_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point devkit's state dir at a temporary folder (caches stay shared: they are slow
    to rebuild and safe to share)."""
    state = tmp_path / "state"
    monkeypatch.setenv("DEVKIT_STATE_DIR", str(state))
    return state


@pytest.fixture(scope="session")
def docker_client() -> Iterator[Any]:
    """A client for the local Docker engine. Under CI a missing engine is a failure,
    not a skip: CI is where the Docker path must be proven."""
    import docker

    try:
        client = docker.from_env()
        client.ping()
    except Exception as exc:  # docker raises several unrelated types here
        if IN_CI:
            pytest.fail(f"CI is set but no Docker engine answers: {exc}")
        pytest.skip(f"no Docker engine answers: {exc}")
    yield client
    client.close()


@pytest.fixture(scope="session")
def base_image(docker_client: Any) -> str:
    """devkit's base image tag; built here (about 45 s) when this engine lacks it, as
    ``.ci/run`` would."""
    import docker.errors

    from devkit.images.base import BaseImageOptions, base_image_tag, build_base_image

    tag = base_image_tag()
    try:
        docker_client.images.get(tag)
        return tag
    except docker.errors.ImageNotFound:
        pass
    if os.geteuid() != 0 and not IN_CI:
        pytest.skip(f"{tag} is missing and building it needs root")
    build_base_image(docker_client, BaseImageOptions(tag=tag))
    return tag


# Flask 2.0.3 asks for Werkzeug>=2.0 and nothing more; Werkzeug 3 removed url_quote, which
# it imports. A real clash, as pip produces it when Flask is pinned and Werkzeug is not.
CLASH = ("flask==2.0.3", "werkzeug==3.0.6", "itsdangerous==2.2.0", "jinja2==3.1.6",
         "click==8.1.8", "markupsafe==3.0.2")


@pytest.fixture(scope="session")
def clashing_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder named ``site-packages`` holding that clash, installed by pip."""
    import subprocess
    import sys

    site = tmp_path_factory.mktemp("env") / "site-packages"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                    "--disable-pip-version-check", "--target", str(site), *CLASH],
                   check=True)
    return site
