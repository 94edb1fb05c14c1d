"""The content hash that names a deployment's image (``devkit-env:<hash16>``).

It covers everything that ends up inside the image and nothing else: the image name, the
conda file's effective requirements (after ``-r`` files), the Dockerfile build context,
BYOC routes, devkit's runtime source and the recipe version below. Code and model are
bind-mounted at run time, so they are deliberately absent: a code-only change never
rebuilds.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from devkit.images.base import base_image_tag
from devkit.images.conda import load_conda_file
from devkit.images.runtime_wheel import runtime_fingerprint
from devkit.spec.model import DeploymentSpec, EnvironmentSpec

# Bump when the generated Dockerfile changes, so old images are not reused.
# 2: debugpy and watchdog in every image; 3: smoke import, offline user Dockerfiles
RECIPE_VERSION = "3"
AZUREML_IMAGE_PREFIX = "mcr.microsoft.com/azureml/"


def uses_base_image(image: str | None) -> bool:
    """Whether devkit's base image may stand in for ``image``."""
    return image is None or image.startswith(AZUREML_IMAGE_PREFIX)


def environment_hash(deployment: DeploymentSpec) -> str:
    """A sha256 hex digest of the deployment's environment (see the module docstring)."""
    environment = deployment.environment
    digest = hashlib.sha256(f"devkit-env/{RECIPE_VERSION}\0".encode())
    for part in [*_parts(environment), *_model_environment_parts(deployment)]:
        digest.update(part.encode() if isinstance(part, str) else part)
        digest.update(b"\0")
    return digest.hexdigest()


def _parts(environment: EnvironmentSpec) -> list[str | bytes]:
    if environment.is_byoc:
        return ["byoc", environment.image or "", repr(environment.inference_config)]
    parts: list[str | bytes] = [runtime_fingerprint()]
    if environment.build is not None:
        context = environment.build.path
        # The base image may stand in for the Dockerfile's FROM (devkit.images.userbuild).
        parts += ["build", environment.build.dockerfile_path, base_image_tag(),
                  *_tree_parts(context)]
        return parts
    parts += ["image", environment.image or ""]
    if uses_base_image(environment.image):
        parts.append(base_image_tag())
    if environment.conda_file is not None:
        conda = load_conda_file(environment.conda_file)
        parts += ["conda", conda.python.spec if conda.python else "",
                  *sorted(conda.requirements), *conda.pip_options]
    return parts


def _model_environment_parts(deployment: DeploymentSpec) -> list[str | bytes]:
    """A no-code MLflow deployment's packages come from its model folder."""
    from devkit.images.mlflow_env import conda_environment, uses_model_environment

    if not uses_model_environment(deployment):
        return []
    conda = conda_environment(deployment)
    assert conda is not None
    return ["mlflow-model", conda.python.spec if conda.python else "",
            *sorted(conda.requirements), *conda.pip_options]


def _tree_parts(root: Path) -> list[str | bytes]:
    parts: list[str | bytes] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in (".git", "__pycache__"))
        for name in sorted(filenames):
            path = Path(dirpath) / name
            parts.append(str(path.relative_to(root)))
            if path.is_symlink():
                parts.append(os.readlink(path))
            else:
                parts.append(path.read_bytes())
    return parts
