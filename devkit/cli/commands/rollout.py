"""``devkit rollout``: shift traffic to a deployment step by step, checked, with rollback."""

from __future__ import annotations

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
def rollout(endpoint: str, candidate: str, steps: tuple[int, ...], interval: float,
            max_error_rate: float, max_p99_ratio: float, p99_slack: float,
            min_agreement: float, min_requests: int, max_wait: float | None,
            as_json: bool) -> None:
    """Shift ENDPOINT's live traffic to CANDIDATE step by step, checking it against the
    deployment that has the traffic now (the incumbent) after every step, from the
    router's own counters; roll back to where it started on the first failed check.

    A step passes when the candidate answered at least --min-requests in it, with an
    error rate within --max-error-rate and a p99 within --max-p99-ratio of the
    incumbent's. When CANDIDATE is mirrored (`devkit traffic E blue=100 --mirror
    green=10`), the shadow diff must agree on --min-agreement first. Exit status 0 only
    when CANDIDATE reached the last step; 9 after a rollback; 130 when stopped (Ctrl-C
    leaves the traffic where the last completed step put it).

    \b
    Examples:
      devkit rollout regression green
      devkit rollout regression green --steps 10,50,100 --interval 1m --max-error-rate 0.5%
      devkit rollout regression green --interval 10s --json
    """
    from devkit.actions.rollout import ROLLED_BACK, Event, RolloutPlan
    from devkit.actions.rollout import rollout as run
    from devkit.actions.router_view import local_view
    from devkit.errors import RolloutFailed

    plan = RolloutPlan(steps=steps, interval_s=interval, max_error_rate=max_error_rate,
                       max_p99_ratio=max_p99_ratio, p99_slack_ms=p99_slack * 1000,
                       min_agreement=min_agreement, min_requests=min_requests,
                       max_wait_s=max_wait)

    def show(event: Event) -> None:
        if as_json:
            click.echo(json.dumps(event.as_json()))
        else:
            click.echo(f"[{event.kind}] {event.message}")

    outcome = run(local_view(endpoint), candidate, plan, on_event=show)
    if outcome.result == ROLLED_BACK:
        raise RolloutFailed(f"The rollout of {candidate} on '{endpoint}' was rolled back: "
                            f"{outcome.reason}; see `devkit compare {endpoint}` and "
                            f"`devkit logs {endpoint} -d {candidate}`.")
    if not outcome.ok:
        raise click.exceptions.Exit(130)
