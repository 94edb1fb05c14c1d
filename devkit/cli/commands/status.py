"""``devkit status``: what runs, read back from the engines (true from any shell)."""

from __future__ import annotations

import json

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
    from devkit.engines import available_engines, find_endpoint

    if endpoint is not None:
        found = [find_endpoint(endpoint)[1]]
    else:
        found = [s for engine in available_engines() for s in engine.status()]
    rebuilds = {s.name: _rebuilds(s) for s in found}
    if as_json:
        click.echo(json.dumps([{**s.to_json(), "needs_rebuild": rebuilds[s.name]}
                               for s in found], indent=2))
    elif not found:
        click.echo("No endpoints are running; start one with `devkit up PATH`.")
    else:
        click.echo(render_table(found))
        for s in found:
            for d in s.deployments:
                if d.error:
                    click.echo(f"\n{s.name}/{d.name}: {d.error}")
                if d.name in rebuilds[s.name]:
                    click.echo(f"{s.name}/{d.name} needs a rebuild: its environment changed; "
                               "run `devkit up` to rebuild and restart only it.")


def _rebuilds(status: EndpointStatus) -> list[str]:
    """Deployments whose environment changed since they started (empty when devkit does not
    know the endpoint's spec files)."""
    from devkit.errors import SpecError
    from devkit.reload import rebuilds_needed, recall_spec

    try:
        spec = recall_spec(status.name)
    except SpecError:  # a half-edited YAML file must not break `status`
        return []
    return [r.deployment for r in rebuilds_needed(status, spec)] if spec else []


def render_table(endpoints: list[EndpointStatus]) -> str:
    """One row per deployment: endpoint, engine, deployment, state, replicas, traffic,
    mirror, scoring URI (on the endpoint's first row)."""
    header = ("ENDPOINT", "ENGINE", "DEPLOYMENT", "STATE", "REPLICAS", "TRAFFIC", "MIRROR",
              "SCORING URI")
    rows: list[tuple[str, ...]] = [header]
    for ep in endpoints:
        for i, d in enumerate(ep.deployments):
            first = i == 0
            rows.append((ep.name if first else "", ep.engine if first else "", d.name,
                         d.state.value, str(d.replicas), f"{d.traffic}%", f"{d.mirror}%",
                         (ep.scoring_uri or "-") if first else ""))
    widths = [max(len(r[c]) for r in rows) for c in range(len(header))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip()
                     for r in rows)
