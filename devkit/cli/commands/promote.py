"""``devkit promote``: take an endpoint to a target, with a plan first."""

from __future__ import annotations

import json
import os
from pathlib import Path

import click


@click.command("promote")
@click.argument("endpoint")
@click.option("--target", "-t", default=None,
              help="Target name (default: the endpoint's `compute: azureml:NAME`).")
@click.option("--plan", "plan_only", is_flag=True, help="Show the plan; change nothing.")
@click.option("--dry-run", type=click.Path(file_okay=False, path_type=Path), default=None,
              metavar="DIR", help="Write the rendered definitions to DIR (swarm: a stack file; "
                   "kubernetes: one manifests file per endpoint).")
@click.option("--yes", "-y", is_flag=True, help="Apply without asking.")
@click.option("--overcommit", is_flag=True,
              help="Proceed when the plan does not fit, capping limits to the nodes.")
@click.option("--rollback", is_flag=True, help="Go back to the previous release on the target.")
@click.option("--json", "as_json", is_flag=True, help="Print the plan/result as JSON.")
@click.option("--verbose", "-v", is_flag=True,
              help="Show docker's raw build output too (it is always in the build's log file).")
def promote(endpoint: str, target: str | None, plan_only: bool, dry_run: Path | None,
            yes: bool, overcommit: bool, rollback: bool, as_json: bool, verbose: bool) -> None:
    """Promote ENDPOINT (a spec folder, or a local endpoint's name) to a target.

    Builds release images (environment + model layer + code layer, tagged by content),
    shows the plan (services, images by digest, replicas, traffic, keys, capacity), asks,
    pushes to the target's registry, applies and waits until every deployment is healthy.
    Promoting the same thing twice changes nothing.

    \b
    Examples:
      devkit promote samples/regression --target local --plan
      devkit promote samples/regression --target local --yes --overcommit
      devkit promote samples/regression --target local --dry-run out/
      devkit promote samples/regression --target k8s --dry-run out/
      devkit promote regression --target local --rollback
    """
    from devkit.actions.promote import PromoteOptions
    from devkit.actions.promote import promote as run_promote
    from devkit.actions.promote import rollback as roll_back
    from devkit.progress import VERBOSE_ENV, LinePrinter

    if verbose:
        os.environ[VERBOSE_ENV] = "1"
    say = LinePrinter()  # builds and pushes: one updating status line on a terminal

    if rollback:
        if not target:
            raise click.UsageError("--rollback needs --target.")
        found = roll_back(endpoint, target, say)
        click.echo(f"{endpoint}: rolled back on {target}"
                   + (f", serving at {found.scoring_uri}" if found else ""))
        return

    def confirm(plan: object) -> bool:
        say.clear()
        click.echo(plan.render())  # type: ignore[attr-defined]
        return yes or click.confirm("Apply this plan?", default=False, err=True)

    result = run_promote(endpoint, PromoteOptions(target, plan_only, dry_run, overcommit),
                         say, confirm)
    say.clear()
    if as_json:
        click.echo(json.dumps({
            "target": result.target.name, "applied": result.applied,
            "plan": result.plan.to_json() if result.plan else None,
            "stack_file": str(result.stack_file) if result.stack_file else None,
            "bytes_pushed": result.pushed.bytes_pushed if result.pushed else 0,
            "seconds": round(result.seconds, 2),
            "status": result.status.to_json() if result.status else None}, indent=2))
        if result.plan is not None:
            result.plan.require_fit()
        return
    if result.stack_file is not None:
        click.echo(f"wrote {result.stack_file} (the target was not touched)")
    elif result.plan is not None and (plan_only or result.plan.nothing_to_do):
        click.echo(result.plan.render())
        result.plan.require_fit()
    elif result.declined:
        raise click.exceptions.Exit(1)
    if result.applied and result.status is not None:
        pushed = result.pushed.bytes_pushed if result.pushed else 0
        click.echo(f"{result.status.name}: promoted to {result.target.name} in "
                   f"{result.seconds:.1f} s ({pushed / 1024 / 1024:.1f} MiB pushed), serving "
                   f"at {result.status.scoring_uri}")
