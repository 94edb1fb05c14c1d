"""``devkit doctor``: what this machine offers devkit, one line per check, each with a fix.

Checks are small functions returning a :class:`Check`; the command prints them (or a JSON
list of ``{"check", "status", "detail", "fix"}``) and exits 0 unless a check failed.
Warnings (no Docker engine, no NVIDIA runtime, port 5001 taken) leave devkit usable.
"""

from __future__ import annotations

import json
import os
import socket
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from devkit.engines.docker.client import DockerClient

OK, WARN, FAIL = "ok", "warn", "fail"
DEFAULT_PORT = 5001


@dataclass(frozen=True)
class Check:
    check: str
    status: str  # ok | warn | fail
    detail: str
    fix: str = ""


def check_python() -> Check:
    version = ".".join(str(p) for p in sys.version_info[:3])
    return Check("python", OK, f"Python {version} ({sys.executable})")


def check_engine(client: DockerClient | None, error: str) -> Check:
    if client is None:
        return Check("docker engine", WARN,
                     f"no engine answers ({error}): the process engine will be used",
                     "start Docker (`sudo systemctl start docker` or `sudo dockerd &`) to run "
                     "deployments in containers")
    version = client.version()
    return Check("docker engine", OK, f"Docker {version.get('Version')} "
                 f"(API {version.get('ApiVersion')}, {version.get('Os')}/"
                 f"{version.get('Arch')})")


def check_nvidia(client: DockerClient | None) -> Check:
    if client is None:
        return Check("nvidia runtime", WARN, "no engine to ask", "start Docker first")
    runtimes = sorted(client.info().get("Runtimes") or {})
    if "nvidia" in runtimes:
        return Check("nvidia runtime", OK, f"runtimes: {', '.join(runtimes)}")
    return Check("nvidia runtime", WARN, f"runtimes: {', '.join(runtimes) or 'none'}; GPU "
                 "deployments will be refused", "install nvidia-container-toolkit and "
                 "restart Docker, if this machine has an NVIDIA GPU")


def check_base_image(client: DockerClient | None) -> Check:
    from devkit.images.base import base_image_tag

    tag = base_image_tag()
    if client is None:
        return Check("base image", WARN, f"{tag}: no engine to ask", "start Docker first")
    facts = client.image_facts(tag)
    if facts is None:
        return Check("base image", WARN, f"{tag} is not present",
                     f"run `sudo devkit base-image --tag {tag}` (about a minute)")
    short_id, size = facts
    return Check("base image", OK, f"{tag} ({short_id}, {size / 1e6:.0f} MB)")


def check_wheelhouse() -> Check:
    from devkit.images.wheelhouse import wheelhouse_root

    root = wheelhouse_root()
    files = list(root.rglob("*.whl")) if root.is_dir() else []
    size = sum(p.stat().st_size for p in files) / 1e6
    return Check("wheelhouse", OK, f"{root}: {len(files)} wheels, {size:.0f} MB",
                 f"delete {root} to reclaim space (it refills on the next build)"
                 if size > 2000 else "")


def check_debootstrap() -> Check:
    from devkit.errors import ImageBuildError
    from devkit.images.base import find_debootstrap

    try:
        path = find_debootstrap()
    except ImageBuildError:
        return Check("debootstrap", WARN, "not installed (needed only by `devkit base-image`)",
                     "apt-get install debootstrap")
    root = "" if os.geteuid() == 0 else "; `devkit base-image` needs sudo"
    return Check("debootstrap", OK, f"{path}{root}")


def check_ports(port: int = DEFAULT_PORT) -> list[Check]:
    checks = []
    if _can_bind(port):
        checks.append(Check(f"port {port}", OK, f"127.0.0.1:{port} is free"))
    else:
        checks.append(Check(f"port {port}", WARN, f"127.0.0.1:{port} is taken; devkit will "
                            "use the next free port", "stop what listens there if you want "
                            f"{port}"))
    if _can_bind(0):
        checks.append(Check("free ports", OK, "the OS hands out free loopback ports"))
    else:
        checks.append(Check("free ports", FAIL, "cannot bind any port on 127.0.0.1",
                            "check the loopback interface and local firewall rules"))
    return checks


def _can_bind(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _engine() -> tuple[DockerClient | None, str]:
    from devkit.engines.docker.client import DockerClient
    from devkit.errors import DevkitError

    try:
        return DockerClient.connect(timeout=5), ""
    except DevkitError as exc:
        return None, str(exc).splitlines()[0][:160]


def run_checks() -> list[Check]:
    client, error = _engine()
    guarded: list[tuple[str, Callable[[], Check]]] = [
        ("docker engine", lambda: check_engine(client, error)),
        ("nvidia runtime", lambda: check_nvidia(client)),
        ("base image", lambda: check_base_image(client)),
    ]
    checks = [check_python()]
    checks += [_guard(name, make) for name, make in guarded]
    checks += [check_wheelhouse(), check_debootstrap(), *check_ports()]
    if client is not None:
        client.close()
    return checks


def _guard(name: str, make: Callable[[], Check]) -> Check:
    """An engine that answers ping but fails later is a failed check, not a crash."""
    try:
        return make()
    except Exception as exc:  # the engine's errors are data for this report
        return Check(name, FAIL, f"the engine answered, then failed: {exc}",
                     "check `docker info` and the engine's log")


@click.command("doctor")
@click.option("--json", "as_json", is_flag=True, help="Print the checks as a JSON list.")
def doctor(as_json: bool) -> None:
    """Check what devkit needs: Docker, NVIDIA runtime, base image, wheelhouse, ports.

    Exits 0 when nothing failed (warnings included).

    \b
    Example:
      devkit doctor --json
    """
    checks = run_checks()
    if as_json:
        click.echo(json.dumps([asdict(c) for c in checks], indent=2))
    else:
        for check in checks:
            fix = f"\n      fix: {check.fix}" if check.fix and check.status != OK else ""
            click.echo(f"[{check.status:>4}] {check.check}: {check.detail}{fix}")
    if any(c.status == FAIL for c in checks):
        raise click.exceptions.Exit(1)
