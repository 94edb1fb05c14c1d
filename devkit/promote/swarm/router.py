"""The router service's config on a swarm: written into its volume, applied live.

Swarm configs and secrets are immutable and reach a container only through a service
update, which restarts the task, and the router must update ``stop-first`` (its port is
host-mode), so a traffic change that way would drop requests. Instead the router's
config folder is a volume, and devkit writes ``router.json`` into the running router
container through the Docker API (``put_archive`` of a temporary file, then an atomic
rename inside the container): the router re-reads it within 0.2 s and swaps its state
without dropping a request, as locally. The volume outlives task restarts on that node,
and the router is pinned to a manager (``node.role==manager``), whose API devkit talks
to, so the container is always reachable through it.

Keys and the token secret are swarm secrets mounted into the router
(``/run/secrets/keys.json``, ``/run/secrets/token.secret``); its config holds only the
keys' SHA-256 hashes and the token secret's path.
"""

from __future__ import annotations

import io
import json
import tarfile
import time
from typing import Any

import httpx
from devkit_runtime.router.auth import key_hash
from devkit_runtime.router.config import CONFIG_VERSION
from docker.models.containers import Container

from devkit.engines.docker.client import DockerClient
from devkit.errors import TargetError
from devkit.promote.release import Release
from devkit.promote.swarm import specs
from devkit.promote.swarm.client import translated
from devkit.promote.targets import Target

CONFIG_FILE = f"{specs.CONFIG_DIR}/router.json"
STAGED = f"{specs.CONFIG_DIR}/.router.json.staged"
KEYS_FILE = "/run/secrets/keys.json"
TOKEN_FILE = "/run/secrets/token.secret"
START_TIMEOUT_S = 90.0
APPLY_TIMEOUT_S = 10.0


def build_config(release: Release, services: dict[str, str], keys: dict[str, str] | None,
                 generation: int) -> dict[str, Any]:
    """The router config for ``release``: each deployment at ``http://<service>:port``
    (its dnsrr name on the overlay), the release's weights, the auth section."""
    if release.auth_mode == "key":
        assert keys is not None
        auth: dict[str, Any] = {"mode": "key",
                                "key_sha256": [key_hash(keys["primary"]),
                                               key_hash(keys["secondary"])]}
    elif release.auth_mode == "aml_token":
        auth = {"mode": "aml_token", "token_secret_file": TOKEN_FILE}
    else:
        auth = {"mode": "none"}
    return {
        "version": CONFIG_VERSION, "generation": generation, "endpoint": release.endpoint,
        "auth": auth,
        "deployments": [{
            "name": d.name,
            "replicas": [f"http://{services[d.name]}:{d.port}"],
            "weight": release.traffic.get(d.name, 0),
            "mirror": release.mirror.get(d.name, 0),
            "request_timeout_ms": d.request_timeout_ms,
            "max_concurrent_requests_per_instance": d.max_concurrent_requests_per_instance,
            "instance_count": d.replicas,
            "scoring_path": d.scoring_path,
        } for d in release.deployments],
    }


def container(client: DockerClient, target: Target, endpoint: str,
              timeout_s: float = START_TIMEOUT_S) -> Container:
    """The router service's running container on the manager, waiting for it to start."""
    deadline = time.monotonic() + timeout_s
    name = specs.router_name(endpoint)
    while True:
        with translated(target, f"find the container of service {name}"):
            found = client.raw.containers.list(
                sparse=True,  # no inspect per container: one may go between list and get
                filters={"label": f"com.docker.swarm.service.name={name}",
                         "status": "running"})
        if found:
            return found[0]
        if time.monotonic() >= deadline:
            raise TargetError(
                f"Target '{target.name}': service {name} has no running container on the "
                f"manager after {timeout_s:g} s; see `devkit logs {endpoint} --target "
                f"{target.name}` and `docker service ps {name}` there.")
        time.sleep(0.5)


def read_config(client: DockerClient, target: Target, endpoint: str) -> dict[str, Any] | None:
    """The config the router has, or None when it has none yet."""
    code, output = _cat(client, target, endpoint, CONFIG_FILE)
    if code != 0:
        return None
    try:
        raw: dict[str, Any] = json.loads(output)
    except ValueError:
        return None
    return raw


def _cat(client: DockerClient, target: Target, endpoint: str, path: str) -> tuple[int, bytes]:
    """``cat path`` in the router's container. A file that is not there is an answer; any
    other failure (seen once mid-rollout under load: an exec that did not run) is tried
    again, twice, finding the container anew each time."""
    code, output = 1, b""
    for attempt in range(3):
        box = container(client, target, endpoint)
        with translated(target, f"read {path} in the router of '{endpoint}'"):
            code, output = box.exec_run(["cat", path])
        if code == 0 or b"No such file" in output:
            break
        time.sleep(0.2 * (attempt + 1))
    return int(code if code is not None else 1), bytes(output)


def read_secret(client: DockerClient, target: Target, endpoint: str, path: str) -> bytes:
    code, output = _cat(client, target, endpoint, path)
    if code != 0:
        raise TargetError(f"Target '{target.name}': the router of '{endpoint}' has no "
                          f"{path}; promote the endpoint again to recreate its secrets.")
    return bytes(output)


def write_config(client: DockerClient, target: Target, endpoint: str,
                 config: dict[str, Any], url: str) -> None:
    """Write ``config`` into the router container atomically and wait until the router
    at ``url`` serves its generation."""
    box = container(client, target, endpoint)
    data = json.dumps(config, indent=2).encode()
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w") as tar:
        info = tarfile.TarInfo(STAGED.rsplit("/", 1)[1])
        info.size, info.mtime, info.mode = len(data), int(time.time()), 0o644
        tar.addfile(info, io.BytesIO(data))
    with translated(target, f"write the router config of '{endpoint}'"):
        box.put_archive(specs.CONFIG_DIR, archive.getvalue())
        code, output = box.exec_run(
            ["python", "-c", f"import os; os.replace({STAGED!r}, {CONFIG_FILE!r})"])
    if code != 0:
        raise TargetError(f"Target '{target.name}': could not install the router config of "
                          f"'{endpoint}' ({output.decode(errors='replace').strip()}); "
                          f"promote again.")
    await_generation(target, endpoint, url, int(config["generation"]))


def await_generation(target: Target, endpoint: str, url: str, generation: int,
                     timeout_s: float = START_TIMEOUT_S) -> None:
    deadline = time.monotonic() + timeout_s
    said = "it did not answer"
    while time.monotonic() < deadline:
        try:
            answer = httpx.get(f"{url}/-/config", timeout=2.0).json()
            applied = answer.get("generation")
            if isinstance(applied, int) and applied >= generation:
                return
            said = answer.get("last_error") or f"it serves generation {applied}"
        except (httpx.HTTPError, ValueError, AttributeError):
            pass
        time.sleep(0.05)
    raise TargetError(f"Target '{target.name}': the router of '{endpoint}' at {url} did not "
                      f"apply config generation {generation} ({said}); check that "
                      f"{target.client_address} is reachable and see `devkit logs "
                      f"{endpoint} --target {target.name}`.")


def live_url(target: Target, port: int) -> str:
    return f"http://{target.client_address}:{port}"
