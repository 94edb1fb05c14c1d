"""A real Kubernetes API server for the HTTPRoute tests: the upstream CRD API server
(imported by name: pytest puts this folder on sys.path; conftest.py holds the fixtures).

The server's build and start scripts and the HTTPRoute CRD live in the project's
``shared/`` folder beside the checkout (``../shared``; ``DEVKIT_SHARED`` overrides), not in
the repo. The server comes from one of:

- ``DEVKIT_K8S_KUBECONFIG``: a server someone already started;
- ``DEVKIT_K8S_BIN`` (default ``/var/cache/devkit-k8s/bin``): the ``apiext`` and ``etcd``
  binaries ``shared/k8s-crd-apiserver/build.sh`` builds (``.ci/run`` does, cached); this
  fixture starts them with its ``start.sh`` for the session and stops them by PID.

Neither there: under CI the tests fail with the reason (a silent pass would claim a
Kubernetes path nobody checked); on a developer machine they are skipped, and ``-ra`` prints
the reason with the command that builds the server.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from devkit.promote.kubernetes import client
from devkit.promote.kubernetes.settings import ClusterSettings

REPO = Path(__file__).resolve().parents[2]


def shared_dir() -> Path | None:
    """The project's shared/ folder: ``DEVKIT_SHARED``, else ``../shared`` of the checkout
    (a git worktree one level deeper looks one folder further up)."""
    explicit = os.environ.get("DEVKIT_SHARED")
    candidates = [Path(explicit)] if explicit else [
        REPO / "shared", REPO.parent / "shared", REPO.parent.parent / "shared"]
    return next((path for path in candidates if (path / "k8s-crd-apiserver").is_dir()), None)


SHARED = shared_dir()
SERVER_TOOLS = (SHARED or REPO / "shared") / "k8s-crd-apiserver"
HTTPROUTE_CRD = ((SHARED or REPO / "shared") / "schemas"
                 / "gateway.networking.k8s.io_httproutes.yaml")
DEFAULT_BIN = Path("/var/cache/devkit-k8s/bin")
IN_CI = bool(os.environ.get("CI"))


@dataclass(frozen=True)
class ApiServer:
    kubeconfig: str

    def settings(self, namespace: str | None = None, **extra: object) -> ClusterSettings:
        """Settings for a fresh namespace (namespaces need not exist on this server)."""
        ns = namespace or f"t-{uuid.uuid4().hex[:10]}"
        return ClusterSettings(name="crd-test", namespace=ns, kubeconfig=self.kubeconfig,
                               **extra)  # type: ignore[arg-type]


def _unavailable(reason: str) -> None:
    build = f"{SERVER_TOOLS}/build.sh {DEFAULT_BIN.parent}"
    message = (f"THE KUBERNETES API SERVER TESTS DID NOT RUN: {reason}. Build the server "
               f"with `{build}` (about 3 minutes) or set DEVKIT_K8S_KUBECONFIG.")
    if IN_CI:
        pytest.fail(message)
    pytest.skip(message)


def _free_port_block() -> int:
    """A port P with P, P-2650, P-2640 and P-2630 free (start.sh's etcd ports)."""
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        if port < 3000:
            continue
        ports = (port, port - 2650, port - 2640, port - 2630)
        if all(_free(candidate) for candidate in ports):
            return port
    raise RuntimeError("no free block of loopback ports for the API server")


def _free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def start_server(run_dir: Path) -> tuple[ApiServer, list[int]]:
    if SHARED is None:
        _unavailable("the project's shared/ folder (k8s-crd-apiserver, schemas) is not beside "
                     "the checkout; set DEVKIT_SHARED")
    binaries = Path(os.environ.get("DEVKIT_K8S_BIN", DEFAULT_BIN))
    if not (binaries / "apiext").exists() or not (binaries / "etcd").exists():
        _unavailable(f"no apiext/etcd binaries in {binaries}")
    port = _free_port_block()
    command = ["bash", str(SERVER_TOOLS / "start.sh"), str(binaries), str(run_dir), str(port)]
    started = subprocess.run(command, capture_output=True, text=True, timeout=120)
    pids = [int(line) for line in (run_dir / "pids").read_text().split()] \
        if (run_dir / "pids").exists() else []
    if started.returncode != 0:
        stop_server(pids)
        log = (run_dir / "apiext.log").read_text(errors="replace")[-2000:] \
            if (run_dir / "apiext.log").exists() else ""
        _unavailable(f"start.sh failed: {started.stderr.strip()} {log}")
    return ApiServer(str(run_dir / "kubeconfig")), pids


def stop_server(pids: list[int]) -> None:
    for pid in reversed(pids):
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            continue
    for pid in pids:
        for _ in range(100):
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.05)


def install_httproute_crd(server: ApiServer) -> None:
    """Apply the Gateway API HTTPRoute CRD and wait until the server serves the kind."""
    if not HTTPROUTE_CRD.exists():
        _unavailable(f"the HTTPRoute CRD {HTTPROUTE_CRD} is missing")
    cluster = client.connect(server.settings("default"))
    crd = yaml.safe_load(HTTPROUTE_CRD.read_text())
    cluster.apply(crd)
    for _ in range(200):
        found = cluster.get("apiextensions.k8s.io/v1", "CustomResourceDefinition",
                            crd["metadata"]["name"])
        conditions = ((found or {}).get("status") or {}).get("conditions") or []
        if any(c["type"] == "Established" and c["status"] == "True" for c in conditions):
            return
        time.sleep(0.1)
    raise RuntimeError("the HTTPRoute CRD was not established within 20 s")
