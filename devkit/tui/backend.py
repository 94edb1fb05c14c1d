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
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import httpx

from devkit import actions
from devkit.actions.compare import ShadowReport
from devkit.actions.rollout import Event, RolloutOutcome, RolloutPlan
from devkit.actions.router_view import RouterView
from devkit.engines.base import EndpointStatus, Progress
from devkit.errors import DevkitError, EndpointNotFound, InvokeError, SpecError
from devkit.reload import ReplicaReload, recall_spec
from devkit.spec import load
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

HTTP_TIMEOUT_S = 1.0  # status-type calls: a slow answer must not hold the poll up
INVOKE_TIMEOUT_S = 60.0


class Backend:
    """The endpoints in ``spec_paths`` (folders or endpoint files) and everything the
    engines named in ``engines`` run (default: every engine that answers). Each action is
    one call into :mod:`devkit.actions`, the same one the CLI makes."""

    def __init__(self, spec_paths: Sequence[Path] = (), engines: Sequence[str] | None = None,
                 up_engine: str | None = None, quiet_missing_spec: bool = False) -> None:
        self.spec_paths = list(spec_paths)
        self.scope = actions.Scope.of(engines)
        self.up_engine = up_engine
        # `devkit` run in a folder without specs is fine: it still shows running endpoints.
        self.quiet_missing_spec = quiet_missing_spec
        self._specs: dict[str, Endpoint] = {}
        self._running: dict[str, EndpointStatus] = {}
        self._places: dict[str, actions.Place] = {}
        # Promoted endpoints' views, built once (each costs a connection to the target and
        # a read of its keys; the side-by-side screen asks every second).
        self._target_views: dict[str, RouterView] = {}

    # -- reading state --------------------------------------------------------------------
    def snapshot(self) -> Snapshot:
        """One look at every endpoint: running ones from their place, the rest from the
        spec."""
        errors: list[str] = []
        specs = self._load_specs(errors)
        found, failed = actions.running(self.scope)
        errors += failed
        running: dict[str, EndpointStatus] = {}
        for place, status in found:
            if status.name not in running:
                running[status.name] = status
                self._places[status.name] = place
        self._running = running
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

    def reload_outcome(self, view: EndpointView, deployment: str) -> ReplicaReload | None:
        """The last reload the deployment's first replica reports, if any."""
        status = self._running.get(view.name)
        place = self._places.get(view.name)
        if status is None or place is None or status.deployment(deployment) is None:
            return None
        return actions.last_reload(place, status, deployment, self._specs.get(view.name))

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
        where = targets.split(view.name)
        if where is not None:  # promoted: the target's router (or its refusal to measure)
            from devkit.actions.target_view import target_view

            if view.name not in self._target_views:
                self._target_views[view.name] = target_view(where[1], where[0])
            return self._target_views[view.name]
        try:
            auth = actions.authorization(view.name, scope=self.scope)
        except DevkitError:
            auth = {}  # no router config: nothing checks auth
        return RouterView(view.name, view.scoring_uri, LocalTraffic(view.engine), auth)

    def log_feed(self, endpoint: str, deployment: str | None,
                 tail: int = 200) -> queue.Queue[str | None]:
        """Follow the logs into a queue (``None`` ends it). A daemon thread does the
        reading because an engine's follow blocks until the next line arrives: the
        caller's worker polls the queue and can stop at once; the reader dies with the
        process instead of holding the app's exit up."""
        lines = actions.logs(endpoint, deployment=deployment, follow=True, tail=tail,
                             scope=self.scope)
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
        actions.up(self._spec(endpoint, "start it with `devkit up PATH`"),
                   engine=self.up_engine, scope=self.scope, progress=progress)

    def down(self, endpoint: str) -> None:
        actions.down(endpoint, scope=self.scope)

    def restart(self, endpoint: str, progress: Progress) -> None:
        """Remove and start again: a fresh replica set, images rebuilt where they changed."""
        actions.restart(self._spec(endpoint, f"run `devkit down {endpoint}` and `devkit up "
                                             "PATH`"), scope=self.scope, progress=progress)

    def reload(self, view: EndpointView, deployment: str) -> list[ReplicaReload]:
        """Reload the scoring code in every replica of ``deployment``, one outcome each."""
        report = actions.reload(view.name, deployment=deployment,
                                spec=self._specs.get(view.name), scope=self.scope)
        return list(report.outcomes)

    def debug(self, endpoint: str, deployment: str, progress: Progress,
              off: bool = False) -> str:
        """Restart ``deployment`` under debugpy (or back to its spec with ``off``),
        writing the VS Code files; returns the text to show."""
        spec = self._specs.get(endpoint)
        if off:
            actions.debug_off(endpoint, deployment, spec=spec, scope=self.scope,
                              progress=progress)
            return f"{endpoint}/{deployment}: debugger off, running as its spec says."
        return actions.debug_on(endpoint, deployment, spec=spec, scope=self.scope,
                                progress=progress).instructions()

    def set_traffic(self, endpoint: str, traffic: Mapping[str, int],
                    mirror: Mapping[str, int]) -> bool:
        """Apply weights live; True when a running router applied them."""
        if targets.split(endpoint) is not None:  # an endpoint promoted to a target
            return targets.set_traffic(endpoint, traffic, mirror)
        return actions.set_traffic(endpoint, traffic, mirror, scope=self.scope).applied

    def credentials(self, endpoint: str, regenerate: str | None = None) -> dict[str, str]:
        """Keys (auth_mode key) or a fresh token (aml_token) for ``endpoint``."""
        if regenerate:
            return actions.keys(endpoint, regenerate=regenerate, scope=self.scope).as_json()
        return actions.credentials(endpoint, scope=self.scope)

    def read_request(self, path: Path) -> str:
        try:
            return path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise InvokeError(f"Cannot read the request file {path} ({exc}); pick another "
                              "file or type the JSON body.") from exc

    def invoke(self, view: EndpointView, target: str | None, body: str) -> InvokeResult:
        """POST ``body`` to the endpoint, or pinned to deployment ``target``."""
        route = actions.Route(view.name, view.scoring_uri,
                              tuple(d.name for d in view.deployments))
        answer = actions.invoke(route, body.encode("utf-8"), deployment=target,
                                timeout_s=INVOKE_TIMEOUT_S, scope=self.scope)
        return InvokeResult(target or "endpoint", answer.url, answer.status, answer.reason,
                            answer.answered_by, answer.headers,
                            answer.body.decode("utf-8", errors="replace"), answer.elapsed_ms)

    # -- helpers ----------------------------------------------------------------------------
    def _spec(self, endpoint: str, instead: str) -> Endpoint:
        spec = self._specs.get(endpoint)
        if spec is None:
            raise SpecError(f"No spec for endpoint '{endpoint}' was loaded, so it cannot be "
                            "started from here; run `devkit` in the folder holding its "
                            f"endpoint.yml, or {instead}.")
        return spec


def _origin(url: str) -> str:
    parsed = httpx.URL(url)
    return f"{parsed.scheme}://{parsed.host}:{parsed.port}"


def _has_yaml(path: Path) -> bool:
    return path.is_file() or any(path.glob("*.yml")) or any(path.glob("*.yaml"))
