"""The one Docker client devkit uses, and the boundary where docker SDK errors become
:class:`~devkit.errors.EngineError` sentences.

Everything devkit creates carries ``devkit.*`` labels; lookups here go by label, never by
guessing names, so ``down`` removes exactly what devkit made and nothing else.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import Any

import docker
import docker.errors
from docker.models.containers import Container
from docker.models.networks import Network

from devkit.errors import EngineError, EngineUnavailable, GpuUnavailable

MANAGED = "devkit.managed"
ENDPOINT = "devkit.endpoint"
DEPLOYMENT = "devkit.deployment"
REPLICA = "devkit.replica"
ROLE = "devkit.role"

START_HINT = ("start it (`sudo systemctl start docker`, or `dockerd &` as root) or use "
              "`--engine process`")


@contextlib.contextmanager
def translated(action: str) -> Iterator[None]:
    """Turn docker SDK and connection errors raised while doing ``action`` into one
    EngineError sentence that says what failed."""
    try:
        yield
    except docker.errors.APIError as exc:
        reason = exc.explanation or str(exc)
        raise EngineError(f"Docker failed to {action}: {reason}.") from exc
    except docker.errors.DockerException as exc:
        raise EngineUnavailable(f"Docker failed to {action} ({exc}); {START_HINT}.") from exc
    except OSError as exc:  # the socket went away mid-call
        raise EngineUnavailable(f"Docker failed to {action} ({exc}); {START_HINT}.") from exc


def _missing_socket() -> str | None:
    """The engine's unix socket when it does not exist: no engine can answer there, and
    asking the SDK would only fail slower."""
    host = os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"
    if host.startswith("unix://") and not os.path.exists(host[len("unix://"):]):
        return host[len("unix://"):]
    return None


def _reason(exc: Exception) -> str:
    """The innermost cause of a connection failure, e.g. "No such file or directory"."""
    while exc.__context__ is not None and isinstance(exc.__context__, Exception):
        exc = exc.__context__
    return str(getattr(exc, "strerror", None) or exc)


def label_filter(**labels: str | None) -> list[str]:
    """``devkit.managed=1`` plus ``devkit.<key>=<value>`` for each given value."""
    filters = [f"{MANAGED}=1"]
    for key, value in labels.items():
        if value is not None:
            filters.append(f"devkit.{key}={value}")
    return filters


class DockerClient:
    """Owns the SDK client; every call into Docker goes through here."""

    def __init__(self, raw: docker.DockerClient) -> None:
        self.raw = raw
        self._info: dict[str, Any] | None = None

    @classmethod
    def connect(cls, timeout: int = 120) -> DockerClient:
        missing = _missing_socket()
        if missing is not None:
            raise EngineUnavailable(f"No Docker engine answers ({missing} does not exist); "
                                    f"{START_HINT}.")
        raw: docker.DockerClient | None = None
        try:
            raw = docker.from_env(timeout=timeout)
            raw.ping()
        except (docker.errors.DockerException, OSError) as exc:
            if raw is not None:
                raw.close()
            raise EngineUnavailable(f"No Docker engine answers ({_reason(exc)}); "
                                    f"{START_HINT}.") from exc
        return cls(raw)

    def close(self) -> None:
        self.raw.close()

    def info(self) -> dict[str, Any]:
        if self._info is None:
            with translated("read the engine's info"):
                self._info = dict(self.raw.info())
        return self._info

    def version(self) -> dict[str, Any]:
        with translated("read the engine's version"):
            return dict(self.raw.version())

    def image_facts(self, tag: str) -> tuple[str, int] | None:
        """(short id, size in bytes) of image ``tag``, None when the engine lacks it."""
        try:
            image = self.raw.images.get(tag)
        except docker.errors.ImageNotFound:
            return None
        except docker.errors.DockerException as exc:
            raise EngineError(f"Docker failed to inspect image {tag}: {exc}.") from exc
        return str(image.short_id), int(image.attrs.get("Size", 0))

    def host_resources(self) -> tuple[int, int]:
        """(CPUs, memory bytes) of the machine the engine runs on."""
        info = self.info()
        return int(info.get("NCPU") or 1), int(info.get("MemTotal") or 0)

    def require_gpu(self, what: str) -> None:
        """GpuUnavailable unless the engine has the NVIDIA runtime (checked before builds)."""
        runtimes = self.info().get("Runtimes") or {}
        if "nvidia" not in runtimes:
            raise GpuUnavailable(
                f"{what} needs a GPU but this Docker engine has no NVIDIA runtime; install "
                "the NVIDIA Container Toolkit (`nvidia-ctk runtime configure --runtime=docker`)"
                ", or drop `--gpu` and use a CPU instance_type.")

    def containers(self, **labels: str | None) -> list[Container]:
        # The SDK lists, then inspects each container: one removed in between (by another
        # `down` on this shared engine) raises NotFound for a list that is simply shorter
        # now. Listing again is the answer; three tries bound it.
        for attempt in range(3):
            try:
                with translated("list containers"):
                    found = self.raw.containers.list(
                        all=True, filters={"label": label_filter(**labels)})
                return list(found)
            except EngineError as exc:
                if attempt == 2 or not isinstance(exc.__cause__, docker.errors.NotFound):
                    raise
        raise AssertionError("unreachable")

    def networks(self, **labels: str | None) -> list[Network]:
        with translated("list networks"):
            return list(self.raw.networks.list(filters={"label": label_filter(**labels)}))

    def volumes(self, **labels: str | None) -> list[Any]:
        with translated("list volumes"):
            return list(self.raw.volumes.list(filters={"label": label_filter(**labels)}))

    def ensure_network(self, name: str, labels: dict[str, str],
                       internal: bool = False) -> Network:
        """The endpoint's network with these labels (its role tells an endpoint network
        from an internal one, which is labelled ``devkit.role=internal-network``)."""
        existing = [n for n in self.networks(endpoint=labels[ENDPOINT])
                    if (n.attrs.get("Labels") or {}).get(ROLE) == labels.get(ROLE)]
        if existing:
            return existing[0]
        with translated(f"create network {name}"):
            return self.raw.networks.create(name, driver="bridge", labels=labels,
                                            internal=internal, check_duplicate=True)

    def create_container(self, image: str, name: str, **kwargs: Any) -> Container:
        with translated(f"create container {name} from image {image}"):
            return self.raw.containers.create(image, name=name, **kwargs)

    def start(self, container: Container) -> None:
        with translated(f"start container {container.name}"):
            container.start()
            container.reload()

    def reload(self, container: Container) -> bool:
        """Refresh the container's attributes; False when it is gone."""
        try:
            container.reload()
        except docker.errors.NotFound:
            return False
        except docker.errors.DockerException as exc:
            raise EngineError(f"Docker failed to inspect {container.name}: {exc}.") from exc
        return True

    def remove_container(self, container: Container) -> None:
        try:
            container.remove(force=True, v=True)
        except docker.errors.NotFound:
            return
        except docker.errors.APIError as exc:
            if exc.status_code == 409:  # removal already in progress
                return
            raise EngineError(f"Docker failed to remove container {container.name}: "
                              f"{exc.explanation}; remove it with `docker rm -f "
                              f"{container.name}`.") from exc

    def remove_network(self, network: Network) -> None:
        with translated(f"remove network {network.name}"):
            try:
                network.remove()
            except docker.errors.NotFound:
                return

    def exec(self, ident: str, command: list[str]) -> tuple[int, bytes]:
        """Run ``command`` in container ``ident``; its exit code and output."""
        with translated(f"run {command[0]} in container {ident[:12]}"):
            container = self.raw.containers.get(ident)
            code, output = container.exec_run(command)
        return int(code), bytes(output)

    def tail(self, container: Container, lines: int = 30) -> str:
        """The container's last log lines, for error messages (empty if unreadable)."""
        try:
            raw = container.logs(tail=lines)
        except docker.errors.DockerException:
            return ""
        return bytes(raw).decode("utf-8", errors="replace").rstrip()
