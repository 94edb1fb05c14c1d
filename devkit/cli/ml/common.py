"""What every ``devkit ml`` verb shares: az's group behaviour, global flags and output.

* :class:`AzGroup` -- a verb devkit does not have is one sentence naming the verbs it has.
* :func:`az_command` -- adds ``--query``, ``-o/--output`` and az's global and workspace
  flags (``-g/--resource-group``, ``-w/--workspace-name``, ``--subscription``,
  ``--local``, ``--no-wait``, ``--debug``, ``--verbose``, ``--only-show-errors``), which a
  cloud script passes and which mean nothing locally: accepted and ignored. The wrapped
  function returns its result; the wrapper prints it with az's rules.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import click

from devkit.cli.ml.output import FORMATS, emit
from devkit.errors import DevkitError

_IGNORED = ("resource_group", "workspace_name", "subscription", "local", "no_wait",
            "debug", "verbose", "only_show_errors")


class UnsupportedVerb(DevkitError):
    """``devkit ml`` was asked for a verb it does not implement."""

    exit_code = 2


class AzGroup(click.Group):
    """A command group whose unknown verbs get one sentence naming the supported ones."""

    def resolve_command(self, ctx: click.Context,
                        args: list[str]) -> tuple[str | None, click.Command | None, list[str]]:
        name = args[0] if args else ""
        if name and not name.startswith("-") and self.get_command(ctx, name) is None:
            verbs = ", ".join(sorted(self.list_commands(ctx)))
            raise UnsupportedVerb(f"`{_path(ctx)} {name}` is not supported by devkit; "
                                  f"it supports: {verbs}.")
        return super().resolve_command(ctx, args)


def _path(ctx: click.Context) -> str:
    """``devkit ml online-endpoint`` however devkit was started (``az``, ``python -m``)."""
    names: list[str] = []
    while ctx.parent is not None:
        names.insert(0, ctx.info_name or "")
        ctx = ctx.parent
    return " ".join(["devkit", *names])


def az_command(group: click.Group, name: str, *, output: bool = True
               ) -> Callable[[Callable[..., Any]], click.Command]:
    """Register ``function`` as ``group``'s verb ``name`` with az's shared flags."""

    def decorate(function: Callable[..., Any]) -> click.Command:
        @functools.wraps(function)
        def run(**kwargs: Any) -> None:
            query, fmt = kwargs.pop("query", None), kwargs.pop("output_format", "json")
            for key in _IGNORED:
                kwargs.pop(key, None)
            result = function(**kwargs)
            if output and result is not None:
                emit(result, query, fmt)

        command = run
        if output:
            command = click.option("--query", default=None, metavar="JMESPATH",
                                   help="JMESPath query applied to the result.")(command)
            command = click.option("-o", "--output", "output_format", default="json",
                                   type=click.Choice(FORMATS), show_default=True,
                                   help="Output format.")(command)
        for flags, kind in ((("-g", "--resource-group"), str), (("-w", "--workspace-name"), str),
                            (("--subscription",), str)):
            command = click.option(*flags, type=kind, default=None, hidden=True)(command)
        for flag in ("--local", "--no-wait", "--debug", "--verbose", "--only-show-errors"):
            command = click.option(flag, is_flag=True, hidden=True)(command)
        return group.command(name)(command)

    return decorate


def sets_option(function: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--set", "sets", multiple=True, metavar="PATH=VALUE",
                        help="Override a field of the spec before validation (repeatable), "
                             "e.g. --set instance_count=2.")(function)


def yes_option(function: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("-y", "--yes", is_flag=True,
                        help="Do not ask for confirmation.")(function)


def confirm(yes: bool, question: str) -> None:
    """az's prompt before deleting; ``--yes`` skips it, a closed stdin aborts."""
    if not yes and not click.confirm(question, default=False, err=True):
        raise click.exceptions.Abort()
