"""``devkit base-image``: build devkit's Debian + Python base image from Debian packages."""

from __future__ import annotations

import click

from devkit.images.base import DEFAULT_BASE_IMAGE, BaseImageOptions, base_image_tag


@click.command("base-image")
@click.option("--tag", default=None, metavar="TAG",
              help=f"Image tag to create [default: $DEVKIT_BASE_IMAGE or {DEFAULT_BASE_IMAGE}].")
@click.option("--suite", default="bookworm", show_default=True, help="Debian suite.")
@click.option("--mirror", default=None, metavar="URL",
              help="Debian mirror [default: the one the host's apt uses].")
@click.option("--python-only", is_flag=True,
              help="Install python3 alone (no venv/pip packages): a smaller image; devkit "
                   "brings pip from its wheelhouse anyway.")
def base_image(tag: str | None, suite: str, mirror: str | None, python_only: bool) -> None:
    """Build a Debian + Python 3 base image with debootstrap and `docker import`.

    For machines that cannot pull a base image. Needs root and debootstrap.

    \b
    Example:
      sudo devkit base-image --tag devkit/base:bookworm
    """
    from devkit.engines.docker.client import DockerClient
    from devkit.errors import EngineUnavailable
    from devkit.images.base import build_base_image, preflight

    options = BaseImageOptions(tag=tag or base_image_tag(), suite=suite, mirror=mirror,
                               python_only=python_only)
    preflight()
    try:
        client = DockerClient.connect()
    except EngineUnavailable as exc:
        raise EngineUnavailable(f"{str(exc).rstrip('.')}; then rerun `devkit base-image`.") \
            from exc
    try:
        result = build_base_image(client.raw, options, progress=click.echo)
    finally:
        client.close()
    click.echo(f"built {result.tag}: {result.rootfs_mb:.0f} MB, debootstrap "
               f"{result.debootstrap_s:.0f} s, import {result.import_s:.1f} s")
