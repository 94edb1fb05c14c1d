"""``devkit status``: what runs, read back from the engines (true from any shell)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import click

from devkit.cli import targeted
from devkit.cli.targeted import TARGET_HELP
from devkit.engines.base import EndpointStatus


@click.command("status")
@click.argument("endpoint", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list of endpoints.")
@click.option("--target", "target", default=None, metavar="T", help=TARGET_HELP)
def status(endpoint: str | None, as_json: bool, target: str | None) -> None:
    """Show endpoints, their deployments, health, replicas and traffic.

    \b
    Examples:
      devkit status
      devkit status regression --json
    """
    if target is not None:
        return targeted.status(target, endpoint, as_json)
    from devkit import actions

    reports = actions.status(endpoint)
    if as_json:
        click.echo(json.dumps([r.to_json() for r in reports], indent=2))
    elif not reports:
        click.echo("No endpoints are running; start one with `devkit up PATH`.")
    else:
        click.echo(render_table([r.status for r in reports]))
        for report in reports:
            rebuilds = {r.deployment for r in report.rebuilds}
            if report.status.router_reason:
                click.echo(f"\n{report.name}: not reachable: {report.status.router_reason}")
            for d in report.status.deployments:
                if d.scale is not None:
                    click.echo(f"\n{report.name}/{d.name}: {scale_sentence(d.scale)}")
                if d.error:
                    click.echo(f"\n{report.name}/{d.name}: {d.error}")
                elif d.reason:
                    click.echo(f"\n{report.name}/{d.name}: not ready: {d.reason}")
                for replica in d.replica_status:
                    note = replica.crash_note()
                    if note:
                        click.echo(f"{report.name}/{d.name}-{replica.index}: {note}")
                lines = next((r.last_lines for r in d.replica_status if r.last_lines), None)
                if d.reason and lines:
                    click.echo("  last log lines:\n" + "\n".join(
                        f"    {line}" for line in lines.splitlines()))
                if d.name in rebuilds:
                    click.echo(f"{report.name}/{d.name} needs a rebuild: its environment "
                               "changed; run `devkit up` to rebuild and restart only it.")


def scale_sentence(scale: Mapping[str, Any]) -> str:
    """What the autoscaler last said about a deployment, in one or two lines."""
    used = scale.get("utilization")
    shown = f"{used:.0%}" if isinstance(used, (int, float)) else "unknown"
    text = (f"autoscaling ({scale.get('loop', 'stopped')}), {scale.get('current')} replica(s) "
            f"in {scale.get('min')}..{scale.get('max')}, utilization {shown} (target "
            f"{scale.get('target')}%); last decision: {scale.get('last_decision')} at "
            f"{scale.get('at') or '-'}: {scale.get('reason') or '-'}")
    if scale.get("capped"):
        text += f"\n  {scale['capped']}"
    if scale.get("error"):
        text += f"\n  last failure: {scale['error']}"
    return text


def render_table(endpoints: list[EndpointStatus]) -> str:
    """One row per deployment: endpoint, engine, deployment, state, replicas, traffic,
    mirror, scoring URI (on the endpoint's first row)."""
    header = ("ENDPOINT", "ENGINE", "DEPLOYMENT", "STATE", "REPLICAS", "TRAFFIC", "MIRROR",
              "SCORING URI")
    rows: list[tuple[str, ...]] = [header]
    for ep in endpoints:
        for i, d in enumerate(ep.deployments):
            first = i == 0
            replicas = str(d.replicas)
            if d.scale is not None:  # autoscaled: its bounds beside the count
                replicas += f" ({d.scale.get('min')}-{d.scale.get('max')})"
            rows.append((ep.name if first else "", ep.engine if first else "", d.name,
                         d.state.value, replicas, f"{d.traffic}%", f"{d.mirror}%",
                         (ep.scoring_uri or "-") if first else ""))
    widths = [max(len(r[c]) for r in rows) for c in range(len(header))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip()
                     for r in rows)
