"""Entry point of the ``devkit`` console script.

Commands live one per module under :mod:`devkit.cli.commands` and are imported lazily,
so ``devkit --help`` and ``devkit serve`` do not pay for Docker or Textual imports.
"""

from __future__ import annotations

import importlib
import sys

import click

from devkit import __version__
from devkit.errors import DevkitError

# command name -> "module:attribute" under devkit.cli.commands; add a line per command.
COMMANDS: dict[str, str] = {
    "serve": "serve:serve",
    "up": "up:up",
    "status": "status:status",
    "invoke": "invoke:invoke",
    "logs": "logs:logs",
    "down": "down:down",
    "base-image": "base_image:base_image",
    "doctor": "doctor:doctor",
    "traffic": "traffic:traffic",
    "keys": "keys:keys",
    "token": "token:token",
    "reload": "reload:reload",
    "debug": "debug:debug",
    "targets": "targets:targets",
    "promote": "promote:promote",
    "compare": "compare:compare",
    "replay": "replay:replay",
    "rollout": "rollout:rollout",
    "ml": "ml:ml",
    "data": "data:data",
    "secrets": "secrets:secrets",
    "prune": "prune:prune",
}


class LazyGroup(click.Group):
    """A click group whose subcommands are imported only when used."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, attr = target.split(":")
        module = importlib.import_module(f"devkit.cli.commands.{module_name}")
        command: click.Command = getattr(module, attr)
        return command


@click.group(cls=LazyGroup, invoke_without_command=True,
             context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="devkit")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Run, debug and ship Azure ML-style real-time endpoints on your own machine.

    On a terminal, `devkit` alone opens the terminal UI for the current folder and every
    running endpoint.

    \b
    Examples:
      devkit serve samples/regression/score.py --model-dir samples/regression/model-1
      devkit up samples/regression
    """
    if ctx.invoked_subcommand is None:
        if sys.stdin.isatty() and sys.stdout.isatty():
            from devkit.tui import run  # Textual is imported only when the TUI opens

            run()
        else:
            click.echo(ctx.get_help())


def main() -> None:
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except DevkitError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)


if __name__ == "__main__":
    main()
