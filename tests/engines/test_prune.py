"""``devkit prune`` with real images, networks, state folders and venvs: what no endpoint
uses goes, what is in use (an image a container runs from, a venv a process runs from)
and the base image stay. Docker objects are narrowed to this test's own label: the
engine is shared, and other sessions' cached images are not this test's to remove."""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from devkit.engines import prune
from devkit.engines.process import state as ps


@pytest.mark.docker
def test_prune_removes_unused_images_and_networks_only(docker_client: Any,
                                                       base_image: str,
                                                       isolated_state: Path) -> None:
    mark = f"devkit.test=prune-{uuid.uuid4().hex[:8]}"
    key, value = mark.split("=")
    tags = [f"devkit-env:{value}-unused", f"devkit-env:{value}-used"]
    for tag in tags:  # two different images (the same Dockerfile would be one)
        dockerfile = (f"FROM {base_image}\n"  # labelled as devkit's own builds label them
                      f"LABEL devkit.managed=1 devkit.role=env devkit.base=0 {mark}\n"
                      f"RUN echo {tag} > /marker\n")
        docker_client.images.build(fileobj=io.BytesIO(dockerfile.encode()), tag=tag, rm=True)
    container = docker_client.containers.create(tags[1], "true", labels={key: value})
    network = docker_client.networks.create(f"{value}-net", labels={
        "devkit.endpoint": value, key: value})
    try:
        found = prune.find(docker_client, label=mark)
        names = {(item.kind, item.name) for item in found.items}
        assert ("image", tags[0]) in names and ("network", f"{value}-net") in names
        assert ("image", tags[1]) not in names  # a container uses it
        assert all(item.size > 0 for item in found.items if item.kind == "image")
        listed = subprocess.run([sys.executable, "-m", "devkit.cli.main", "prune",
                                 "--dry-run", "--json"], capture_output=True, text=True,
                                timeout=300)
        assert listed.returncode == 0, listed.stderr
        shown = json.loads(listed.stdout)
        assert shown["dry_run"] is True and any(i["name"] == tags[0] for i in shown["items"])
        assert not any(i["name"].startswith("devkit/base") for i in shown["items"])
        docker_client.images.get(tags[0])  # a dry run removed nothing
        ours = [item for item in found.items if item.kind in ("image", "network")]
        assert prune.remove(docker_client, ours) == []
        left = {tag for image in docker_client.images.list(filters={"label": mark})
                for tag in image.tags}
        assert left == {tags[1]}
        assert docker_client.networks.list(names=[f"{value}-net"]) == []
        docker_client.images.get(base_image)
    finally:
        container.remove(force=True)
        for tag in tags:
            with contextlib.suppress(Exception):  # already pruned
                docker_client.images.remove(tag, force=True)
        with contextlib.suppress(Exception):
            network.remove()


@pytest.mark.docker
def test_prune_removes_a_shared_image_after_its_environments_and_keeps_one_in_use(
        docker_client: Any, base_image: str, isolated_state: Path) -> None:
    mark = f"devkit.test=prune-{uuid.uuid4().hex[:8]}"
    key, value = mark.split("=")
    built: list[str] = []

    def build(tag: str, parent: str, labels: str) -> str:
        dockerfile = f"FROM {parent}\nLABEL {labels}\nRUN echo {tag} > /marker\n"
        docker_client.images.build(fileobj=io.BytesIO(dockerfile.encode()), tag=tag, rm=True)
        built.append(tag)
        return tag

    shared = [build(f"devkit-shared:{value}-{n}", base_image,
                    f"devkit.managed=1 devkit.role=shared devkit.base=0 "
                    f"devkit.shared-hash={value}-{n} {mark}") for n in ("free", "held")]
    # Environments inherit the shared image's labels, devkit.shared-hash included.
    envs = [build(f"devkit-env:{value}-{n}", parent, "devkit.role=env")
            for n, parent in (("free", shared[0]), ("held", shared[1]))]
    container = docker_client.containers.create(envs[1], "true", labels={key: value})
    try:
        found = [item.name for item in prune.find(docker_client, label=mark).items
                 if item.kind == "image"]
        assert found == [envs[0], shared[0]]  # the child first; the held one not at all
        assert prune.remove(docker_client, [item for item in prune.find(
            docker_client, label=mark).items if item.kind == "image"]) == []
        left = {tag for image in docker_client.images.list(filters={"label": mark})
                for tag in image.tags}
        assert left == {shared[1], envs[1]}
    finally:
        container.remove(force=True)
        for tag in reversed(built):
            with contextlib.suppress(Exception):  # already pruned
                docker_client.images.remove(tag, force=True)


def test_prune_removes_stopped_process_state_and_unused_venvs(
        isolated_state: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache = tmp_path / "cache"
    monkeypatch.setenv("DEVKIT_CACHE_DIR", str(cache))
    unused, used = cache / "venvs" / "unused", cache / "venvs" / "used"
    for venv in (unused, used):
        (venv / "bin").mkdir(parents=True)
        (venv / "lib.bin").write_bytes(b"x" * 4096)
    # A process running from the "used" venv (its interpreter a link to this one).
    (used / "bin" / "python").symlink_to(sys.executable)
    running = subprocess.Popen([str(used / "bin" / "python"), "-c",
                                "import time; time.sleep(120)"])
    stopped = ps.ProcessState("stopped-ep", {"blue": ps.DeploymentRecord(
        "blue", "s", "e", str(unused), 1, (ps.ReplicaRecord(0, 0, 1, 2, "log"),))})
    ps.save(stopped)
    try:
        cmdline = Path(f"/proc/{running.pid}/cmdline")
        deadline = time.monotonic() + 30
        while str(used).encode() not in cmdline.read_bytes():  # until it exec'd
            assert time.monotonic() < deadline
            time.sleep(0.05)
        found = prune.find(None)
        names = {(item.kind, item.name) for item in found.items}
        assert ("venv", str(unused)) in names and ("venv", str(used)) not in names
        # Without Docker, a state folder is kept: a Docker endpoint might own it.
        assert not any(item.kind == "state" for item in found.items)
        assert any("wheelhouse was left alone" in note for note in found.notes)
        done = subprocess.run([sys.executable, "-m", "devkit.cli.main", "prune", "--json"],
                              capture_output=True, text=True, timeout=300,
                              env={**os.environ, "DOCKER_HOST": "unix:///nonexistent.sock"})
        assert done.returncode == 0, done.stderr
        report = json.loads(done.stdout)
        assert [i["name"] for i in report["items"]] == [str(unused)]
        assert report["items"][0]["size"] >= 4096 and not unused.exists() and used.exists()
        assert ps.state_path("stopped-ep").exists()
    finally:
        running.kill()
        running.wait()


@pytest.mark.docker
def test_prune_removes_the_state_of_a_process_endpoint_that_does_not_run(
        docker_client: Any, isolated_state: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEVKIT_CACHE_DIR", str(tmp_path / "cache"))
    ps.save(ps.ProcessState("stopped-ep", {"blue": ps.DeploymentRecord(
        "blue", "s", "e", "/nowhere", 1, (ps.ReplicaRecord(0, 0, 1, 2, "log"),))}))
    found = prune.find(docker_client, label="devkit.test=none-of-these")
    states = [item for item in found.items if item.kind == "state"]
    assert [item.name for item in states] == [str(ps.state_path("stopped-ep").parent)]
    assert prune.remove(docker_client, states) == []
    assert not ps.state_path("stopped-ep").exists()
