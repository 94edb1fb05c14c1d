"""Bring-your-own-container (BYOC) deployments: an image that serves its own HTTP API.

A BYOC environment (``image`` + ``inference_config``) runs as is: devkit builds nothing,
injects no runtime and keeps the image's own command. What it still does, as Azure does:
mount code and model at Azure's paths and set ``AZUREML_MODEL_DIR``, ``AML_APP_ROOT``,
``AZUREML_ENTRY_SCRIPT`` and the deployment's ``environment_variables``. Everything else
that differs from a devkit-built image lives here, so the engines branch in one place:

- **ports**: the container listens where ``inference_config`` says; each distinct port of
  the scoring, liveness and readiness routes is published on 127.0.0.1;
- **readiness**: ``GET`` on ``readiness_route``, any 2xx is ready
  (:func:`devkit.engines.readiness.probe_route`); there is no ``init()`` traceback to read,
  so a non-2xx answer means "not ready yet" while ``up`` waits;
- **routing**: the router sends the endpoint's ``/score`` to ``scoring_route.path`` on
  ``scoring_route.port`` (the router config's per-deployment ``scoring_path``);
- **labels**: the routes are written on each container, so ``status`` reads them back
  without the spec.

The process engine refuses BYOC deployments, even when the spec also has a
``code_configuration``: the image's server is the program being deployed, and serving the
scoring script with devkit's runtime instead would test a different program while saying
it passed. :func:`process_refusal` is that sentence.
"""

from __future__ import annotations

import json

from devkit.engines import launch
from devkit.errors import EngineError
from devkit.spec.model import DeploymentSpec, InferenceConfig, Route

ROUTES_LABEL = "devkit.byoc-routes"
_KEYS = ("liveness_route", "readiness_route", "scoring_route")


def routes_of(spec: DeploymentSpec) -> InferenceConfig | None:
    """The deployment's BYOC routes, or None for a devkit-built image."""
    return spec.environment.inference_config


def to_label(config: InferenceConfig) -> str:
    """The routes as a label value: ``{"scoring_route": {"port": 8080, "path": ...}, ...}``."""
    return json.dumps({key: {"port": getattr(config, key).port,
                             "path": getattr(config, key).path} for key in _KEYS},
                      sort_keys=True)


def from_label(text: str | None) -> InferenceConfig | None:
    """The routes a container was started with; None for a devkit runtime container (or
    a label this version cannot read, which then reads as one)."""
    if not text:
        return None
    try:
        raw = json.loads(text)
        routes = [Route(int(raw[key]["port"]), str(raw[key]["path"])) for key in _KEYS]
    except (ValueError, KeyError, TypeError):
        return None
    return InferenceConfig(*routes)


def ports(config: InferenceConfig) -> list[int]:
    """Every distinct container port the routes use (scoring first)."""
    found = [config.scoring_route.port, config.readiness_route.port,
             config.liveness_route.port]
    return list(dict.fromkeys(found))


def container_env(spec: DeploymentSpec) -> dict[str, str]:
    """Azure's variables for the container and the user's ``environment_variables``; none
    of devkit's runtime settings (the image's own server would not read them)."""
    return launch.azure_env(spec, launch.container_paths(spec))


def process_refusal(spec: DeploymentSpec) -> EngineError:
    image = spec.environment.image or "(no image)"
    return EngineError(
        f"Deployment '{spec.name}' ({spec.source}) uses the bring-your-own-container image "
        f"{image}, which serves its own HTTP API and runs only in a container, so the "
        "process engine cannot run it; run `devkit up --engine docker` (start Docker first "
        "if `devkit doctor` says it is not running).")
