"""Bring-your-own-container deployments on the real Docker engine, with ``samples/byoc``.

The sample image (a stdlib HTTP server on port 8080) is built once for the module from
devkit's base image under a unique tag and removed at the end. One endpoint is brought up
for the module; its deployment warms up for a second (``WARMUP_SECONDS``), so its
readiness route answers 503 before 200 and ``up`` has to wait on that route. The checks:
the container runs the image as is (own command, no runtime settings) with Azure's
variables and mounts; the endpoint's ``/score`` reaches ``/predict`` through the router
with the key; ``status`` reads readiness from the route; an image that is absent and
cannot be pulled, a route that never answers 2xx, and the process engine are clear
errors that leave nothing behind.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from threading import Thread
from typing import Any

import httpx
import pytest
from engine_helpers import SAMPLES, copy_endpoint, unique

from devkit.engines import DeploymentState, EndpointStatus, Engine, RunSettings, get_engine
from devkit.engines.process import state as process_state
from devkit.engines.readiness import ReadinessWait, probe_route
from devkit.errors import EndpointNotFound, EngineError, ImageBuildError, ReadinessTimeout
from devkit.router import read_router_config
from devkit.router.keys import load_or_create_keys
from devkit.spec import load
from devkit.spec.model import ProbeSettings

SAMPLE = SAMPLES / "byoc"
SAMPLE_IMAGE = "devkit-sample-byoc:latest"
REQUEST = (SAMPLE / "sample-request.json").read_bytes()
EXTRA = """\
code_configuration:
  code: code
  scoring_script: score.py
environment_variables:
  WARMUP_SECONDS: "1"
  GREETING: hello
"""


def _quiet(progress: list[str]) -> Any:
    return progress.append


def byoc_folder(parent: Path, image: str, extra: str = "", **replace: str) -> Path:
    """A copy of the sample under a unique endpoint name, running ``image``."""
    name = unique("byoc")
    folder = copy_endpoint(SAMPLE, parent / name, "byoc", name)
    spec = folder / "main.yml"
    text = spec.read_text().replace(SAMPLE_IMAGE, image)
    for old, new in replace.items():
        text = text.replace(old, new)
    spec.write_text(text + extra)
    (folder / "code").mkdir()
    (folder / "code" / "score.py").write_text("# the image ignores it; Azure mounts it\n")
    return folder


@pytest.fixture(scope="module")
def byoc_image(docker_client: Any, base_image: str) -> Iterator[str]:
    tag = f"devkit-sample-byoc:{unique('test')}"
    docker_client.images.build(path=str(SAMPLE / "image"), tag=tag, rm=True)
    yield tag
    docker_client.images.remove(tag, force=True)


@pytest.fixture(scope="module")
def docker_engine(docker_client: Any) -> Engine:
    return get_engine("docker")


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory, byoc_image: str) -> Path:
    return byoc_folder(tmp_path_factory.mktemp("ep"), byoc_image, EXTRA)


@pytest.fixture(scope="module")
def started(docker_engine: Engine, folder: Path,
            module_state: Path) -> Iterator[tuple[EndpointStatus, list[str]]]:
    endpoint = load([folder])
    progress: list[str] = []
    status = docker_engine.up(endpoint, RunSettings(), _quiet(progress))
    yield status, progress
    with contextlib.suppress(EndpointNotFound):
        docker_engine.down(endpoint.name)


def _container(docker_client: Any, endpoint: str) -> Any:
    found = docker_client.containers.list(filters={"label": [
        f"devkit.endpoint={endpoint}", "devkit.role=deployment"]})
    assert len(found) == 1
    return found[0]


@pytest.mark.docker
def test_the_image_runs_as_is_with_azures_environment_and_mounts(started, docker_client,
                                                                  byoc_image, folder) -> None:
    status, progress = started
    deployment = status.deployment("main")
    assert deployment is not None and deployment.image == byoc_image
    assert not any("devkit-env" in line or "Dockerfile" in line for line in progress)
    attrs = _container(docker_client, status.name).attrs
    assert attrs["Config"]["Cmd"] == ["python3", "/app/server.py"]  # the image's own
    env = dict(item.split("=", 1) for item in attrs["Config"]["Env"])
    assert env["AZUREML_MODEL_DIR"] == "/var/azureml-app/azureml-models/linear/1"
    assert env["AML_APP_ROOT"] == "/var/azureml-app/code"
    assert env["AZUREML_ENTRY_SCRIPT"] == "score.py"
    assert env["GREETING"] == "hello"
    assert not {"SERVER_PORT", "DEVKIT_ADMIN_PORT", "DEVKIT_WATCH"} & set(env)
    mounts = {m["Destination"]: m["Source"] for m in attrs["Mounts"]}
    assert mounts["/var/azureml-app/azureml-models/linear/1/model"] == str(folder / "model")
    assert mounts["/var/azureml-app/code"] == str(folder / "code")
    # Nothing published: only the router is reachable from the host.
    assert not any(attrs["NetworkSettings"]["Ports"].values())
    assert not attrs["HostConfig"]["PortBindings"]


@pytest.mark.docker
def test_score_reaches_the_scoring_route_through_the_router_with_the_key(started) -> None:
    status, _ = started
    assert status.scoring_uri is not None
    key = load_or_create_keys(status.name).primary
    answer = httpx.post(status.scoring_uri, content=REQUEST, timeout=30,
                        headers={"Authorization": f"Bearer {key}"})
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"predictions": [3.0, 6.0, -5.0],
                             "model_dir": "/var/azureml-app/azureml-models/linear/1"}
    assert answer.headers["azureml-model-deployment"] == "main"
    refused = httpx.post(status.scoring_uri, content=REQUEST, timeout=30)
    assert refused.status_code == 401
    # the image's own 400 reaches the client as the front end's 424
    bad = httpx.post(status.scoring_uri, content=b"{}", timeout=30,
                     headers={"Authorization": f"Bearer {key}"})
    assert bad.status_code == 424
    assert bad.headers["ms-azureml-model-error-statuscode"] == "400"


@pytest.mark.docker
def test_up_waited_on_the_readiness_route_and_status_reads_it(started,
                                                              docker_engine) -> None:
    status, _ = started
    lines = list(docker_engine.logs(status.name, "main"))
    ready = [line for line in lines if '"GET /ready HTTP/1.1"' in line]
    assert ready and '" 503 ' in ready[0]  # warming up: not ready yet ...
    assert any('" 200 ' in line for line in ready)  # ... then ready
    assert not any("/-/ready" in line for line in lines)  # never the runtime's route
    now = docker_engine.status(status.name)[0].deployment("main")
    assert now is not None and now.state is DeploymentState.READY and now.error is None
    replica = now.replica_status[0]
    assert replica.admin_url is None  # no runtime, no admin port
    # its address on the endpoint network, not one the host can call
    assert not replica.url_is_host and now.urls == ()
    assert replica.url.endswith(":8080")


@pytest.mark.docker
def test_a_second_up_with_nothing_changed_touches_nothing(started, docker_engine,
                                                          folder) -> None:
    status, _ = started
    before = read_router_config(status.name)
    assert before["deployments"][0]["scoring_path"] == "/predict"
    progress: list[str] = []
    docker_engine.up(load([folder]), RunSettings(), _quiet(progress))
    assert "main: unchanged, left running" in progress
    # the router config (scoring path included) is not rewritten
    assert read_router_config(status.name)["generation"] == before["generation"]


@pytest.mark.docker
def test_an_image_that_is_absent_and_cannot_be_pulled_is_one_clear_error(
        tmp_path, docker_engine, docker_client, isolated_state) -> None:
    image = f"devkit-absent-byoc:{unique('never')}"
    endpoint = load([byoc_folder(tmp_path, image)])
    with pytest.raises(ImageBuildError) as caught:
        docker_engine.up(endpoint, RunSettings(), lambda _: None)
    message = str(caught.value)
    assert "\n" not in message
    assert f"image {image} of deployment main" in message
    assert f"`docker build -t {image} " in message and "`docker load" in message
    assert not docker_client.containers.list(
        all=True, filters={"label": f"devkit.endpoint={endpoint.name}"})


@pytest.mark.docker
def test_a_readiness_route_that_never_answers_2xx_fails_up_and_cleans_up(
        tmp_path, byoc_image, docker_engine, docker_client, isolated_state) -> None:
    folder = byoc_folder(tmp_path, byoc_image, "readiness_probe: {initial_delay: 0, "
                         "period: 1, failure_threshold: 2}\n",
                         **{"path: /ready": "path: /never"})
    endpoint = load([folder])
    try:
        with pytest.raises(ReadinessTimeout, match=r"GET /never answered 404"):
            docker_engine.up(endpoint, RunSettings(), lambda _: None)
        assert not docker_client.containers.list(
            all=True, filters={"label": [f"devkit.endpoint={endpoint.name}",
                                         "devkit.role=deployment"]})
    finally:
        with contextlib.suppress(EndpointNotFound):
            docker_engine.down(endpoint.name)


def test_the_process_engine_refuses_a_byoc_deployment_before_starting_anything(
        tmp_path, isolated_state) -> None:
    endpoint = load([byoc_folder(tmp_path, "any-image:1")])
    with pytest.raises(EngineError) as caught:
        get_engine("process").up(endpoint, RunSettings(), lambda _: None)
    message = str(caught.value)
    assert "bring-your-own-container image any-image:1" in message
    assert "`devkit up --engine docker`" in message and "main.yml" in message
    assert process_state.load(endpoint.name) is None


class _Flaky(BaseHTTPRequestHandler):
    """``/ready`` answers 503 twice, then 200; ``/teapot`` always 418."""

    calls = 0

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        if self.path == "/ready":
            type(self).calls += 1
            self.send_response(200 if self.calls > 2 else 503)
        else:
            self.send_response(418)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        """Quiet."""


@pytest.fixture
def flaky() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), type("F", (_Flaky,), {"calls": 0}))
    thread = Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join(5)


def test_a_byoc_readiness_wait_outlasts_non_2xx_answers(flaky: str) -> None:
    probe = ProbeSettings(initial_delay=0, period=1, timeout=1, failure_threshold=30)
    outcome = ReadinessWait(probe, route="/ready").wait(flaky, lambda: None)
    assert outcome.state is DeploymentState.READY
    teapot = probe_route(flaky, "/teapot")
    assert teapot.state is DeploymentState.UNHEALTHY
    assert teapot.error is not None and "GET /teapot answered 418" in teapot.error
    assert probe_route("http://127.0.0.1:1", "/ready").state is DeploymentState.STARTING


def test_the_sample_spec_loads_as_a_byoc_deployment() -> None:
    deployment = load([SAMPLE]).deployment("main")
    config = deployment.environment.inference_config
    assert config is not None and deployment.environment.image == SAMPLE_IMAGE
    assert (config.scoring_route.port, config.scoring_route.path) == (8080, "/predict")
    assert config.readiness_route.path == "/ready" and config.liveness_route.path == "/health"
    dockerfile = (SAMPLE / "image" / "Dockerfile").read_text()
    assert "FROM devkit/base:bookworm" in dockerfile
