"""inference-schema decorated run(): 415/400 answers, swagger 2/3/3.1 and file overrides."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from runtime_server import SCRIPTS, RunningServer, devkit_server


@pytest.fixture(scope="module")
def schema(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    with devkit_server(SCRIPTS / "score_schema.py", tmp_path_factory.mktemp("s")) as server:
        yield server


def test_json_object_keys_become_arguments(schema: RunningServer) -> None:
    reply = schema.post_json("/score", {"numbers": [1, 2, 3], "scale": 2})
    assert (reply.status, reply.json()) == (200, {"total": 12.0})
    default = schema.post_json("/score", {"numbers": [1, 2]})
    assert default.json() == {"total": 3.0}


def test_get_query_feeds_the_arguments(schema: RunningServer) -> None:
    reply = schema.request("GET", "/score?numbers=%5B1,1%5D&scale=3")
    assert reply.json() == {"total": 6.0}


@pytest.mark.parametrize(("body", "content_type", "status", "message"), [
    ('{"numbers": [1]}', "text/plain", 415, "Expects Content-Type to be application/json"),
    ("{not json", "application/json", 400, "POST body could not be decoded as JSON"),
    ("", "application/json", 400, "POST body is empty. Expecting a JSON dictionary."),
    ("[1, 2]", "application/json", 400, "POST body should be a JSON dictionary."),
    ('{"scale": 1}', "application/json", 400,
     "A value is not provided for the 'numbers' parameter."),
])
def test_bad_requests(schema: RunningServer, body: str, content_type: str, status: int,
                      message: str) -> None:
    reply = schema.request("POST", "/score", body, {"Content-Type": content_type})
    assert reply.status == status
    assert reply.json()["message"].startswith(message)


@pytest.mark.parametrize(("query", "key", "marker"), [
    ("", "swagger", "2.0"), ("?version=2", "swagger", "2.0"),
    ("?version=3", "openapi", "3.0.3"), ("?version=3.1", "openapi", "3.1.0"),
])
def test_swagger_versions(schema: RunningServer, query: str, key: str, marker: str) -> None:
    reply = schema.request("GET", f"/swagger.json{query}")
    assert reply.status == 200
    document = reply.json()
    assert document[key] == marker
    schemas = document["definitions"] if key == "swagger" else document["components"]["schemas"]
    assert schemas["ServiceInput"]["properties"]["numbers"]["type"] == "array"
    assert schemas["ServiceOutput"]["properties"]["total"]["type"] == "number"


def test_unknown_swagger_version_is_404(schema: RunningServer) -> None:
    reply = schema.request("GET", "/swagger.json?version=7")
    assert reply.status == 404
    assert reply.json() == {"message": "Swagger version [7] is not valid. "
                                       "Supported versions: [2, 3, 3.1]."}


def test_swagger_file_in_the_code_root_overrides(tmp_path: Path) -> None:
    code = tmp_path / "code"
    code.mkdir()
    script = Path(shutil.copy(SCRIPTS / "score_echo.py", code / "score.py"))
    (code / "swagger.json").write_text(json.dumps({"swagger": "2.0", "custom": True}))
    (code / "swagger3.json").write_text(json.dumps({"openapi": "3.0.0", "custom": 3}))
    with devkit_server(script, tmp_path) as server:
        assert server.request("GET", "/swagger.json").json()["custom"] is True
        assert server.request("GET", "/swagger.json?version=3").json()["custom"] == 3
        generated = server.request("GET", "/swagger.json?version=3.1").json()
    assert generated["components"]["schemas"]["ServiceInput"] == {"type": "object",
                                                                  "example": {}}
