"""``devkit targets``: list promote targets and check each answers; add and remove them."""

from __future__ import annotations

import json

import click


@click.group("targets", invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True, help="Print the targets as JSON.")
@click.pass_context
def targets(ctx: click.Context, as_json: bool) -> None:
    """List the targets of the targets files and check that each one answers.

    Targets come from the user's file (~/.config/devkit/targets.yml, or
    $DEVKIT_CONFIG_DIR/targets.yml) and the project's ./devkit-targets.yml, which wins on
    a name. Exit code 0 only when every target answers.

    \b
    Examples:
      devkit targets
      devkit targets --json
      devkit targets add local --kind swarm --registry 127.0.0.1:5000
      devkit targets rm local
    """
    if ctx.invoked_subcommand is not None:
        return
    from devkit.actions.targets import check_targets
    from devkit.promote.targets import project_file, user_file

    checks = check_targets()
    if as_json:
        click.echo(json.dumps([c.to_json() for c in checks], indent=2))
    elif not checks:
        click.echo(f"No targets in {user_file()} or {project_file()}; add one with "
                   "`devkit targets add NAME --kind swarm --registry HOST:PORT`.")
    for check in checks if not as_json else []:
        where = check.target.docker_host or check.target.context or check.target.kubeconfig
        state = "reachable" if check.reachable else "UNREACHABLE"
        click.echo(f"{check.target.name}  {check.target.kind}  {where or 'local engine'}  "
                   f"registry {check.target.registry}  {state}"
                   + (f"  endpoints: {', '.join(check.endpoints)}" if check.endpoints else ""))
        if not check.reachable:
            click.echo(f"  {check.detail}", err=True)
    if any(not c.reachable for c in checks):
        raise SystemExit(1)


@targets.command("add")
@click.argument("name")
@click.option("--kind", type=click.Choice(["swarm", "kubernetes"]), required=True)
@click.option("--registry", required=True, metavar="HOST:PORT",
              help="The registry the target's nodes pull release images from.")
@click.option("--docker-host", default=None, metavar="URL",
              help="Swarm manager's Docker API (unix://, tcp://, ssh://).")
@click.option("--context", default=None, metavar="CTX",
              help="A docker context (swarm) or kubeconfig context (kubernetes).")
@click.option("--kubeconfig", default=None, metavar="FILE")
@click.option("--namespace", default=None, metavar="NS")
@click.option("--address", default=None, help="Where clients reach published ports.")
@click.option("--published-port", type=int, default=None,
              help="First host port a router may publish on (default 30080).")
@click.option("--project", is_flag=True, help="Write ./devkit-targets.yml, not the user's file.")
def add(name: str, kind: str, registry: str, docker_host: str | None, context: str | None,
        kubeconfig: str | None, namespace: str | None, address: str | None,
        published_port: int | None, project: bool) -> None:
    """Add (or replace) target NAME in the targets file.

    \b
    Examples:
      devkit targets add local --kind swarm --docker-host unix:///var/run/docker.sock \\
          --registry 127.0.0.1:5000
      devkit targets add aks --kind kubernetes --kubeconfig ~/.kube/config --namespace ml \\
          --registry myacr.azurecr.io:443
    """
    from devkit.promote.targets import (
        DEFAULT_PUBLISHED_PORT,
        Target,
        add_target,
        project_file,
        user_file,
    )

    path = project_file() if project else user_file()
    add_target(Target(name=name, kind=kind, registry=registry, docker_host=docker_host,
                      context=context, kubeconfig=kubeconfig, namespace=namespace,
                      address=address,
                      published_port=published_port or DEFAULT_PUBLISHED_PORT), path)
    click.echo(f"target {name} written to {path}")


@targets.command("rm")
@click.argument("name")
@click.option("--project", is_flag=True, help="Edit ./devkit-targets.yml, not the user's file.")
def rm(name: str, project: bool) -> None:
    """Remove target NAME from the targets file (nothing on the target is touched).

    \b
    Example:
      devkit targets rm local
    """
    from devkit.promote.targets import project_file, remove_target, user_file

    path = project_file() if project else user_file()
    remove_target(name, path)
    click.echo(f"target {name} removed from {path}")
