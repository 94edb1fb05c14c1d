"""``devkit reload``: reload a running endpoint's scoring code now and show each outcome.

Saving a file already reloads (the runtime watches its code folder); this is for when
watching is off (``up --no-watch``), for scripts, and to see the last outcome.
"""

from __future__ import annotations

import json
from pathlib import Path

import click


@click.command("reload")
@click.argument("endpoint")
@click.option("--deployment", "-d", default=None, help="Only this deployment.")
@click.option("--last", is_flag=True, help="Show the last reload of each replica; reload "
                                           "nothing.")
@click.option("--spec", "spec_path", type=click.Path(exists=True, path_type=Path),
              default=None, help="The endpoint's folder, when devkit did not record it.")
@click.option("--json", "as_json", is_flag=True, help="Print the outcomes as JSON.")
def reload(endpoint: str, deployment: str | None, last: bool, spec_path: Path | None,
           as_json: bool) -> None:
    """Reload ENDPOINT's score.py in every replica, without a restart or rebuild.

    A failed reload keeps the previous version serving and prints the file and line
    at fault. Environment changes (conda file, Dockerfile) cannot reload: they are
    reported as "needs a rebuild" for `devkit up`.

    \b
    Examples:
      devkit reload regression
      devkit reload regression -d green --json
      devkit reload regression --last
    """
    from devkit import actions
    from devkit.reload import summary
    from devkit.spec import load

    spec = load([spec_path]) if spec_path else None
    report = actions.reload(endpoint, deployment=deployment, last=last, spec=spec)
    if as_json:
        click.echo(json.dumps(report.to_json(), indent=2))
    else:
        for line in summary(list(report.outcomes)):
            click.echo(line)
        for needed in report.rebuilds:
            click.echo(needed.sentence())
    report.raise_if_failed()
