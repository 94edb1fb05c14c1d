"""``devkit data``: what an endpoint's data collection wrote (CONTRACT.md §7)."""

from __future__ import annotations

import json

import click

from devkit.collection import reader
from devkit.collection.reader import Collected, folders_of, latest


@click.command("data")
@click.argument("endpoint")
@click.option("--deployment", "-d", default=None, help="Only this deployment.")
@click.option("--collection", "-c", default=None, metavar="NAME",
              help="Only this collection (model_inputs, model_outputs, request, response or a "
                   "custom name).")
@click.option("--follow", "-f", is_flag=True, help="Keep printing new events (Ctrl-C stops).")
@click.option("--lines", "-n", type=int, default=20, show_default=True,
              help="How many of the latest events to print first (0: all).")
@click.option("--json", "as_json", is_flag=True,
              help="One JSON object per line: the stored event plus deployment and collection.")
def data(endpoint: str, deployment: str | None, collection: str | None, follow: bool,
         lines: int, as_json: bool) -> None:
    """Show the data ENDPOINT's deployments collected (data_collector in their YAML).

    Files are in the project's .devkit/data/ (or $DEVKIT_DATA_DIR), laid out as in Azure:
    <endpoint>/<deployment>/<collection>/yyyy/MM/dd/HH/<instance>.jsonl.

    \b
    Examples:
      devkit data my-endpoint
      devkit data my-endpoint -d blue --collection model_inputs -n 5
      devkit data my-endpoint -f --json | jq .data
    """
    folders = folders_of(endpoint, deployment)
    for item in latest(folders, collection, lines):
        click.echo(_line(item, as_json))
    if not follow:
        return
    try:
        for item in reader.follow(folders, collection):
            click.echo(_line(item, as_json))
    except KeyboardInterrupt:
        pass


def _line(item: Collected, as_json: bool) -> str:
    return json.dumps(item.as_json()) if as_json else reader.describe(item)
