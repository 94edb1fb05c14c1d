"""Fixtures for promote tests: a real registry (Debian's ``docker-registry``, the CNCF
distribution registry) on a free loopback port for the session, a real single-node swarm
on the shared engine, a targets file naming both, and a private copy of
``samples/regression`` under a unique endpoint name with fast probes.

The swarm is initialised here only when the engine is not in one (CI does it in
``.ci/run``); a swarm this fixture created is left again at the end. A swarm that was
already there is left alone: other work on the engine may use it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docker
import docker.errors
import httpx
import pytest
from load import find_free_port

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
IN_CI = bool(os.environ.get("CI"))

FAST_PROBE = ("readiness_probe:\n  initial_delay: 1\n  period: 1\n  timeout: 2\n"
              "  failure_threshold: 30\n"
              # 10 concurrent clients stay under the front end's 429 limit (2 x this x 1)
              "request_settings:\n  max_concurrent_requests_per_instance: 8\n")


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


@pytest.fixture(scope="session", autouse=True)
def release_tags_removed() -> Iterator[None]:
    """Release images are tagged for each test registry (a new port each session): the
    tags made during the session are removed at its end (the layers stay cached). Without
    an engine there is nothing to tag, and the pure tests here still run."""
    try:
        client = docker.from_env()
        client.ping()
    except Exception:  # docker raises several unrelated types when no engine answers
        yield
        return
    before = _loopback_tags(client)
    yield
    for tag in _loopback_tags(client) - before:
        with contextlib.suppress(docker.errors.APIError):
            client.images.remove(tag, noprune=True)
    client.close()


def _loopback_tags(client: Any) -> set[str]:
    # The low-level listing: no inspect per image, which races with other work removing one.
    return {tag for image in client.api.images() for tag in image.get("RepoTags") or []
            if tag.startswith("127.0.0.1:") and "/devkit/" in tag}


@pytest.fixture(scope="session")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``127.0.0.1:PORT`` of a registry process started for this session."""
    binary = shutil.which("docker-registry")
    if binary is None:
        if IN_CI:
            pytest.fail("CI is set but docker-registry is not installed")
        pytest.skip("docker-registry is not installed (apt-get install docker-registry)")
    folder = tmp_path_factory.mktemp("registry")
    port = find_free_port()
    config = folder / "config.yml"
    config.write_text(f"version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: "
                      f"{folder / 'data'}\n  delete:\n    enabled: true\n"
                      f"http:\n  addr: 127.0.0.1:{port}\n")
    log = (folder / "registry.log").open("wb")
    process = subprocess.Popen([binary, "serve", str(config)], stdout=log,
                               stderr=subprocess.STDOUT)
    try:
        _wait_for(f"http://127.0.0.1:{port}/v2/", process)
        yield f"127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


def _wait_for(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"docker-registry exited with {process.returncode}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    pytest.fail(f"the registry at {url} did not answer within 20 s")


@pytest.fixture(scope="session")
def swarm(docker_client: Any) -> Iterator[None]:
    state = docker_client.info().get("Swarm", {}).get("LocalNodeState")
    created = False
    if state != "active":
        if not IN_CI and os.environ.get("DEVKIT_TEST_SWARM_INIT") != "1":
            pytest.skip("the engine is not in a swarm; run `docker swarm init "
                        "--advertise-addr 127.0.0.1` or set DEVKIT_TEST_SWARM_INIT=1")
        docker_client.swarm.init(advertise_addr="127.0.0.1")
        created = True
    yield
    if created:
        docker_client.swarm.leave(force=True)


@pytest.fixture(scope="module")
def target_config(tmp_path_factory: pytest.TempPathFactory, registry: str,
                  swarm: None) -> Iterator[str]:
    """A user targets file with target ``swarm-test``; its name."""
    from devkit.promote.targets import Target, add_target

    folder = tmp_path_factory.mktemp("config")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DEVKIT_CONFIG_DIR", str(folder))
        add_target(Target("swarm-test", "swarm", registry,
                          published_port=find_free_port()), folder / "targets.yml")
        yield "swarm-test"


@pytest.fixture(scope="module")
def regression(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    """samples/regression under a unique name, with probes of one second."""
    name = unique("promo")
    target = tmp_path_factory.mktemp("spec") / name
    shutil.copytree(SAMPLES / "regression", target)
    for spec in target.glob("*.yml"):
        text = spec.read_text()
        text = text.replace("name: regression\n", f"name: {name}\n")
        text = text.replace("endpoint_name: regression\n", f"endpoint_name: {name}\n")
        if "endpoint_name:" in text:
            text += FAST_PROBE
        spec.write_text(text)
    return name, target
