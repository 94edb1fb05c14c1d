"""Pure rules of the Kubernetes target: rollout status as ``kubectl rollout status`` reads a
Deployment, what a plan shows of Secrets, and the release record rollback relies on."""

from __future__ import annotations

from typing import Any

from devkit.promote.kubernetes import diff, history, rollout


def _deployment(generation: int = 2, observed: int = 2, replicas: int = 3, updated: int = 3,
                total: int = 3, available: int = 3,
                conditions: list[dict[str, str]] | None = None) -> dict[str, Any]:
    return {"metadata": {"name": "e-blue", "generation": generation},
            "spec": {"replicas": replicas},
            "status": {"observedGeneration": observed, "updatedReplicas": updated,
                       "replicas": total, "availableReplicas": available,
                       "conditions": conditions or []}}


def test_rollout_status_follows_kubectls_rules() -> None:
    assert rollout.status(_deployment()).done
    waiting = rollout.status(_deployment(generation=3))
    assert not waiting.done and "controller to see the new spec" in waiting.message
    assert "1 of 3 new replicas updated" in rollout.status(_deployment(updated=1)).message
    # maxUnavailable 0: the old ReplicaSet's pods are still there while new ones start.
    old = rollout.status(_deployment(total=4))
    assert not old.done and "1 old replicas pending termination" in old.message
    assert "2 of 3 updated replicas available" in rollout.status(
        _deployment(available=2)).message
    stuck = rollout.status(_deployment(updated=1, conditions=[
        {"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded",
         "message": 'ReplicaSet "e-blue-7f9" has timed out progressing.'}]))
    assert stuck.failed and not stuck.done and "timed out progressing" in stuck.message


def test_a_plan_shows_secret_changes_without_the_values() -> None:
    live = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "e"},
            "data": {"primary": "c2VjcmV0LW9uZQ==", "secondary": "c2Vjb25k"}}
    wanted = {**live, "data": {"primary": "c2VjcmV0LXR3bw==", "secondary": "c2Vjb25k"}}
    (line,) = diff.changes(live, wanted)
    assert line.startswith("data.primary: sha256:") and " -> sha256:" in line
    assert "c2VjcmV0" not in line and "secret-one" not in line
    assert diff.changes(live, live) == []


def test_a_plan_ignores_server_bookkeeping() -> None:
    wanted = {"kind": "HTTPRoute", "metadata": {"name": "e"}, "spec": {"rules": []}}
    live = {**wanted, "status": {"parents": []},
            "metadata": {"name": "e", "resourceVersion": "7", "uid": "u", "generation": 2,
                         "managedFields": [{"manager": "devkit"}], "labels": None}}
    assert diff.changes(live, wanted) == []


def _route(weight: int) -> dict[str, Any]:
    return {"kind": "HTTPRoute", "metadata": {"name": "e"}, "spec": {"rules": [
        {"backendRefs": [{"name": "e-blue", "weight": weight}]}]}}


def test_the_release_record_keeps_its_previous_release_across_reapplies() -> None:
    secret = {"kind": "Secret", "metadata": {"name": "e"}, "data": {"primary": "a2V5"}}
    v1 = [secret, _route(90)]
    v2 = [secret, _route(70)]
    first = history.stamp(_route(90), v1, None)
    assert history.previous(first) is None
    second = history.stamp(_route(70), v2, first, {"endpoint": "e", "note": "v2"})
    recorded = history.previous(second)
    assert recorded is not None and recorded.release is None
    assert recorded.objects[1]["spec"] == _route(90)["spec"]
    assert "data" not in recorded.objects[0]  # keys never go into an annotation
    now = history.current(second)
    assert now is not None and now.release == {"endpoint": "e", "note": "v2"}
    again = history.stamp(_route(70), v2, second, {"endpoint": "e", "note": "v2"})
    assert again["metadata"]["annotations"] == second["metadata"]["annotations"]
    assert history.release_id(v1) != history.release_id(v2)
