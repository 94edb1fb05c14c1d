"""The process engine: each replica is ``python -m devkit_runtime`` from the deployment's
venv, detached into its own session on a free loopback port, so the endpoint keeps
serving after the CLI exits, exactly like containers do. Each runs under a keeper
(``devkit_runtime.keeper``: the restart policy Docker gives containers), and its processes
live and die together: workers die with their supervisor, the supervisor with its keeper,
and ``down`` kills every process carrying the replica's tag, then checks none is left.

The reconcile itself is :meth:`Engine.up`; this class fills in its hooks with processes
and ``process.json`` in place of labels. Code and model are used in place, never copied.
A bring-your-own-container deployment is refused before anything starts
(:func:`devkit.engines.byoc.process_refusal` says why and names the docker engine).
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from devkit.engines import byoc, launch, replica_secret, routing
from devkit.engines.base import (
    DeploymentStatus,
    EndpointStatus,
    Engine,
    PostMortem,
    Prepared,
    Progress,
    ReplicaStatus,
    RouterHandle,
    RunSettings,
    ScaledReplica,
    no_deployment,
    not_found,
)
from devkit.engines.lock import endpoint_lock
from devkit.engines.process import egress, scaling
from devkit.engines.process import router as prouter
from devkit.engines.process import state as ps
from devkit.engines.process import status as pstatus
from devkit.engines.process.venv import ensure_venv, requirements_of, venv_hash
from devkit.engines.readiness import ReadinessWait, WaitOutcome
from devkit.engines.record import Running, Wanted
from devkit.engines.settings import ReplicaRun
from devkit.engines.sku import lookup
from devkit.engines.streams import Source, merge
from devkit.errors import EndpointNotFound, EngineError, GpuUnavailable
from devkit.paths import endpoint_state_dir
from devkit.ports import free_port
from devkit.secrets import delivery
from devkit.spec.model import DeploymentSpec, Endpoint

KEPT_ENV = ("HOME", "LANG", "LC_ALL", "TMPDIR", "TZ", "USER")


class ProcessEngine(Engine):
    name = "process"
    cleaned_note = "its processes were stopped"
    replica_secret = True  # replicas listen on the host's loopback

    def up(self, endpoint: Endpoint, options: RunSettings, progress: Progress) -> EndpointStatus:
        egress.check(endpoint, options.strict, progress)  # said once, before anything runs
        return super().up(endpoint, options, progress)

    # -- hooks of up ------------------------------------------------------------------------
    def _refuse(self, endpoint: Endpoint, options: RunSettings) -> None:
        for d in endpoint.deployments:
            if d.environment.is_byoc:
                raise byoc.process_refusal(d)
        for d in endpoint.deployments:
            sku = lookup(d.instance_type)
            wants_gpu = options.gpu or (sku is not None and sku.gpus > 0)
            if wants_gpu and shutil.which("nvidia-smi") is None:
                raise GpuUnavailable(
                    f"Deployment '{d.name}' ({d.instance_type}) needs a GPU but this "
                    "machine has no NVIDIA driver (nvidia-smi not found); install it or "
                    "use a CPU instance_type.")

    def _prepare(self, spec: DeploymentSpec, options: RunSettings,
                 progress: Progress) -> Prepared:
        venv = ensure_venv(spec, progress)
        return Prepared(str(venv.path), venv.env_hash)

    def _running(self, name: str) -> list[Running]:
        current = ps.load(name)
        return [_running(d) for d in current.deployments.values()] if current else []

    def _remove(self, endpoint: str, deployment: str) -> None:
        current = ps.load(endpoint)
        if current is not None and deployment in current.deployments:
            _stop_all(current.deployments.pop(deployment).replicas)
            ps.save(current)

    def _start(self, want: Wanted, prepared: Prepared, run: ReplicaRun,
               progress: Progress) -> list[Any]:
        spec = want.spec
        progress(f"{spec.name}: starting {spec.instance_count} replica process(es)")
        replicas = [_spawn(spec, prepared.artifact, i, run) for i in range(spec.instance_count)]
        current = ps.load(spec.endpoint_name) or ps.ProcessState(spec.endpoint_name)
        current.deployments[spec.name] = ps.DeploymentRecord(
            spec.name, want.spec_hash, want.env_hash, prepared.artifact, spec.instance_count,
            tuple(replicas))
        ps.save(current)
        return list(replicas)

    def _wait_ready(self, spec: DeploymentSpec, replica: Any) -> WaitOutcome:
        record: ps.ReplicaRecord = replica
        return ReadinessWait(spec.readiness_probe).wait(pstatus.base_url(record.port),
                                                        lambda: _exited(record))

    def _discard(self, endpoint: str, deployment: str, replicas: list[Any]) -> None:
        self._remove(endpoint, deployment)

    def _post_mortem(self, replica: Any) -> PostMortem:
        record: ps.ReplicaRecord = replica
        return PostMortem("its processes were stopped", f"the last lines of {record.log}",
                          "\n".join(pstatus.last_lines(Path(record.log), 30)))

    def _replica_urls(self, endpoint: Endpoint) -> dict[str, list[str]]:
        current = ps.load(endpoint.name)
        deployments = current.deployments if current else {}
        return {name: [pstatus.base_url(r.port) for r in dep.replicas if r.alive()]
                for name, dep in deployments.items()}

    def _ensure_router(self, endpoint: Endpoint, sync: routing.ConfigSync,
                       progress: Progress) -> RouterHandle:
        current = ps.load(endpoint.name) or ps.ProcessState(endpoint.name)
        router = current.router
        fresh = router is None or not router.alive()
        if router is not None and fresh:
            _stop_all([router])  # whatever its dead keeper left (found by its tag)
        if router is None or fresh:
            routing.router_starting(endpoint.name)
            log = endpoint_state_dir(endpoint.name) / "logs" / "router.log"
            router = prouter.spawn(sync.path, log, router.port if router else None)
            current.router = router
            ps.save(current)
        live = router
        return RouterHandle(live.url, fresh, lambda: None if live.alive() else
                            f"process {live.pid} exited; see {live.log}")

    def _router_alive(self, name: str) -> bool:
        current = ps.load(name)
        return current is not None and current.router is not None and current.router.alive()

    # -- what local autoscaling needs (devkit.engines.process.scaling) --------------------
    def router_url(self, name: str) -> str | None:
        return scaling.router_url(name)

    def scaled_replicas(self, name: str, deployment: str) -> list[ScaledReplica]:
        return scaling.scaled_replicas(name, deployment)

    def add_replica(self, spec: DeploymentSpec, run: ReplicaRun,
                    progress: Progress) -> ScaledReplica:
        return scaling.add_replica(spec, run, progress)

    def remove_replica(self, endpoint: str, deployment: str, index: int) -> None:
        scaling.remove_replica(endpoint, deployment, index)

    # -- what reload and debug need -------------------------------------------------------
    def env_hash(self, spec: DeploymentSpec) -> str:
        return venv_hash(requirements_of(spec))

    def reload_replica(self, replica: ReplicaStatus) -> dict[str, Any]:
        """Over the replica's loopback admin port."""
        import httpx

        if replica.admin_url is None:
            return {"ok": None, "error": "no admin port (the replica is not running)"}
        try:
            reply = httpx.post(f"{replica.admin_url}/-/reload", timeout=RELOAD_TIMEOUT_S,
                               headers=_secret_for(replica.admin_url))
            answer: dict[str, Any] = reply.json()
            return answer
        except (httpx.HTTPError, ValueError) as exc:
            return {"ok": None, "error": f"its admin port did not answer ({exc})"}

    def code_root(self, spec: DeploymentSpec) -> str | None:
        code = spec.code_configuration
        return None if code is None else str(code.code)

    def debug_image(self, spec: DeploymentSpec, running: DeploymentStatus) -> str:
        """The image the docker engine would run (a dev container runs it); a BYOC
        image as named."""
        if spec.environment.is_byoc and spec.environment.image:
            return spec.environment.image
        from devkit.images.build import ENV_REPOSITORY
        from devkit.images.envhash import environment_hash

        return f"{ENV_REPOSITORY}:{environment_hash(spec)[:16]}"

    # -- read back --------------------------------------------------------------------------
    def status(self, name: str | None = None) -> list[EndpointStatus]:
        names = [name] if name is not None else ps.names()
        found = []
        for endpoint in names:
            current = ps.load(endpoint)
            if current is not None and ps.clean_stale(current):
                ps.save(current)  # started before a reboot: never reported as running
            if current is not None and current.deployments:
                live = routing.live_view(endpoint)
                statuses = [pstatus.of_deployment(d, live)
                            for _, d in sorted(current.deployments.items())]
                router = current.router
                url = router.url if router is not None and router.alive() else None
                found.append(self._endpoint_status(endpoint, statuses, url))
        return found

    def names(self) -> list[str]:
        return ps.names()

    # -- down -----------------------------------------------------------------------------
    def down(self, name: str) -> None:
        # Held here too (re-entrant: `devkit down` already holds it) so the lock file goes
        # with the state folder whoever calls down.
        with endpoint_lock(name, "down", remove=True):
            self._down(name)

    def _down(self, name: str) -> None:
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
            raise no_deployment(name, str(deployment), sorted(current.deployments))
        return merge(sources, follow)


RELOAD_TIMEOUT_S = 600.0


def _spawn(spec: DeploymentSpec, venv: str, index: int, run: ReplicaRun) -> ps.ReplicaRecord:
    """One detached replica process; debugpy (when debugged) listens on the host port."""
    port, admin_port = free_port(), free_port()
    logs = endpoint_state_dir(spec.endpoint_name) / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    log = logs / f"{spec.name}-{index}.log"
    env = {k: os.environ[k] for k in KEPT_ENV if k in os.environ}
    env["PATH"] = f"{venv}/bin:{os.environ.get('PATH', '/usr/bin:/bin')}"
    env.update(launch.server_env(spec, _host_paths(spec), host="127.0.0.1", port=port,
                                 admin_port=admin_port, watch=run.watch,
                                 debug_port=run.debug_port, instance=f"{spec.name}-{index}"))
    if run.secrets_file is not None:  # the values stay in the file, out of this environ
        env[delivery.ENV] = run.secrets_file
    tag = f"{spec.endpoint_name}/{spec.name}-{index}/{secrets.token_hex(6)}"
    keeper_status, events = (logs / f"{spec.name}-{index}.{what}.json"
                             for what in ("keeper", "workers"))
    for stale in (keeper_status, events):
        stale.unlink(missing_ok=True)
    env[ps.TAG_ENV] = tag
    env["DEVKIT_WORKER_EVENTS"] = str(events)
    env["DEVKIT_REPLICA_SECRET_FILE"] = str(replica_secret.ensure(spec.endpoint_name))
    cwd = spec.code_configuration.code if spec.code_configuration else None
    python = f"{venv}/bin/python"
    command = [python, "-m", "devkit_runtime.keeper", "--status", str(keeper_status),
               "--name", f"{spec.name}-{index}", "--", *launch.server_command(python)]
    with open(log, "ab") as out:
        proc = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, cwd=cwd, start_new_session=True)
    ps.children[proc.pid] = proc
    return ps.ReplicaRecord(index, proc.pid, port, admin_port, str(log),
                            ps.start_time(proc.pid), ps.boot_id(), tag, str(keeper_status),
                            str(events))


def _secret_for(admin_url: str) -> dict[str, str]:
    """The replica secret header of the endpoint whose replica has this admin URL."""
    for name in ps.names():
        current = ps.load(name)
        for dep in current.deployments.values() if current else ():
            if any(pstatus.base_url(r.admin_port) == admin_url for r in dep.replicas):
                return replica_secret.headers(name)
    return {}


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
    """While starting: why the replica is not coming up, if its server already exited
    (its keeper would restart it forever; `up` reports the first exit instead)."""
    if not replica.alive():
        return f"process {replica.pid} exited"
    last = pstatus.read_json(replica.keeper_status).get("last_exit")
    return f"its server {last}" if last else None


def _stop_all(replicas: Iterable[ps.ReplicaRecord | ps.RouterRecord],
              grace: float = 15.0) -> None:
    """Stop every process of these replicas, dead keeper or not (an orphaned worker is
    found by its tag); an EngineError names any that survived SIGKILL."""
    left = ps.stop_tagged(list(replicas), grace)
    if left:
        raise EngineError(f"processes {', '.join(map(str, left))} did not stop after SIGKILL; "
                          "check them with `ps -o pid,stat,cmd -p PID` (a process stuck in "
                          "the kernel, state D, goes only with its I/O)")


def _running(dep: ps.DeploymentRecord) -> Running:
    alive = sum(1 for r in dep.replicas if r.alive())
    return Running(dep.name, dep.spec_hash, dep.env_hash, False, alive, dep.instance_count)


def _file_source(path: Path, replica: ps.ReplicaRecord | ps.RouterRecord, follow: bool,
                 tail: int | None) -> Callable[[], Iterator[bytes]]:
    def read() -> Iterator[bytes]:
        lines = pstatus.last_lines(path, tail) if tail is not None else None
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
