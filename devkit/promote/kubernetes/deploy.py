"""One promote on a cluster, start to finish: keys, render, plan, apply, wait.

:func:`converge` is what ``devkit promote --target`` runs for a Kubernetes target once the
release images are pushed: it keeps the endpoint's keys (read from its live Secret, made
the first time), renders every object, applies what the server's dry run says changed,
prunes what is gone, and waits for each changed Deployment's rollout with progress.
:func:`credentials` is also what ``devkit keys/token --target`` read.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from devkit.promote.kubernetes import apply, names, render, rollout
from devkit.promote.kubernetes.client import Cluster
from devkit.promote.kubernetes.errors import KubernetesError
from devkit.promote.kubernetes.inputs import EndpointRelease
from devkit.promote.kubernetes.settings import Credentials

Progress = Callable[[str], None]


def credentials(cluster: Cluster, endpoint: str) -> Credentials | None:
    """The keys and token secret the endpoint's live Secret holds (None: no Secret yet)."""
    return render.credentials_of(cluster.get("v1", "Secret", names.secret_name(endpoint)))


def require_credentials(cluster: Cluster, endpoint: str) -> Credentials:
    found = credentials(cluster, endpoint)
    if found is None:
        raise KubernetesError(
            f"Target '{cluster.settings.name}' has no keys for endpoint '{endpoint}' in "
            f"namespace '{cluster.settings.namespace}'; promote it there first.")
    return found


def converge(cluster: Cluster, release: EndpointRelease, progress: Progress,
             record: Mapping[str, Any] | None = None) -> apply.Plan:
    """Apply ``release`` and wait for every Deployment it changed to roll out; ``record``
    (plain JSON, the promote machinery's release) is kept for a later rollback."""
    keys = credentials(cluster, release.name) or Credentials.generate()
    manifests = render.render_release(release, cluster.settings, keys)

    def report(change: apply.Change) -> None:
        progress(f"{change.action} {change.kind} {change.name}")

    done = apply.apply(cluster, release.name, manifests, report, record)
    for change in done.pending:
        if change.kind == "Deployment" and change.action != apply.DELETE:
            rollout.wait(cluster, change.name,
                         lambda state: progress(f"rollout {state.message}"))
    if done.nothing_to_do:
        progress(f"{release.name}: target '{cluster.settings.name}' already runs this "
                 "release; nothing changed")
    return done
