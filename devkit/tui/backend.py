"""Every blocking thing the TUI does, behind one object, called only from worker threads.

Widgets never talk to Docker, HTTP or files themselves: a screen starts a Textual worker
that calls one :class:`Backend` method and posts the result back as a message. Keeping all
of it here gives the UI one seam (the tests drive it with real endpoints), and keeps the
translation of foreign errors (httpx) into :class:`~devkit.errors.DevkitError` sentences
in one place, so the UI can show ``str(error)`` as it is.

The backend sits on top of engines, router and spec; it never imports the CLI.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import httpx

from devkit import debug as dbg
from devkit.actions.compare import ShadowReport
from devkit.actions.rollout import Event, RolloutOutcome, RolloutPlan
from devkit.actions.router_view import RouterView
from devkit.engines import Engine, available_engines, get_engine
from devkit.engines.base import EndpointStatus, Progress, UpOptions
from devkit.errors import DevkitError, EndpointNotFound, EngineError, InvokeError, SpecError
from devkit.reload import ReplicaReload, recall_spec, reload_now
from devkit.spec import load, validate_traffic
from devkit.spec.model import Endpoint
from devkit.tui import targets
from devkit.tui.views import (
    EndpointView,
    InvokeResult,
    Metrics,
    Snapshot,
    from_spec,
    from_status,
)

PIN_HEADER = "azureml-model-deployment"
HTTP_TIMEOUT_S = 1.0  # status-type calls: a slow answer must not hold the poll up
INVOKE_TIMEOUT_S = 60.0


class Backend:
    """The endpoints in ``spec_paths`` (folders or endpoint files) and everything the
    engines named in ``engines`` run (default: every engine that answers)."""

    def __init__(self, spec_paths: Sequence[Path] = (), engines: Sequence[str] | None = None,
                 up_engine: str | None = None, quiet_missing_spec: bool = False) -> None:
        self.spec_paths = list(spec_paths)
        self.engine_names = list(engines) if engines is not None else None
        self.up_engine = up_engine
        # `devkit` run in a folder without specs is fine: it still shows running endpoints.
        self.quiet_missing_spec = quiet_missing_spec
        self._engines: list[Engine] | None = None
        self._owner: dict[str, Engine] = {}
        self._specs: dict[str, Endpoint] = {}
        self._lock = threading.Lock()

    # -- reading state --------------------------------------------------------------------
    def engines(self) -> list[Engine]:
        with self._lock:
            if self._engines is None:
                names = self.engine_names
                self._engines = ([get_engine(n) for n in names] if names is not None
                                 else available_engines())
            return self._engines

    def snapshot(self) -> Snapshot:
        """One look at every endpoint: running ones from their engine, the rest from the spec."""
        errors: list[str] = []
        specs = self._load_specs(errors)
        running: dict[str, EndpointStatus] = {}
        for engine in self.engines():
            try:
                statuses = engine.status()
            except DevkitError as exc:
                errors.append(str(exc))
                continue
            for status in statuses:
                running.setdefault(status.name, status)
                self._owner.setdefault(status.name, engine)
        for name in running.keys() - specs.keys():
            recalled = self._recall(name, errors)
            if recalled is not None:
                specs[name] = recalled
        views = [from_status(s, specs.get(n)) for n, s in running.items()]
        views += [from_spec(spec) for name, spec in specs.items() if name not in running]
        views += targets.views(errors)
        return Snapshot(tuple(sorted(views, key=lambda v: v.name)), tuple(errors))

    def spec(self, name: str) -> Endpoint | None:
        """The spec of endpoint ``name`` as last loaded or recalled, if any."""
        return self._specs.get(name)

    def _load_specs(self, errors: list[str]) -> dict[str, Endpoint]:
        for path in self.spec_paths:
            try:
                spec = load([path])
            except SpecError as exc:
                if not (self.quiet_missing_spec and not _has_yaml(path)):
                    errors.append(str(exc))
                continue
            self._specs[spec.name] = spec
        return dict(self._specs)

    def _recall(self, name: str, errors: list[str]) -> Endpoint | None:
        """The spec ``devkit up`` recorded for a running endpoint that is not in this
        folder, so its sample request, reload and debug work from anywhere."""
        try:
            spec = recall_spec(name)
        except SpecError as exc:
            errors.append(str(exc))
            return None
        if spec is not None:
            self._specs[name] = spec
        return spec

    def metrics(self, view: EndpointView) -> dict[str, Metrics] | None:
        """Per-deployment router metrics, or None when no router answers at the URI."""
        if not view.scoring_uri:
            return None
        try:
            response = httpx.get(_origin(view.scoring_uri) + "/-/metrics.json",
                                 timeout=HTTP_TIMEOUT_S)
            raw = response.json() if response.status_code == 200 else None
        except (httpx.HTTPError, ValueError):
            return None
        if not isinstance(raw, dict) or not isinstance(raw.get("deployments"), dict):
            return None
        return {name: Metrics.from_json(m) for name, m in raw["deployments"].items()}

    def side_by_side(self, view: EndpointView) -> ShadowReport:
        """The router's per-deployment metrics and shadow diff, through the compare action."""
        from devkit.actions.compare import shadow_report

        return shadow_report(self.router_view(view))

    def rollout(self, view: EndpointView, candidate: str, plan: RolloutPlan,
                on_event: Callable[[Event], None], stop: threading.Event) -> RolloutOutcome:
        """Run the rollout action to its end (or until ``stop`` is set)."""
        from devkit.actions.rollout import rollout

        return rollout(self.router_view(view), candidate, plan, on_event=on_event, stop=stop)

    def router_view(self, view: EndpointView) -> RouterView:
        """The endpoint's router as the actions reach it, from what the poll found (no
        engine is asked again)."""
        from devkit.actions.router_view import LocalTraffic

        if not view.scoring_uri:
            raise EndpointNotFound(f"Endpoint '{view.name}' is not running; start it (u).")
        return RouterView(view.name, view.scoring_uri, LocalTraffic(view.engine),
                          self._auth_header(view))

    def reload_outcome(self, view: EndpointView, deployment: str) -> ReplicaReload | None:
        """The last reload the deployment's first replica reports, if any."""
        found = view.deployment(deployment)
        if found is None or not found.urls:
            return None
        try:
            raw = httpx.get(found.urls[0] + "/-/ready", timeout=HTTP_TIMEOUT_S).json()
        except (httpx.HTTPError, ValueError):
            return None
        last = raw.get("reload") if isinstance(raw, dict) else None
        return ReplicaReload.from_runtime(deployment, 0, last) if isinstance(last, dict) else None

    def log_feed(self, endpoint: str, deployment: str | None,
                 tail: int = 200) -> queue.Queue[str | None]:
        """Follow the logs into a queue (``None`` ends it). A daemon thread does the
        reading because an engine's follow blocks until the next line arrives: the
        caller's worker polls the queue and can stop at once; the reader dies with the
        process instead of holding the app's exit up."""
        lines = self._engine_of(endpoint).logs(endpoint, deployment, follow=True, tail=tail)
        feed: queue.Queue[str | None] = queue.Queue(maxsize=10_000)

        def pump() -> None:
            try:
                for line in lines:
                    feed.put(line)
            except DevkitError as exc:
                feed.put(f"[devkit] log stream ended: {exc}")
            finally:
                feed.put(None)

        threading.Thread(target=pump, name=f"logs-{endpoint}", daemon=True).start()
        return feed

    # -- acting -----------------------------------------------------------------------------
    def up(self, endpoint: str, progress: Progress) -> None:
        spec = self._specs.get(endpoint)
        if spec is None:
            raise SpecError(f"No spec for endpoint '{endpoint}' was loaded, so it cannot be "
                            "started from here; run `devkit` in the folder holding its "
                            "endpoint.yml, or start it with `devkit up PATH`.")
        engine = self._owner.get(endpoint) or get_engine(self.up_engine, progress=progress)
        engine.up(spec, UpOptions(), progress)
        self._owner[endpoint] = engine

    def down(self, endpoint: str) -> None:
        self._engine_of(endpoint).down(endpoint)
        self._owner.pop(endpoint, None)

    def restart(self, endpoint: str, progress: Progress) -> None:
        """Remove and start again: a fresh replica set, images rebuilt where they changed."""
        engine = self._engine_of(endpoint)
        engine.down(endpoint)
        self.up(endpoint, progress)

    def reload(self, view: EndpointView, deployment: str) -> list[ReplicaReload]:
        """Reload the scoring code in every replica of ``deployment``, one outcome each
        (``docker exec`` for containers, the admin port for processes)."""
        engine = self._engine_of(view.name)
        found = engine.status(view.name)
        status = found[0] if found else None
        dep = status.deployment(deployment) if status else None
        if status is None or dep is None or not dep.replica_status:
            raise EngineError(f"Deployment '{deployment}' of '{view.name}' has no running "
                              f"replica to reload; start it with `devkit up`.")
        return reload_now(status, deployment, self._specs.get(view.name))

    def debug(self, endpoint: str, deployment: str, progress: Progress,
              off: bool = False) -> str:
        """Restart ``deployment`` under debugpy (or back to its spec with ``off``) through
        :mod:`devkit.debug`, writing the VS Code files; returns the text to show."""
        engine = self._engine_of(endpoint)
        spec = self._specs.get(endpoint)
        if spec is None:
            raise SpecError(f"No spec for endpoint '{endpoint}' was loaded here; run "
                            f"`devkit debug {endpoint} -d {deployment} --spec FOLDER`.")
        if off:
            dbg.stop(engine, spec, deployment, progress)
            return f"{endpoint}/{deployment}: debugger off, running as its spec says."
        target = dbg.start(engine, spec, deployment, progress)
        folder = spec.spec.source.file.parent
        return str(target.instructions(dbg.write_launch_json(target, folder),
                                       dbg.write_devcontainer_json(target, folder)))

    def set_traffic(self, endpoint: str, traffic: Mapping[str, int],
                    mirror: Mapping[str, int]) -> bool:
        """Apply weights live; True when a running router applied them."""
        from devkit.router import set_traffic

        if targets.split(endpoint) is not None:  # an endpoint promoted to a target
            return targets.set_traffic(endpoint, traffic, mirror)
        view_names = self._deployment_names(endpoint)
        validate_traffic(view_names, dict(traffic), dict(mirror))
        try:
            change = set_traffic(endpoint, traffic, mirror)
            applied, live, copied = change.applied, change.traffic, change.mirror
        except EndpointNotFound:  # no router config: the engine's record is all there is
            applied, live, copied = False, dict(traffic), dict(mirror)
        self._engine_of(endpoint).set_traffic(endpoint, live, copied)
        return applied

    def credentials(self, endpoint: str, regenerate: str | None = None) -> dict[str, str]:
        """Keys (auth_mode key) or a fresh token (aml_token) for ``endpoint``."""
        from devkit.router import keys, read_router_config
        from devkit.router.control import refresh_key_hashes
        from devkit.router.tokens import issue_token

        mode = read_router_config(endpoint).get("auth", {}).get("mode")
        if mode == "aml_token":
            return issue_token(endpoint).as_json()
        if regenerate:
            found = keys.regenerate_key(endpoint, regenerate)
            refresh_key_hashes(endpoint, keys.key_hashes(found))
            return found.as_json()
        return keys.load_or_create_keys(endpoint).as_json()

    def read_request(self, path: Path) -> str:
        try:
            return path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise InvokeError(f"Cannot read the request file {path} ({exc}); pick another "
                              "file or type the JSON body.") from exc

    def invoke(self, view: EndpointView, target: str | None, body: str) -> InvokeResult:
        """POST ``body`` to the endpoint, or pinned to deployment ``target``."""
        url, headers = self._route(view, target)
        started = time.perf_counter()
        try:
            response = httpx.post(url, content=body.encode("utf-8"), headers=headers,
                                  timeout=INVOKE_TIMEOUT_S)
        except httpx.HTTPError as exc:
            raise InvokeError(f"Calling {url} failed ({exc}); check that '{view.name}' is "
                              "up (its state in the tree) and see its logs.") from exc
        latency = (time.perf_counter() - started) * 1000
        answered = response.headers.get(PIN_HEADER) or _owner_of(view, url)
        return InvokeResult(target or "endpoint", url, response.status_code,
                            response.reason_phrase, answered,
                            tuple(response.headers.items()), response.text, latency)

    # -- helpers ----------------------------------------------------------------------------
    def _route(self, view: EndpointView, target: str | None) -> tuple[str, dict[str, str]]:
        headers = {"Content-Type": "application/json"}
        uri = view.scoring_uri or ""
        routed = bool(uri) and not any(uri.startswith(u) for d in view.deployments
                                       for u in d.urls)
        if target is not None and not routed:
            found = view.deployment(target)
            if found is None or not found.urls:
                raise InvokeError(f"Deployment '{target}' of '{view.name}' has no running "
                                  "replica; start the endpoint (u) and try again.")
            return found.urls[0] + "/score", headers
        if not view.scoring_uri:
            raise InvokeError(f"Endpoint '{view.name}' has no live deployment to call; start "
                              "it (u), give a deployment traffic (t) or pin one.")
        if target is not None:
            headers[PIN_HEADER] = target
        if routed:
            headers.update(self._auth_header(view))
        return view.scoring_uri, headers

    def _auth_header(self, view: EndpointView) -> dict[str, str]:
        from devkit.router.clients import authorization

        try:
            return authorization(view.name)
        except DevkitError:
            return {}  # no router config: nothing checks auth

    def _engine_of(self, endpoint: str) -> Engine:
        engine = self._owner.get(endpoint)
        if engine is None:
            raise EndpointNotFound(f"Endpoint '{endpoint}' is not running on any engine; "
                                   "start it first (u).")
        return engine

    def _deployment_names(self, endpoint: str) -> list[str]:
        spec = self._specs.get(endpoint)
        if spec is not None:
            return [d.name for d in spec.deployments]
        found = self._engine_of(endpoint).status(endpoint)
        return [d.name for d in found[0].deployments] if found else []


def _origin(url: str) -> str:
    parsed = httpx.URL(url)
    return f"{parsed.scheme}://{parsed.host}:{parsed.port}"


def _owner_of(view: EndpointView, url: str) -> str | None:
    return next((d.name for d in view.deployments
                 if any(url.startswith(u) for u in d.urls)), None)


def _has_yaml(path: Path) -> bool:
    return path.is_file() or any(path.glob("*.yml")) or any(path.glob("*.yaml"))
