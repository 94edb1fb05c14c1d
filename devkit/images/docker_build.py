"""Run one ``docker build`` and stream it: each Dockerfile step and pip line goes to the
caller's progress callback, and any failure becomes an ImageBuildError carrying the failing
step and its last output lines (docker SDK errors are translated here, nowhere else).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

import docker
import docker.errors

from devkit.errors import ImageBuildError

Progress = Callable[[str], None]
TAIL_LINES = 12


def docker_build(client: docker.DockerClient, context: Path, tag: str, *,
                 labels: Mapping[str, str], progress: Progress,
                 dockerfile: str = "Dockerfile", what: str = "image") -> str:
    """Build ``context`` as ``tag`` and return the image id."""
    tail: list[str] = []
    step = ""
    error = ""
    try:
        stream = client.api.build(path=str(context), dockerfile=dockerfile, tag=tag,
                                  labels=dict(labels), rm=True, forcerm=True, decode=True,
                                  pull=False)
        # The stream is read to its end even after an error, so its connection closes.
        for message in stream:
            if "error" in message:
                error = str(message["error"]).strip()
            for line in _lines(message):
                tail.append(line)
                del tail[:-TAIL_LINES]
                if line.startswith("Step "):
                    step = line
                progress(line)
        if error:
            raise _failed(what, step, tail + [error])
        return str(client.images.get(tag).id)
    except docker.errors.DockerException as exc:
        raise _failed(what, step, tail + [str(exc)]) from exc


def image_exists(client: docker.DockerClient, tag: str) -> bool:
    """Whether the engine has ``tag`` locally (no pull)."""
    try:
        client.images.get(tag)
        return True
    except docker.errors.ImageNotFound:
        return False
    except docker.errors.DockerException as exc:
        raise ImageBuildError(f"the Docker engine could not look up {tag} ({exc}); check it "
                              "with `devkit doctor`.") from exc


def _lines(message: Mapping[str, object]) -> list[str]:
    text = message.get("stream") or message.get("status") or ""
    return [line.rstrip() for line in str(text).splitlines() if line.strip()]


def _failed(what: str, step: str, tail: list[str]) -> ImageBuildError:
    at = f" at '{step}'" if step else ""
    output = " | ".join(tail[-TAIL_LINES:])
    return ImageBuildError(
        f"building the {what} failed{at}: {output}; fix the step above (containers have no "
        "network while building, so packages must come from devkit's wheelhouse) and rerun."
    )
