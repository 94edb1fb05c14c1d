"""The image every uv-built environment starts FROM: ``devkit-shared:<hash16>``.

It holds what environments with the same big wheels have in common: the uv binary, the venv
with the shared wheels installed (:func:`devkit.images.installer.split_shared`: numpy,
scipy, scikit-learn...), then devkit's runtime's own dependencies (uvicorn, werkzeug...:
:func:`devkit.images.installer.runtime_closure`; the runtime itself stays with the
environment), and the runtime's settings (``ENV``, ``EXPOSE``, ``ENTRYPOINT``,
``CMD``), which depend on no environment. An environment's own build is then ``FROM`` this
image, one ``COPY`` of its small wheels, one ``RUN`` and one ``LABEL``:

* its build context holds a few MB instead of every wheel (the classic builder, docker-py's
  only one on Docker 20.10, sends the whole context even when a layer is cached: the big
  wheels were ~100 MB of it);
* the classic builder runs each instruction as a container plus a commit, so the five
  settings instructions cost every environment ~1 s; here they are built once.

The hash covers the base image's id, the uv wheel, the wheels' names and sizes and the
Dockerfile text, so a new base, uv or wheel set gets a new image; the ``RUN`` line is
the one the single-image build had, so Docker's layer cache carries over. The image is
labelled ``devkit.managed=1`` (``devkit prune`` removes it once no environment image is
left on it) and ``devkit.base=0`` (the base's own label is inherited otherwise).
"""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Callable
from pathlib import Path

import docker

from devkit.images.docker_build import docker_build, image_exists, link_or_copy
from devkit.images.installer import UV_IN_IMAGE, shared_steps

Progress = Callable[[str], None]
SHARED_REPOSITORY = "devkit-shared"
SHARED_ROLE = "shared"
SHARED_HASH_LABEL = "devkit.shared-hash"
SETTINGS = """\
ENV VIRTUAL_ENV={venv} PATH={venv}/bin:$PATH PYTHONUNBUFFERED=1 \\
    SERVER_HOST=0.0.0.0 SERVER_PORT=5001
EXPOSE 5001
ENTRYPOINT []
CMD ["python", "-m", "devkit_runtime"]
"""


def shared_dockerfile(base: str, venv: str, shared: list[Path], runtime: list[Path]) -> str:
    """The shared image's Dockerfile, without its final ``LABEL`` (which names its hash)."""
    return shared_steps(base, venv, shared, runtime) + SETTINGS.format(venv=venv)


def shared_hash(client: docker.DockerClient, base: str, uv: Path, venv: str,
                shared: list[Path], runtime: list[Path]) -> str:
    digest = hashlib.sha256(b"devkit-shared/1\0")
    digest.update(str(client.images.get(base).id).encode() + b"\0")
    digest.update(uv.parent.name.encode() + b"\0")  # the uv wheel's stem: its version
    for wheel in (*shared, *runtime):
        digest.update(f"{wheel.name}:{wheel.stat().st_size}\0".encode())
    digest.update(shared_dockerfile(base, venv, shared, runtime).encode())
    return digest.hexdigest()


def ensure_shared_image(client: docker.DockerClient, base: str, uv: Path, venv: str,
                        shared: list[Path], runtime: list[Path], progress: Progress) -> str:
    """The tag of the shared image for ``base`` with the big wheels ``shared`` and the
    runtime's dependencies ``runtime``, built when it is missing."""
    key = shared_hash(client, base, uv, venv, shared, runtime)
    tag = f"{SHARED_REPOSITORY}:{key[:16]}"
    if image_exists(client, tag):
        progress(f"{tag} has the venv with {len(shared)} big wheel(s) and "
                 f"{len(runtime)} of the runtime's")
        return tag
    labels = {"devkit.managed": "1", "devkit.role": SHARED_ROLE, "devkit.base": "0",
              SHARED_HASH_LABEL: key}
    with tempfile.TemporaryDirectory(prefix="devkit-shared-") as scratch:
        context = Path(scratch)
        link_or_copy(uv, context / "uv")
        for folder, wheels in (("shared", shared), ("runtime", runtime)):
            (context / folder).mkdir()
            for wheel in wheels:
                link_or_copy(wheel, context / folder / wheel.name)
        label = " ".join(f"{k}={v}" for k, v in labels.items())
        (context / "Dockerfile").write_text(
            shared_dockerfile(base, venv, shared, runtime) + f"LABEL {label}\n")
        docker_build(client, context, tag, labels={}, progress=progress,
                     what=f"shared image ({len(shared)} big wheels, {UV_IN_IMAGE})")
    return tag

