"""A deployment's ``scoring_path``: the endpoint's ``/score`` reaches a bring-your-own-
container replica on its own route, query string kept, while deployments without one
still get ``/score``; mirror copies go to the mirrored deployment's own path.

A real router process in front of real upstream servers on loopback; the upstream echoes
the request line it received.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from devkit_runtime.router.config import ConfigError, load_config
from router_helpers import deployment_entry, write_config


def test_scoring_calls_go_to_each_deployments_scoring_path(upstreams, router) -> None:
    byoc, plain = upstreams("byoc"), upstreams("plain")
    proc = router([deployment_entry("byoc", [byoc], 100, scoring_path="/v1/predict"),
                   deployment_entry("plain", [plain], 0)])
    answer = httpx.post(f"{proc.url}/score?a=1&b=x", content=b'{"x": 1}')
    assert answer.status_code == 200
    assert answer.json()["line"] == "POST /v1/predict?a=1&b=x HTTP/1.1"
    assert answer.json()["body"] == '{"x": 1}'
    pinned = httpx.get(f"{proc.url}/score", headers={"azureml-model-deployment": "plain"})
    assert pinned.json()["line"] == "GET /score HTTP/1.1"
    # swagger is not a scoring call: it is forwarded as asked
    swagger = httpx.get(f"{proc.url}/swagger.json")
    assert swagger.json()["line"] == "GET /swagger.json HTTP/1.1"
    described = httpx.get(f"{proc.url}/-/config").json()["deployments"]
    assert [d["scoring_path"] for d in described] == ["/v1/predict", "/score"]


class _Recorder(BaseHTTPRequestHandler):
    """Answers 200 to anything and records the request targets it received."""

    seen: list[str] = []

    def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
        self.rfile.read(int(self.headers.get("content-length", "0")))
        type(self).seen.append(self.path)
        self.send_response(200)
        self.send_header("content-length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args: object) -> None:
        """Quiet: the test reads ``seen``."""


@pytest.fixture
def recorder() -> Iterator[tuple[str, list[str]]]:
    handler = type("Recorder", (_Recorder,), {"seen": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", handler.seen
    server.shutdown()
    server.server_close()
    thread.join(5)


def test_a_mirror_copy_goes_to_the_mirrored_deployments_path(upstreams, router,
                                                             recorder) -> None:
    live = upstreams("live")
    shadow_url, seen = recorder
    shadow = {"name": "shadow", "replicas": [shadow_url], "weight": 0, "mirror": 50,
              "scoring_path": "/predict"}
    proc = router([deployment_entry("live", [live], 100), shadow])
    for _ in range(20):
        line = httpx.post(f"{proc.url}/score?q=1", content=b"{}").json()["line"]
        assert line == "POST /score?q=1 HTTP/1.1"
    deadline = time.monotonic() + 5
    while not seen and time.monotonic() < deadline:
        time.sleep(0.05)
    assert seen and set(seen) == {"/predict?q=1"}


@pytest.mark.parametrize("bad", ["predict", "/p?x=1", "/a b"])
def test_a_scoring_path_that_is_not_a_path_is_refused(tmp_path: Path, bad: str) -> None:
    config = tmp_path / "router.json"
    write_config(config, [{"name": "blue", "replicas": ["http://127.0.0.1:1"], "weight": 100,
                           "scoring_path": bad}])
    with pytest.raises(ConfigError, match="scoring_path"):
        load_config(config)
