"""Finding, creating, waiting on and removing an endpoint's swarm objects, by label.

The small verbs :class:`~devkit.promote.swarm.target.SwarmTarget` is written in: each
translates SDK errors into a sentence naming the target and the object.
"""

from __future__ import annotations

import base64
import json
import secrets
import time
from collections.abc import Callable
from typing import Any

import docker.errors
import docker.types
from docker.models.services import Service

from devkit.engines.docker.client import DockerClient
from devkit.errors import ReadinessTimeout, TargetError
from devkit.promote.release import DeploymentRelease, Release
from devkit.promote.swarm import specs
from devkit.promote.swarm.client import translated
from devkit.promote.targets import Target

Progress = Callable[[str], None]
RELEASES_KEPT = 2  # the applied one and the one `--rollback` goes back to
FAILED_TASKS_LIMIT = 2


class Objects:
    """One target's objects of one endpoint."""

    def __init__(self, client: DockerClient, target: Target, endpoint: str) -> None:
        self.client = client
        self.target = target
        self.endpoint = endpoint

    # -- lookups ----------------------------------------------------------------------
    def services(self, role: str | None = None) -> list[Service]:
        with translated(self.target, f"list the services of '{self.endpoint}'"):
            return list(self.client.raw.services.list(
                filters={"label": specs.label_filter(self.endpoint, role)}))

    def service(self, name: str) -> Service | None:
        return next((s for s in self.services() if s.name == name), None)

    def router(self) -> Service | None:
        return next(iter(self.services("router")), None)

    def router_port(self) -> int | None:
        router = self.router()
        if router is None:
            return None
        ports = router.attrs.get("Spec", {}).get("EndpointSpec", {}).get("Ports") or []
        return int(ports[0]["PublishedPort"]) if ports else None

    def free_port(self) -> int:
        """The first host port from the target's ``published_port`` no service uses."""
        with translated(self.target, "list its services' ports"):
            every = self.client.raw.services.list()
        used = {int(p.get("PublishedPort", 0)) for s in every
                for p in s.attrs.get("Spec", {}).get("EndpointSpec", {}).get("Ports") or []}
        port = self.target.published_port
        while port in used:
            port += 1
        return port

    def secrets(self, role: str) -> list[Any]:
        with translated(self.target, f"list the secrets of '{self.endpoint}'"):
            return list(self.client.raw.secrets.list(
                filters={"label": specs.label_filter(self.endpoint, role)}))

    # -- network, secrets, releases ---------------------------------------------------
    def ensure_network(self, internal: bool = False) -> str:
        """The endpoint's overlay network, or (``internal``) the one egress-disabled
        deployments run on, which swarm gives no route out."""
        role = "internal-network" if internal else "network"
        name = (specs.internal_network_name if internal else specs.network_name)(self.endpoint)
        with translated(self.target, f"create overlay network {name}"):
            found = self.client.raw.networks.list(
                filters={"label": specs.label_filter(self.endpoint, role)})
            if not found:
                self.client.raw.networks.create(
                    name, driver="overlay", internal=internal,
                    labels=specs.labels(self.endpoint, role))
        return name

    def ensure_auth_secret(self, auth_mode: str) -> docker.types.SecretReference | None:
        """The keys (or token) secret's reference, created with fresh values if missing."""
        if auth_mode not in ("key", "aml_token"):
            return None
        role = "keys" if auth_mode == "key" else "token"
        found = self.secrets(role)
        if not found:
            found = [self._new_secret(role)]
        secret = found[0]
        filename = "keys.json" if role == "keys" else "token.secret"
        return docker.types.SecretReference(secret.id, secret.name, filename=filename)

    def rotate_keys(self, which: str, keys: dict[str, str]) -> docker.types.SecretReference:
        keys = {**keys, which: secrets.token_urlsafe(32)}
        secret = self._new_secret("keys", json.dumps(keys).encode())
        return docker.types.SecretReference(secret.id, secret.name, filename="keys.json")

    def _new_secret(self, role: str, data: bytes | None = None) -> Any:
        if data is None:
            data = (json.dumps({"primary": secrets.token_urlsafe(32),
                                "secondary": secrets.token_urlsafe(32)}).encode()
                    if role == "keys" else secrets.token_urlsafe(48).encode())
        name = f"devkit-{self.endpoint}-{role}-{secrets.token_hex(3)}"
        with translated(self.target, f"create secret {name}"):
            return self.client.raw.secrets.create(name=name, data=data,
                                                  labels=specs.labels(self.endpoint, role))

    def releases(self) -> list[tuple[int, Release]]:
        """Stored releases, newest first."""
        with translated(self.target, f"list the releases of '{self.endpoint}'"):
            found = self.client.raw.configs.list(
                filters={"label": specs.label_filter(self.endpoint, "release")})
        result = []
        for config in found:
            generation = int(config.attrs["Spec"]["Labels"].get("devkit.generation", 0))
            data = config.attrs["Spec"].get("Data") or ""
            result.append((generation, Release.from_json(json.loads(base64.b64decode(data)))))
        return sorted(result, key=lambda item: -item[0])

    def save_release(self, release: Release) -> None:
        stored = self.releases()
        generation = (stored[0][0] + 1) if stored else 1
        name = f"devkit-{self.endpoint}-release-{generation}"
        with translated(self.target, f"store release {name}"):
            self.client.raw.configs.create(
                name=name, data=json.dumps(release.to_json()).encode(),
                labels=specs.labels(self.endpoint, "release",
                                    **{"devkit.generation": str(generation)}))
            for config in self.client.raw.configs.list(
                    filters={"label": specs.label_filter(self.endpoint, "release")}):
                kept = int(config.attrs["Spec"]["Labels"].get("devkit.generation", 0))
                if kept <= generation - RELEASES_KEPT:
                    config.remove()

    # -- deployments --------------------------------------------------------------------
    def ensure_deployment(self, d: DeploymentRelease, network: str,
                          limits: tuple[float | None, int | None], reserve: bool,
                          progress: Progress) -> tuple[str, bool]:
        """The deployment's service name, and whether it was created now; an existing
        one with another replica count is scaled in place."""
        name = specs.service_name(self.endpoint, d)
        found = self.service(name)
        if found is not None:
            replicas = found.attrs["Spec"]["Mode"].get("Replicated", {}).get("Replicas")
            if replicas != d.replicas:
                progress(f"{d.name}: scaling {name} from {replicas} to {d.replicas} replicas")
                with translated(self.target, f"scale service {name}"):
                    found.scale(d.replicas)
            return name, False
        progress(f"{d.name}: creating service {name} ({d.replicas} x {d.instance_type}, "
                 f"{d.image})")
        with translated(self.target, f"create service {name}"):
            self.client.raw.services.create(
                **specs.deployment_service(self.endpoint, d, network, limits, reserve))
        return name, True

    def wait_healthy(self, names: dict[str, str], release: Release, progress: Progress) -> None:
        """Wait until every service has all its replicas running (healthy: swarm starts a
        task only once its healthcheck passes); ReadinessTimeout with the logs of the
        first one that keeps failing or runs out of its probe budget."""
        pending = dict(names)
        said: dict[str, int] = {}
        budgets = {d.name: time.monotonic() + d.probe.initial_delay +
                   d.probe.period * d.probe.failure_threshold + 30
                   for d in release.deployments}
        while pending:
            for deployment, name in list(pending.items()):
                spec = release.deployment(deployment)
                assert spec is not None
                running, failed = self._task_counts(name)
                if said.get(deployment) != running:
                    said[deployment] = running
                    progress(f"{deployment}: {running}/{spec.replicas} replicas healthy")
                if running >= spec.replicas:
                    del pending[deployment]
                elif failed >= FAILED_TASKS_LIMIT or time.monotonic() > budgets[deployment]:
                    raise self._never_healthy(deployment, name, failed)
            time.sleep(0.5)

    def _task_counts(self, name: str) -> tuple[int, int]:
        service = self.service(name)
        if service is None:
            return 0, FAILED_TASKS_LIMIT
        with translated(self.target, f"list the tasks of {name}"):
            tasks = service.tasks()
        running = sum(1 for t in tasks if t.get("DesiredState") == "running"
                      and t.get("Status", {}).get("State") == "running")
        failed = sum(1 for t in tasks if t.get("Status", {}).get("State") in
                     ("failed", "rejected"))
        return running, failed

    def _never_healthy(self, deployment: str, name: str, failed: int) -> ReadinessTimeout:
        logs = self.service_logs(name, 20) or "(no output)"
        why = f"{failed} task(s) failed" if failed else "its probe budget ran out"
        return ReadinessTimeout(
            f"Target '{self.target.name}': deployment '{deployment}' (service {name}) never "
            f"became healthy ({why}); the previous release keeps serving and {name} was "
            f"removed; fix the cause in its last log lines and promote again:\n{logs}")

    def service_logs(self, name: str, tail: int) -> str:
        service = self.service(name)
        if service is None:
            return ""
        try:
            chunks = service.logs(stdout=True, stderr=True, tail=tail)
            return b"".join(chunks).decode("utf-8", errors="replace").rstrip()
        except docker.errors.DockerException:
            return ""

    # -- removal ------------------------------------------------------------------------
    def remove_service(self, service: Service) -> None:
        with translated(self.target, f"remove service {service.name}"):
            try:
                service.remove()
            except docker.errors.NotFound:
                return

    def wait_containers_gone(self, timeout_s: float = 60.0) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            with translated(self.target, f"list the containers of '{self.endpoint}'"):
                left = self.client.raw.containers.list(
                    all=True, sparse=True,
                    filters={"label": specs.label_filter(self.endpoint)})
            if not left:
                return
            time.sleep(0.5)
        raise TargetError(f"Target '{self.target.name}': containers of '{self.endpoint}' "
                          f"were still there after {timeout_s:g} s; run `devkit down "
                          f"{self.endpoint} --target {self.target.name}` again.")
