"""``devkit rollout``: shift traffic to a deployment step by step, checked, with rollback."""

from __future__ import annotations

import dataclasses
import json

import click

from devkit.cli.units import DURATION, PERCENT, STEPS


@click.command("rollout")
@click.argument("endpoint")
@click.argument("candidate")
@click.option("--steps", type=STEPS, default="10,25,50,100", show_default=True,
              help="Traffic percentages the candidate gets, in order.")
@click.option("--interval", type=DURATION, default="30s", show_default=True,
              help="How long each step runs before its check.")
@click.option("--max-error-rate", type=PERCENT, default="1%", show_default=True,
              help="Highest error rate the candidate may show in a step.")
@click.option("--max-p99-ratio", type=float, default=1.5, show_default=True,
              help="Highest candidate p99 / incumbent p99 in a step.")
@click.option("--p99-slack", "p99_slack", type=DURATION, default="5ms", show_default=True,
              help="A p99 this close to the incumbent's passes whatever the ratio.")
@click.option("--min-agreement", type=PERCENT, default="99%", show_default=True,
              help="Lowest shadow-diff agreement, when the candidate is mirrored first.")
@click.option("--min-requests", type=int, default=50, show_default=True,
              help="Requests the candidate must answer in a step before it is judged.")
@click.option("--max-wait", type=DURATION, default=None,
              help="How long a step may wait for --min-requests (default 10 x interval).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per event.")
@click.option("--target", "target", default=None, metavar="T",
              help="Roll out the endpoint promoted to this target instead of the local one.")
@click.option("--metrics-url", default=None, metavar="URL",
              help="Read the per-deployment counters from URL (a document in the router's "
                   "/-/metrics.json format): for a Kubernetes target, which has no router "
                   "of devkit's to read them from.")
@click.option("--unchecked", is_flag=True,
              help="Step the weights every --interval without checking anything (no "
                   "rollback): for a target whose traffic devkit cannot measure.")
def rollout(endpoint: str, candidate: str, steps: tuple[int, ...], interval: float,
            max_error_rate: float, max_p99_ratio: float, p99_slack: float,
            min_agreement: float, min_requests: int, max_wait: float | None,
            as_json: bool, target: str | None, metrics_url: str | None,
            unchecked: bool) -> None:
    """Shift ENDPOINT's live traffic to CANDIDATE step by step, checking it against the
    deployment that has the traffic now (the incumbent) after every step, from the
    router's own counters; roll back to where it started on the first failed check.

    A step passes when the candidate answered at least --min-requests in it, with an
    error rate within --max-error-rate and a p99 within --max-p99-ratio of the
    incumbent's. When CANDIDATE is mirrored (`devkit traffic E blue=100 --mirror
    green=10`), the shadow diff must agree on --min-agreement first. Exit status 0 only
    when CANDIDATE reached the last step; 9 after a rollback; 130 when stopped (Ctrl-C
    leaves the traffic where the last completed step put it).

    With --target T the same rollout runs on a promote target: on Swarm, devkit's router
    service is read over its published port; on Kubernetes the HTTPRoute's weights are
    stepped, and since the cluster has no router of devkit's counting requests, a check
    needs --metrics-url (or --unchecked steps the weights without checks).

    \b
    Examples:
      devkit rollout regression green
      devkit rollout regression green --steps 10,50,100 --interval 1m --max-error-rate 0.5%
      devkit rollout regression green --interval 10s --json
      devkit rollout regression green --target prod-swarm
      devkit rollout regression green --target aks --metrics-url http://127.0.0.1:9090/m.json
    """
    from devkit.actions.rollout import ROLLED_BACK, Event, RolloutPlan
    from devkit.actions.rollout import rollout as run
    from devkit.actions.router_view import local_view
    from devkit.errors import RolloutFailed

    plan = RolloutPlan(steps=steps, interval_s=interval, max_error_rate=max_error_rate,
                       max_p99_ratio=max_p99_ratio, p99_slack_ms=p99_slack * 1000,
                       min_agreement=min_agreement, min_requests=min_requests,
                       max_wait_s=max_wait, checked=not unchecked)

    def show(event: Event) -> None:
        if as_json:
            click.echo(json.dumps(event.as_json()))
        else:
            click.echo(f"[{event.kind}] {event.message}")

    if target is not None:
        from devkit.actions.target_view import target_view

        view = target_view(target, endpoint, metrics_url)
    elif metrics_url is not None:
        view = dataclasses.replace(local_view(endpoint), metrics_url=metrics_url)
    else:
        view = local_view(endpoint)
    outcome = run(view, candidate, plan, on_event=show)
    if outcome.result == ROLLED_BACK:
        where = f" --target {target}" if target else ""
        raise RolloutFailed(f"The rollout of {candidate} on '{endpoint}' was rolled back: "
                            f"{outcome.reason}; see `devkit logs {endpoint} -d {candidate}"
                            f"{where}`" + ("" if target else f" and `devkit compare {endpoint}`")
                            + ".")
    if not outcome.ok:
        raise click.exceptions.Exit(130)
