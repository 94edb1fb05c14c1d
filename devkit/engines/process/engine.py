"""The process engine: each replica is ``python -m devkit_runtime`` from the deployment's
venv, detached into its own session on a free loopback port, so the endpoint keeps
serving after the CLI exits, exactly like containers do.

Same reconcile as the docker engine (keep what is unchanged, restart what changed,
remove what left the spec), with ``process.json`` in place of labels. Code and model are
used in place, never copied. A bring-your-own-container deployment is refused before
anything starts (:func:`devkit.engines.byoc.process_refusal` says why and names the docker
engine).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from devkit.engines import byoc, launch, routing
from devkit.engines.base import (
    DeploymentState,
    DeploymentStatus,
    EndpointStatus,
    Engine,
    Progress,
    ReplicaStatus,
    UpOptions,
    aggregate,
    not_found,
)
from devkit.engines.process import router as prouter
from devkit.engines.process import state as ps
from devkit.engines.process.venv import ensure_venv
from devkit.engines.readiness import ReadinessWait, WaitOutcome, probe_once, settle
from devkit.engines.record import (
    EndpointRecord,
    Running,
    Wanted,
    forget_record,
    load_record,
    make_plan,
    save_record,
)
from devkit.engines.sku import lookup
from devkit.engines.streams import Source, merge
from devkit.errors import (
    DevkitError,
    EndpointNotFound,
    EngineError,
    GpuUnavailable,
    ReadinessTimeout,
)
from devkit.paths import endpoint_state_dir
from devkit.spec import spec_hash
from devkit.spec.model import DeploymentSpec, Endpoint

KEPT_ENV = ("HOME", "LANG", "LC_ALL", "TMPDIR", "TZ", "USER")


def free_port() -> int:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ProcessEngine(Engine):
    name = "process"

    # -- up -------------------------------------------------------------------------------
    def up(self, endpoint: Endpoint, options: UpOptions, progress: Progress) -> EndpointStatus:
        for deployment in endpoint.deployments:
            if deployment.environment.is_byoc:  # before anything starts or stops
                raise byoc.process_refusal(deployment)
        self._check_gpus(endpoint, options)
        venvs = {d.name: ensure_venv(d, progress) for d in endpoint.deployments}
        wanted = [Wanted(d, spec_hash(d), venvs[d.name].env_hash) for d in endpoint.deployments]
        record = EndpointRecord.of(endpoint)
        current = ps.load(endpoint.name) or ps.ProcessState(endpoint.name, record)
        plan = make_plan(wanted, [_running(d) for d in current.deployments.values()])
        for name in plan.keep:
            progress(f"{name}: unchanged, left running")
        for name in plan.remove + plan.restart:
            progress(f"{name}: {'removing' if name in plan.remove else 'restarting'}")
            _stop_all(current.deployments.pop(name).replicas)
        current.record = record
        ps.save(current)
        started = {}
        for want in wanted:
            if want.spec.name in plan.start + plan.restart:
                started[want.spec.name] = self._start(want, str(venvs[want.spec.name].path),
                                                      progress)
                current.deployments[want.spec.name] = started[want.spec.name]
                ps.save(current)
        try:
            self._await_ready(current, started, endpoint, progress)
        except DevkitError:
            # A running router follows what is left running; a failed first `up` starts
            # nothing more. Either way the first error is the news.
            if current.router is not None and current.router.alive():
                with contextlib.suppress(DevkitError):
                    self._route(current, endpoint, progress)
            raise
        self._route(current, endpoint, progress)
        save_record(endpoint.name, record)
        return self.status(endpoint.name)[0]

    def _route(self, current: ps.ProcessState, endpoint: Endpoint, progress: Progress) -> None:
        """Point the router at the replicas' loopback ports and make sure it runs and
        serves that config."""
        urls = {name: [_url(r.port) for r in dep.replicas if r.alive()]
                for name, dep in current.deployments.items()}
        sync = routing.sync_config(endpoint, urls, progress)
        router = current.router
        fresh = router is None or not router.alive()
        if router is None or fresh:
            log = endpoint_state_dir(endpoint.name) / "logs" / "router.log"
            router = prouter.spawn(sync.path, log, router.port if router else None)
            current.router = router
            ps.save(current)
        if fresh or sync.changed:
            live = router
            routing.await_router(live.url, sync.generation,
                                 lambda: None if live.alive() else
                                 f"process {live.pid} exited; see {live.log}")
        state = "started" if fresh else ("updated live" if sync.changed else "unchanged")
        progress(f"router: {state} at {router.url}/score (config generation "
                 f"{sync.generation})")

    def _check_gpus(self, endpoint: Endpoint, options: UpOptions) -> None:
        for d in endpoint.deployments:
            sku = lookup(d.instance_type)
            wants_gpu = options.gpu or (sku is not None and sku.gpus > 0)
            if wants_gpu and shutil.which("nvidia-smi") is None:
                raise GpuUnavailable(
                    f"Deployment '{d.name}' ({d.instance_type}) needs a GPU but this "
                    "machine has no NVIDIA driver (nvidia-smi not found); install it or "
                    "use a CPU instance_type.")

    def _start(self, want: Wanted, venv: str, progress: Progress) -> ps.DeploymentRecord:
        spec = want.spec
        progress(f"{spec.name}: starting {spec.instance_count} replica process(es)")
        replicas = [self._spawn(spec, venv, i) for i in range(spec.instance_count)]
        return ps.DeploymentRecord(spec.name, want.spec_hash, want.env_hash, venv,
                                   spec.instance_count, tuple(replicas))

    def _spawn(self, spec: DeploymentSpec, venv: str, index: int) -> ps.ReplicaRecord:
        port, admin_port = free_port(), free_port()
        logs = endpoint_state_dir(spec.endpoint_name) / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        log = logs / f"{spec.name}-{index}.log"
        env = {k: os.environ[k] for k in KEPT_ENV if k in os.environ}
        env["PATH"] = f"{venv}/bin:{os.environ.get('PATH', '/usr/bin:/bin')}"
        env.update(launch.server_env(spec, _host_paths(spec), host="127.0.0.1", port=port,
                                     admin_port=admin_port, instance=f"{spec.name}-{index}"))
        cwd = spec.code_configuration.code if spec.code_configuration else None
        with open(log, "ab") as out:
            proc = subprocess.Popen(launch.server_command(f"{venv}/bin/python"), env=env,
                                    stdout=out, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, cwd=cwd, start_new_session=True)
        ps.children[proc.pid] = proc
        return ps.ReplicaRecord(index, proc.pid, port, admin_port, str(log),
                                ps.start_time(proc.pid))

    def _await_ready(self, current: ps.ProcessState, started: dict[str, ps.DeploymentRecord],
                     endpoint: Endpoint, progress: Progress) -> None:
        jobs = [(name, r) for name, d in started.items() for r in d.replicas]
        probes = {d.name: ReadinessWait(d.readiness_probe) for d in endpoint.deployments}

        def wait(job: tuple[str, ps.ReplicaRecord]) -> WaitOutcome:
            name, replica = job
            return probes[name].wait(_url(replica.port), lambda: _exited(replica))

        failed = settle(jobs, wait, lambda name, replica, outcome: _failure(
            endpoint.deployment(name), replica, outcome, probes), progress)
        for name in started:
            if name in failed:
                _stop_all(current.deployments.pop(name).replicas)
                progress(f"{name}: failed, its processes were stopped")
            else:
                progress(f"{name}: up")
        ps.save(current)
        if failed:
            raise next(iter(failed.values()))

    # -- read back --------------------------------------------------------------------------
    def status(self, name: str | None = None) -> list[EndpointStatus]:
        names = [name] if name is not None else ps.names()
        found = []
        for endpoint in names:
            current = ps.load(endpoint)
            if current is not None and current.deployments:
                found.append(_endpoint_status(current))
        return found

    def _names(self) -> list[str]:
        return ps.names()

    def set_traffic(self, name: str, traffic: Mapping[str, int],
                    mirror: Mapping[str, int]) -> None:
        auth_mode = self._one(name).auth_mode
        save_record(name, EndpointRecord(auth_mode, dict(traffic), dict(mirror)))

    # -- down -----------------------------------------------------------------------------
    def down(self, name: str) -> None:
        current = ps.load(name)
        if current is None:
            raise EndpointNotFound(not_found(name, self.name, ps.names()))
        for deployment in current.deployments.values():
            _stop_all(deployment.replicas)
        if current.router is not None:
            _stop_all([current.router])
        folder = endpoint_state_dir(name)
        for owned in (ps.STATE_FILE, "logs", "models"):
            path = folder / owned
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
        forget_record(name)
        routing.forget_router_state(name)

    def down_all(self) -> list[str]:
        names = ps.names()
        for name in names:
            self.down(name)
        return names

    # -- logs -------------------------------------------------------------------------------
    def logs(self, name: str, deployment: str | None = None, follow: bool = False,
             tail: int | None = 100) -> Iterator[str]:
        current = ps.load(name)
        if current is None:
            raise EndpointNotFound(not_found(name, self.name, ps.names()))
        sources: list[Source] = []
        for dep in sorted(current.deployments.values(), key=lambda d: d.name):
            if deployment is None or dep.name == deployment:
                sources += [(f"{dep.name}-{r.index}", _file_source(Path(r.log), r, follow, tail))
                            for r in dep.replicas]
        if deployment is None and current.router is not None:
            router = current.router
            sources.append(("router", _file_source(Path(router.log), router, follow, tail)))
        if not sources:
            raise EndpointNotFound(f"Endpoint '{name}' has no deployment '{deployment}'; "
                                   "list its deployments with `devkit status`.")
        return merge(sources, follow)


def _url(port: int) -> str:
    return f"http://127.0.0.1:{port}"


def _host_paths(spec: DeploymentSpec) -> launch.ServerPaths:
    """Code in place; the model (folder or file) seen through a folder holding a symlink
    to it under its own name, the layout the docker engine mounts (and Azure uses)."""
    app_root = str(spec.code_configuration.code) if spec.code_configuration else None
    if spec.model is None:
        return launch.ServerPaths(app_root, None)
    model_dir = endpoint_state_dir(spec.endpoint_name) / "models" / spec.name
    model_dir.mkdir(parents=True, exist_ok=True)
    link = model_dir / spec.model.path.name
    if link.is_symlink() or link.exists():
        link.unlink()
    link.symlink_to(spec.model.path)
    return launch.ServerPaths(app_root, str(model_dir))


def _exited(replica: ps.ReplicaRecord) -> str | None:
    return None if replica.alive() else f"process {replica.pid} exited"


def _failure(spec: DeploymentSpec, replica: ps.ReplicaRecord, outcome: WaitOutcome,
             probes: Mapping[str, ReadinessWait]) -> DevkitError:
    logs = "\n".join(_last_lines(Path(replica.log), 30)) or "(no output)"
    fix = (f"its processes were stopped; fix the cause shown in the last lines of "
           f"{replica.log} and run `devkit up` again:\n{logs}")
    if outcome.state is DeploymentState.STARTING:
        return ReadinessTimeout(
            f"Deployment '{spec.name}' did not become ready within "
            f"{probes[spec.name].budget:g} s (readiness_probe of {spec.source}); {fix}")
    return EngineError(f"Deployment '{spec.name}' stopped while starting ({outcome.error}); "
                       f"{fix}")


def _stop_all(replicas: Iterable[ps.ReplicaRecord | ps.RouterRecord],
              grace: float = 5.0) -> None:
    """SIGTERM each replica's process group, then SIGKILL what is left after ``grace``."""
    live = [r for r in replicas if r.alive()]
    for replica in live:
        _signal_group(replica.pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while live and time.monotonic() < deadline:
        time.sleep(0.05)
        live = [r for r in live if r.alive()]
    for replica in live:
        _signal_group(replica.pid, signal.SIGKILL)


def _signal_group(pid: int, sig: signal.Signals) -> None:
    # The replica leads its own session (start_new_session), so its pid is the group's.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)


def _running(dep: ps.DeploymentRecord) -> Running:
    alive = sum(1 for r in dep.replicas if r.alive())
    return Running(dep.name, dep.spec_hash, dep.env_hash, False, alive, dep.instance_count)


def _replica_status(replica: ps.ReplicaRecord) -> ReplicaStatus:
    url = _url(replica.port)
    if not replica.alive():
        return ReplicaStatus(replica.index, url, DeploymentState.STOPPED, str(replica.pid),
                             None, f"process {replica.pid} is not running")
    probe = probe_once(url)
    return ReplicaStatus(replica.index, url, probe.state, str(replica.pid),
                         _url(replica.admin_port), probe.error, probe.cause)


def _deployment_status(dep: ps.DeploymentRecord, record: EndpointRecord) -> DeploymentStatus:
    with ThreadPoolExecutor(max_workers=8) as pool:
        states = list(pool.map(_replica_status, dep.replicas))
    return DeploymentStatus(
        name=dep.name,
        state=aggregate([s.state for s in states]),
        replicas=sum(1 for s in states if s.state is not DeploymentState.STOPPED),
        traffic=int(record.traffic.get(dep.name, 0)),
        mirror=int(record.mirror.get(dep.name, 0)),
        image=dep.venv,
        urls=tuple(s.url for s in states if s.state is not DeploymentState.STOPPED),
        error=next((s.error for s in states if s.error), None),
        cause=next((s.cause for s in states if s.error), None),
        replica_status=tuple(states),
        env_hash=dep.env_hash,
    )


def _endpoint_status(current: ps.ProcessState) -> EndpointStatus:
    record = routing.live_record(current.name, load_record(current.name) or current.record)
    statuses = tuple(_deployment_status(d, record)
                     for _, d in sorted(current.deployments.items()))
    router = current.router
    uri = f"{router.url}/score" if router is not None and router.alive() else None
    return EndpointStatus(current.name, uri, record.auth_mode, "process", statuses)


def _last_lines(path: Path, count: int) -> list[str]:
    try:
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            handle.seek(max(handle.tell() - 64 * 1024, 0))
            data = handle.read()
    except OSError:
        return []
    return data.decode("utf-8", errors="replace").splitlines()[-count:] if count > 0 else []


def _file_source(path: Path, replica: ps.ReplicaRecord | ps.RouterRecord, follow: bool,
                 tail: int | None) -> Callable[[], Iterator[bytes]]:
    def read() -> Iterator[bytes]:
        lines = _last_lines(path, tail) if tail is not None else None
        with open(path, "rb") as handle:
            if lines is None:
                yield handle.read()
            else:
                yield "".join(line + "\n" for line in lines).encode()
                handle.seek(0, os.SEEK_END)
            while follow:
                chunk = handle.read()
                if chunk:
                    yield chunk
                elif not replica.alive():
                    return
                else:
                    time.sleep(0.2)
    return read
