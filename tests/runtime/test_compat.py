"""Microsoft's import paths resolve to the runtime's own modules, with no Microsoft
package installed; @rawhttp with AMLRequest/AMLResponse works end to end."""

from __future__ import annotations

import importlib
import importlib.util
import subprocess
import sys
from pathlib import Path

from devkit_runtime.amlresponse import AMLResponse
from runtime_server import SCRIPTS, devkit_server


def test_the_test_venv_has_no_microsoft_server_package() -> None:
    assert importlib.util.find_spec("azureml_inference_server_http") is None


def test_shims_resolve_in_a_fresh_interpreter() -> None:
    code = (
        "from devkit_runtime import compat; compat.install()\n"
        "import azureml_inference_server_http as pkg\n"
        "from azureml_inference_server_http.api.aml_request import rawhttp, AMLRequest\n"
        "from azureml_inference_server_http.api.aml_response import AMLResponse as A\n"
        "from azureml.contrib.services.aml_response import AMLResponse as B\n"
        "from azureml.contrib.services.aml_request import rawhttp as r2\n"
        "import devkit_runtime.amlresponse as own\n"
        "assert A is B is own.AMLResponse and rawhttp is r2\n"
        "assert getattr(pkg, '__file__', None) is None, pkg.__file__\n"
        "assert 'site-packages' not in repr(pkg)\n"
        "print('ok')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60)
    assert done.stdout.strip() == "ok", done.stderr


def test_rawhttp_binary_in_binary_out(tmp_path: Path) -> None:
    with devkit_server(SCRIPTS / "score_rawhttp.py", tmp_path) as server:
        payload = bytes(range(256))
        reply = server.request("POST", "/score", payload,
                               {"Content-Type": "application/octet-stream"})
        assert reply.status == 200
        assert reply.body == bytes(b ^ 0xFF for b in payload)
        assert reply.headers["content-type"] == "application/octet-stream"
        assert reply.headers["x-ms-run-function-failed"] == "False"
        assert "x-ms-run-fn-exec-ms" in reply.headers
        # AMLResponse splits a comma-separated value into repeated headers, on the wire
        assert reply.all("X-Multi") == ["a", "b"]

        as_json = server.request("POST", "/score", '{"k": [1]}',
                                 {"Content-Type": "application/json", "x-want": "json"})
        assert (as_json.status, as_json.json()) == (201, {"json": {"k": [1]}})
        query = server.request("GET", "/score?k=a&k=b")
        assert query.json() == {"args": ["a", "b"]}
        failing = server.request("POST", "/score", "x", {"x-want": "fail"})
        assert failing.status == 503
        assert failing.headers["x-ms-run-function-failed"] == "True"
        assert failing.body == b"server side trouble"


def test_rawhttp_through_the_server_package_path(tmp_path: Path) -> None:
    with devkit_server(SCRIPTS / "score_rawhttp_new.py", tmp_path) as server:
        origin = server.request("POST", "/score", "x").json()
    assert origin == {"package_file": None,
                      "response_class": "devkit_runtime.amlresponse.AMLResponse"}


def test_amlresponse_matches_azmlinfsrv_shapes() -> None:
    assert AMLResponse(None, 200).data == b"{}"
    assert AMLResponse({"a": 1}, 200, json_str=True).content_type == "application/json"
    plain = AMLResponse("hi", 202, {"X-A": "1, 2"})
    assert (plain.status_code, plain.data) == (202, b"hi")
    assert plain.content_type == "text/html; charset=utf-8"
    assert [value for name, value in plain.headers if name == "X-A"] == ["1", "2"]
    typed = AMLResponse(b"\x00", 200, {"Content-Type": "image/png"})
    assert [v for n, v in typed.headers if n.lower() == "content-type"] == ["image/png"]


def test_request_and_response_are_werkzeugs_as_flasks_are_in_azure() -> None:
    from devkit_runtime.amlrequest import AMLRequest, environ
    from werkzeug.wrappers import Request, Response

    assert issubclass(AMLRequest, Request) and issubclass(AMLResponse, Response)
    request = AMLRequest(environ("POST", "/score", "a=1&a=2", [("host", "h:1"),
                                 ("content-type", "application/json"), ("x-a", "1"),
                                 ("X-A", "2"), ("x_b", "dropped")], b'{"k": 1}'))
    assert (request.url, request.json, request.args.getlist("a")) == (
        "http://h:1/score?a=1&a=2", {"k": 1}, ["1", "2"])
    assert request.headers["X-A"] == "1,2" and "x_b" not in request.headers
