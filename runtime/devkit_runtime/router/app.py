"""The router's request handling, served by :mod:`devkit_runtime.router.server`.

Routes:

    /score (GET, POST, OPTIONS), /swagger.json   forwarded to a deployment
    GET /-/live                                  200 while the process runs
    GET /-/ready                                 200 once a config is applied, else 503
    GET /-/config                                the applied config, without secrets
    GET /metrics                                 Prometheus text
    GET /-/metrics.json                          per-deployment JSON (the TUI reads this)
    GET /-/shadow.json                           the shadow diff of mirrored requests
    GET /-/load.json                             in flight + queued per deployment and
                                                 replica (local autoscaling reads this)
    GET /-/health.json                           each replica: in rotation or not, and why

No framework and no ASGI: the router sits in front of every request, so its own cost is
the number the overhead benchmark measures; :mod:`server` parses each request into a
:class:`~devkit_runtime.router.server.Request` and writes the :class:`Outgoing` that
:meth:`Router.handle` returns. Answers are buffered, except chunked (streamed) ones,
which :mod:`relay` passes on part by part; a stream counts as in flight, and is observed
in the metrics, until its last part went out.

Hooks, for what runs beside requests: :meth:`Router.startup` (before the server
listens) and :meth:`Router.shutdown` (after the last request in flight ended).
"""

from __future__ import annotations

import asyncio
import logging
import random
import signal
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Any

from devkit_runtime.collection.payloads import PayloadLog
from devkit_runtime.router import health, proxy, shadow
from devkit_runtime.router.config import RouterConfig
from devkit_runtime.router.load import LoadBook
from devkit_runtime.router.metrics import BUCKETS_S, DeploymentMetrics, RouterMetrics
from devkit_runtime.router.proxy import Incoming, Outgoing
from devkit_runtime.router.relay import relay
from devkit_runtime.router.shadow import Pending, ShadowBook
from devkit_runtime.router.state import ConfigWatcher, RouterState
from devkit_runtime.router.upstream import (
    ConnectFailed,
    PoolRegistry,
    ReplicaPool,
    UpstreamError,
)

if TYPE_CHECKING:
    from devkit_runtime.router.server import ClientStream, Request

log = logging.getLogger("devkit.router")

FORWARDED_PATHS = {"/score": True, "/swagger.json": False}  # path -> is a scoring call
SCORE_METHODS = frozenset({"GET", "POST", "OPTIONS"})


class Router:
    """Answers requests. ``rng`` seeds the traffic split (tests); None means system
    entropy."""

    def __init__(self, config_path: Path, rng: random.Random | None = None,
                 listening: Callable[[], bool] = lambda: True) -> None:
        self.metrics = RouterMetrics()
        self.shadow = ShadowBook()
        self.state: RouterState | None = None
        self._rng = rng
        self._pools = PoolRegistry()
        self._watcher = ConfigWatcher(config_path, self._apply, listening)
        self._health = health.HealthChecker(self._health_targets)
        self._tasks: set[asyncio.Task[None]] = set()
        self._watch: asyncio.Task[None] | None = None
        self._mirrors_in_flight = 0
        self.payloads = PayloadLog()  # request/response data collection
        self.load = LoadBook(self.metrics, self._pools)  # what local autoscaling reads

    def _apply(self, config: RouterConfig) -> None:
        self.state = RouterState.build(config, self._pools, self._rng)
        self.shadow.configure(shadow.with_data_dir(config))
        self.payloads.apply((d.name, d.data_collection) for d in config.deployments)

    def _health_targets(self) -> list[tuple[Any, list[ReplicaPool]]]:
        """What the health checker probes: every replica of the applied config."""
        state = self.state
        if state is None:
            return []
        return [(route, state.balancers[route.name].pools) for route in state.config.deployments]

    async def handle(self, request: Request) -> Outgoing:
        """The answer to one request; a streamed one is then sent by :meth:`relay`."""
        path = request.path
        scoring = FORWARDED_PATHS.get(path)
        if scoring is not None:
            return await self._forward(request, scoring)
        if request.method != "GET":
            return proxy.error(405, f"Method {request.method} is not allowed on {path}.")
        return self._local(path)

    def _local(self, path: str) -> Outgoing:
        state = self.state
        if path == "/-/live":
            return proxy.json_response({"status": "live"})
        if path == "/-/ready":
            if state is None:
                return proxy.error(503, f"No router config applied yet: "
                                   f"{self._watcher.last_error or 'waiting for it'}.")
            return proxy.json_response({"status": "ready", "generation": state.config.generation})
        if path == "/-/config":
            described = state.config.describe() if state else {"generation": None}
            return proxy.json_response({**described, "last_error": self._watcher.last_error})
        if path == "/metrics":
            endpoint = state.config.endpoint if state else ""
            text = (self.metrics.prometheus(endpoint) + self.shadow.prometheus(endpoint)
                    + self.load.prometheus(state.config if state else None))
            if state is not None:
                text += health.prometheus(endpoint, state.balancers)
            return Outgoing(200, [(b"content-type", b"text/plain; version=0.0.4")],
                            text.encode("utf-8"))
        if path == "/-/metrics.json":
            return proxy.json_response(self._metrics_json(state))
        if path == "/-/load.json":
            return proxy.json_response(self.load.as_json(state.config if state else None))
        if path == "/-/health.json":
            return proxy.json_response({
                "endpoint": state.config.endpoint if state else None,
                "deployments": {name: health.describe(balancer.pools) for name, balancer
                                in (state.balancers.items() if state else ())}})
        if path == "/-/shadow.json":
            return proxy.json_response(self.shadow.as_json(state.config.endpoint if state
                                                           else ""))
        return proxy.error(404, f"Path {path} not found; the endpoint serves /score.")

    def _metrics_json(self, state: RouterState | None) -> dict[str, Any]:
        deployments = self.metrics.as_json()
        if state is not None:
            for route in state.config.deployments:
                entry = deployments.setdefault(route.name, self.metrics.of(route.name).as_json())
                pools = state.balancers[route.name].pools
                entry.update(weight=route.weight, mirror=route.mirror,
                             replicas=len(route.replicas),
                             replicas_ready=sum(1 for pool in pools if pool.ready),
                             replica_health=health.describe(pools))
        return {"endpoint": state.config.endpoint if state else None,
                "generation": state.config.generation if state else None,
                "latency_buckets_s": list(BUCKETS_S),
                "deployments": deployments}

    async def _forward(self, request: Request, scoring: bool) -> Outgoing:
        started = time.perf_counter()
        incoming = Incoming.read(request.headers)
        state = self.state
        if state is None:
            return proxy.error(503, "The endpoint is not ready: the router has no config yet.",
                               incoming)
        if scoring and request.method not in SCORE_METHODS:
            return proxy.error(405, f"Method {request.method} is not allowed on /score.",
                               incoming)
        refusal = state.auth.check_raw(incoming.authorization)
        if refusal:
            return self._refuse(401, refusal, incoming, started)
        decision = state.policy.decide(incoming.pinned)
        name = decision.deployment
        if name is None:
            return self._refuse(404, decision.reason, incoming, started)
        # No closures here: their cells would cost every request, mirrored or not.
        pair = None
        if decision.mirror is not None:
            pair = self._mirror(state, name, decision.mirror,
                                _upstream_request(state, request, incoming, decision.mirror,
                                                  scoring), incoming)
        outgoing = await self._call(state, name,
                                    _upstream_request(state, request, incoming, name, scoring),
                                    incoming, scoring)
        metrics = self.metrics.of(name)
        if outgoing.stream is None:
            elapsed = time.perf_counter() - started
            metrics.observe(outgoing.status, elapsed)
            if pair is not None:
                pair.live_done(shadow.live_answer(outgoing, elapsed))
        else:  # a stream is observed when its last part went out (or it was cut off)
            _observe_at_end(metrics, outgoing, started)
            if pair is not None:  # a streamed body is not kept: compared on its status
                pair.live_done(shadow.live_answer(outgoing, time.perf_counter() - started))
        if scoring and self.payloads.collecting:  # (a call less when nothing collects)
            # a streamed answer's body is not held: only its request is logged
            self.payloads.record(name, incoming.request_id, incoming.forwarded,
                                 request.body, outgoing.headers,
                                 outgoing.body if outgoing.stream is None else None)
        return outgoing

    async def relay(self, client: ClientStream, outgoing: Outgoing) -> None:
        """Send a streamed answer part by part, then run its ``on_end`` callbacks."""
        assert outgoing.stream is not None
        deployment = _header(outgoing.headers, proxy.DEPLOYMENT_HEADER)
        whole = False
        try:
            whole = await relay(client, outgoing.status, outgoing.headers,
                                outgoing.stream, outgoing.deadline, deployment)
        finally:
            for callback in outgoing.on_end:
                callback(whole)

    def _refuse(self, status: int, reason: str, incoming: Incoming, started: float) -> Outgoing:
        self.metrics.of("").observe(status, time.perf_counter() - started)
        return proxy.error(status, reason, incoming)

    async def _call(self, state: RouterState, name: str, data: list[bytes],
                    incoming: Incoming, scoring: bool) -> Outgoing:
        route = state.routes[name]
        balancer = state.balancers[name]
        pool = balancer.pick()
        if pool is None:
            return proxy.error(503, health.not_ready_sentence(name, balancer.pools),
                               incoming, name)
        metrics = self.metrics.of(name)
        if metrics.in_flight >= route.max_in_flight:
            return proxy.error(429, f"Too many requests in flight for deployment '{name}' "
                               f"(limit {route.max_in_flight} = 2 x max_concurrent_requests_"
                               f"per_instance x instance_count); retry later or raise them.",
                               incoming, name)
        metrics.in_flight += 1
        deadline = asyncio.get_running_loop().time() + route.request_timeout_ms / 1000
        response = None
        try:
            try:
                response = await pool.request(data, deadline, stream=True)
            except ConnectFailed as exc:  # never sent: once more elsewhere (see health)
                pool = health.elsewhere(balancer, pool, exc)
                response = await pool.request(data, deadline, stream=True)
        except asyncio.TimeoutError:
            return proxy.error(408, f"Deployment '{name}' did not answer within its "
                               f"request_timeout_ms ({route.request_timeout_ms} ms).",
                               incoming, name)
        except UpstreamError as exc:
            health.failed(pool, exc)
            return proxy.error(502, f"Deployment '{name}' failed: {exc}; see `devkit logs`.",
                               incoming, name)
        finally:
            if response is None or response.stream is None:
                metrics.in_flight -= 1
        outgoing = proxy.from_upstream(response, name, incoming, scoring)
        if outgoing.stream is not None:  # in flight until the last part went out
            outgoing.deadline = deadline
            outgoing.on_end.append(lambda whole: _stream_ended(metrics, whole))
        return outgoing

    def _background(self, work: Coroutine[Any, Any, None]) -> None:
        """Run ``work`` until shutdown (it is cancelled with the mirror copies)."""
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _mirror(self, state: RouterState, live: str, name: str, data: list[bytes],
                incoming: Incoming) -> Pending | None:
        """Send a copy in the background; its answer never reaches the client, its
        failures are counted, and it is compared with the live answer (the returned
        pair) unless comparing is off."""
        metrics = self.metrics.of(name)
        if self._mirrors_in_flight >= state.config.mirror_max_in_flight:
            metrics.mirror_dropped += 1
            return None
        self._mirrors_in_flight += 1
        metrics.mirrored += 1
        pair = self.shadow.begin(live, name, incoming.request_id)
        task = asyncio.create_task(self._send_mirror(state, name, data, pair))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return pair

    async def _send_mirror(self, state: RouterState, name: str, data: list[bytes],
                           pair: Pending | None) -> None:
        route = state.config.deployment(name)
        balancer = state.balancers[name]
        pool = balancer.pick()
        started = time.perf_counter()
        answer = None
        try:
            if route is None or pool is None:
                raise UpstreamError("no replica")
            deadline = asyncio.get_running_loop().time() + route.request_timeout_ms / 1000
            response = await health.send(balancer, pool, data, deadline)
            if response.status >= 400:
                self.metrics.of(name).mirror_failed += 1
            answer = shadow.upstream_answer(response, time.perf_counter() - started)
        except asyncio.TimeoutError:
            self.metrics.of(name).mirror_failed += 1
            answer = shadow.failed_answer(408, "timeout", time.perf_counter() - started)
        except UpstreamError as exc:
            self.metrics.of(name).mirror_failed += 1
            status = 503 if str(exc) == "no replica" else 502
            answer = shadow.failed_answer(status, str(exc), time.perf_counter() - started)
        finally:
            self._mirrors_in_flight -= 1
            if pair is not None and answer is not None:
                pair.shadow_done(answer)

    async def startup(self) -> None:
        """Before the server listens: the first config, the file watcher, SIGHUP, and
        the load sampler."""
        self._watcher.load_now()
        self._watch = asyncio.create_task(self._watcher.run())
        self._background(self.load.run(lambda: self.state.config if self.state else None))
        self._background(self._health.run())
        _on_sighup(self._watcher.request_reload)

    def listening(self) -> None:
        """Called once the server listens (writes the applied marker held back till then)."""
        self._watcher.now_listening()

    async def shutdown(self) -> None:
        """After the last request in flight ended (or the graceful stop ran out)."""
        if self._watch is not None:
            self._tasks.add(self._watch)
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._pools.close()
        self.payloads.close()  # flushes what was collected: a clean stop loses nothing
        self._watcher.forget()


def _upstream_request(state: RouterState, request: Request, incoming: Incoming, name: str,
                      scoring: bool) -> list[bytes]:
    """The request for deployment ``name``, serialised (on a scoring call, to its
    scoring path)."""
    target = _target(request, state.routes[name].scoring_path if scoring else None)
    return proxy.serialise(request.method, target, b"router", incoming, request.body,
                           state.config.replica_secret)


def _observe_at_end(metrics: DeploymentMetrics, outgoing: Outgoing, started: float) -> None:
    outgoing.on_end.append(
        lambda whole: metrics.observe(outgoing.status, time.perf_counter() - started))


def _stream_ended(metrics: DeploymentMetrics, whole: bool) -> None:
    metrics.in_flight -= 1
    if not whole:
        metrics.streams_cut += 1


def _header(headers: list[tuple[bytes, bytes]], name: bytes) -> str:
    for key, value in headers:
        if key == name:
            return value.decode("latin-1")
    return ""


def _on_sighup(callback: Callable[[], None]) -> None:
    """Reload on SIGHUP where signals can be handled (the main thread of a Unix process)."""
    try:
        asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, callback)
    except (NotImplementedError, RuntimeError, ValueError):
        log.debug("SIGHUP reload unavailable here; the config file is still polled")


def _target(request: Request, path: str | None = None) -> bytes:
    """The request target sent upstream: the client's, or ``path`` (a deployment's
    scoring path) with the client's query string."""
    raw = path.encode("utf-8") if path else request.raw_path
    query = request.query
    return raw + b"?" + query if query else raw
