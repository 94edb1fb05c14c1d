"""The connection to one cluster, through the official ``kubernetes`` client.

:class:`Cluster` wraps ``kubernetes.dynamic.DynamicClient`` (one code path for built-in kinds
and the Gateway API's HTTPRoute, found by API discovery) and turns the client's exceptions
into :class:`KubernetesError` sentences naming the target and the object. Objects are written
with server-side apply only (field manager ``devkit``): the server merges, owns fields per
manager, and answers dry runs the same way, which is what the plan diffs.

``kubernetes`` is imported when a cluster is first used, so the rest of devkit (and
``devkit --help``) never pays for it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

from devkit.promote.kubernetes import names
from devkit.promote.kubernetes.errors import GatewayApiMissing, KubernetesError
from devkit.promote.kubernetes.settings import ClusterSettings

Manifest = dict[str, Any]
FIELD_MANAGER = "devkit"
APPLY_PATCH = "application/apply-patch+yaml"
GATEWAY_API = "gateway.networking.k8s.io/v1"
GATEWAY_INSTALL = ("kubectl apply -f https://github.com/kubernetes-sigs/gateway-api/releases/"
                   "download/v1.6.1/standard-install.yaml")
# Every kind devkit creates, in apply order; prune and down look for these only.
KINDS = (("v1", "Secret"), ("apps/v1", "Deployment"), ("v1", "Service"),
         ("autoscaling/v2", "HorizontalPodAutoscaler"), ("policy/v1", "PodDisruptionBudget"),
         ("networking.k8s.io/v1", "NetworkPolicy"), (GATEWAY_API, "HTTPRoute"))


class Cluster:
    """One target's API server: apply, get, list and delete devkit's objects."""

    def __init__(self, settings: ClusterSettings, dynamic: Any) -> None:
        self.settings = settings
        self.dynamic = dynamic
        self._resources: dict[tuple[str, str], Any | None] = {}

    @property
    def api_client(self) -> Any:
        return self.dynamic.client

    def served(self, api_version: str, kind: str) -> Any | None:
        """The API resource of a kind, or None when this server does not serve it.

        Found with the group-version's own discovery document (``/apis/GROUP/VERSION``,
        ``/api/v1``) rather than the client's walk over every group: one request per group
        version, and it also works on API servers whose group list leaves CRD groups to an
        aggregator (the standalone CRD server the tests run).
        """
        from kubernetes.dynamic.exceptions import NotFoundError
        from kubernetes.dynamic.resource import Resource

        key = (api_version, kind)
        if key not in self._resources:
            group, _, version = api_version.rpartition("/")
            path = f"/apis/{api_version}" if group else f"/api/{version}"
            with self.translated(f"discovering {api_version} {kind}"):
                try:
                    listing = self.dynamic.request("GET", path).to_dict()
                except NotFoundError:
                    listing = {}
            self._resources[key] = None
            for item in listing.get("resources", []):
                if item["kind"] == kind and "/" not in item["name"]:
                    self._resources[key] = Resource(
                        prefix="apis" if group else "api", group=group, api_version=version,
                        kind=kind, namespaced=item["namespaced"], verbs=item["verbs"],
                        name=item["name"], preferred=True, client=self.dynamic)
        return self._resources[key]

    def resource(self, api_version: str, kind: str) -> Any:
        found = self.served(api_version, kind)
        if found is not None:
            return found
        if api_version == GATEWAY_API:
            raise GatewayApiMissing(
                f"Target '{self.settings.name}' does not serve the Gateway API "
                f"({GATEWAY_API} HTTPRoute), which devkit routes an endpoint's traffic with; "
                f"install its CRDs with `{GATEWAY_INSTALL}` and a Gateway implementation "
                "(see docs/kubernetes.md).")
        raise KubernetesError(f"Target '{self.settings.name}' does not serve {api_version} "
                              f"{kind}; use a cluster that does (Kubernetes 1.23 or later).")

    def apply(self, manifest: Manifest, *, dry_run: bool = False) -> Manifest:
        """Server-side apply ``manifest`` as devkit (forcing conflicts: devkit owns what it
        renders); with ``dry_run`` the server validates, defaults and merges but stores
        nothing. Returns the object the server answered with."""
        resource = self.resource(manifest["apiVersion"], manifest["kind"])
        meta = manifest["metadata"]
        extra = {"dry_run": "All"} if dry_run else {}
        with self.translated(_describe(manifest)):
            answer = resource.patch(body=manifest, name=meta["name"],
                                    namespace=meta.get("namespace"), content_type=APPLY_PATCH,
                                    field_manager=FIELD_MANAGER, force=True, **extra)
        return dict(answer.to_dict())

    def get(self, api_version: str, kind: str, name: str) -> Manifest | None:
        from kubernetes.dynamic.exceptions import NotFoundError

        resource = self.served(api_version, kind)
        if resource is None:
            return None
        with self.translated(f"{kind} {self.settings.namespace}/{name}"):
            try:
                found = resource.get(name=name, namespace=self.settings.namespace
                                     if resource.namespaced else None)
            except NotFoundError:
                return None
        return dict(found.to_dict())

    def managed(self, endpoint: str) -> list[Manifest]:
        """Every object devkit created for ``endpoint`` in the namespace, by label; kinds the
        server does not serve cannot hold any and are skipped."""
        found: list[Manifest] = []
        for api_version, kind in KINDS:
            resource = self.served(api_version, kind)
            if resource is None:
                continue
            with self.translated(f"listing {kind}s of endpoint '{endpoint}'"):
                listed = resource.get(namespace=self.settings.namespace,
                                      label_selector=names.endpoint_selector(endpoint))
            for item in listed.to_dict().get("items", []):
                found.append({"apiVersion": api_version, "kind": kind, **item})
        return found

    def delete(self, obj: Manifest) -> None:
        from kubernetes.dynamic.exceptions import NotFoundError

        resource = self.resource(obj["apiVersion"], obj["kind"])
        meta = obj["metadata"]
        with self.translated(_describe(obj)), suppress(NotFoundError):  # gone already: fine
            resource.delete(name=meta["name"], namespace=meta.get("namespace"),
                            body={"propagationPolicy": "Background"})

    @contextmanager
    def translated(self, what: str) -> Iterator[None]:
        """The client's exceptions as one sentence naming the target and ``what``."""
        from kubernetes.client.exceptions import ApiException
        from kubernetes.dynamic.exceptions import DynamicApiError
        from urllib3.exceptions import HTTPError

        target = self.settings.name
        try:
            yield
        except (ApiException, DynamicApiError) as exc:
            status = getattr(exc, "status", None)
            message = server_message(exc)
            raise KubernetesError(
                f"Target '{target}' refused {what} ({status}): {message}; "
                f"{_fix_for(status, self.settings.namespace)}") from exc
        except HTTPError as exc:
            raise KubernetesError(
                f"Target '{target}' is unreachable while {what} ({exc}); check that its API "
                "server runs and that the kubeconfig points at it (`devkit targets`).") from exc


def connect(settings: ClusterSettings) -> Cluster:
    """A :class:`Cluster` from the target's kubeconfig (and context), or the default one."""
    from kubernetes import config, dynamic
    from kubernetes.config.config_exception import ConfigException
    from urllib3.exceptions import HTTPError

    try:
        api = config.new_client_from_config(config_file=settings.kubeconfig,
                                            context=settings.context)
    except (ConfigException, OSError) as exc:
        where = settings.kubeconfig or "the default kubeconfig (~/.kube/config)"
        raise KubernetesError(
            f"Target '{settings.name}' cannot be configured from {where} ({exc}); pass a "
            "readable kubeconfig with `devkit targets add NAME --kind kubernetes "
            "--kubeconfig FILE`.") from exc
    try:
        return Cluster(settings, dynamic.DynamicClient(api))
    except HTTPError as exc:
        raise KubernetesError(
            f"Target '{settings.name}' is unreachable ({exc}); check that its API server "
            "runs and that the kubeconfig points at it.") from exc


def server_message(exc: Exception) -> str:
    """The ``message`` of a Kubernetes Status body, else the exception's reason."""
    body = getattr(exc, "body", None)
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    if isinstance(body, str):
        try:
            return str(json.loads(body).get("message", body)).rstrip(".")
        except ValueError:
            return body.strip()
    return str(getattr(exc, "reason", None) or exc).rstrip(".")


def _fix_for(status: int | None, namespace: str) -> str:
    if status == 404:
        return (f"if it names the namespace, create it (`kubectl create namespace "
                f"{namespace}`) or set the target's namespace to one that exists")
    if status == 422:
        return "the rendered object is invalid for this cluster: fix the spec field it names"
    if status in (401, 403):
        return "the kubeconfig's user may not do this: use one with rights in the namespace"
    if status == 409:
        return "someone changed the object meanwhile: run the command again"
    return "fix what the message names, then run the command again"


def _describe(manifest: Manifest) -> str:
    meta = manifest["metadata"]
    return f"{manifest['kind']} {meta.get('namespace', '')}/{meta['name']}"
