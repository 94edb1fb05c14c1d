"""devkit's server against Microsoft's azmlinfsrv 1.5.1 on the same scripts.

Both run as real subprocesses on loopback; each case sends the same request to both and
compares status, body and the key headers. Every deliberate difference is asserted
explicitly below with its reason:

* ``Connection``: azmlinfsrv closes every connection; devkit keeps it alive (CONTRACT §2).
* JSON bodies written by the server end with a newline in devkit (CONTRACT §2 allows it:
  friendlier for curl; JSON parsers ignore it). Bodies are compared after ``rstrip(b"\\n")``.
* ``x-ms-server-version`` names each server (``azmlinfsrv/1.5.1`` vs ``devkit-runtime/…``).
* 404/405 answers: devkit adds the request-id headers there too (azmlinfsrv only adds them
  on its own routes) so every response can be traced.
* ``Server``: gunicorn announces itself; devkit sends no server header.

A form-encoded POST body to a plain run(data) is *not* a difference any more: Flask parses
it into ``request.form`` and run() gets ``""``; devkit does the same (and logs once how to
read it with @rawhttp), so a script that works locally does not get ``""`` only in Azure.

Under CI (``CI`` set) a missing ``.venv-azml`` fails the module instead of skipping it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from runtime_server import AZML_BIN, SCRIPTS, Reply, RunningServer, azml_server, devkit_server

IN_CI = bool(__import__("os").environ.get("CI"))
KEY_HEADERS = ("content-type", "x-ms-run-function-failed", "x-request-id", "x-ms-request-id",
               "x-ms-client-request-id")

if not AZML_BIN.exists():
    message = f"{AZML_BIN} is missing; run `make setup` to create .venv-azml"
    if IN_CI:
        pytest.fail(message, pytrace=False)
    pytest.skip(message, allow_module_level=True)

Pair = tuple[RunningServer, RunningServer]


@pytest.fixture(scope="module", params=["score_echo.py", "score_raises.py", "score_schema.py",
                                        "score_none.py", "score_unserialisable.py"])
def pair(request: pytest.FixtureRequest,
         tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Pair]]:
    script = SCRIPTS / request.param
    tmp = tmp_path_factory.mktemp(script.stem)
    with azml_server(script, tmp) as theirs, devkit_server(script, tmp) as ours:
        yield request.param, (theirs, ours)


def both(pair: Pair, method: str, path: str, body: bytes | str | None = None,
         headers: dict[str, str] | None = None) -> tuple[Reply, Reply]:
    theirs, ours = pair
    return (theirs.request(method, path, body, headers),
            ours.request(method, path, body, headers))


def assert_same(theirs: Reply, ours: Reply, headers: tuple[str, ...] = KEY_HEADERS) -> None:
    assert ours.status == theirs.status
    assert ours.body.rstrip(b"\n") == theirs.body  # devkit: trailing newline
    for name in headers:
        assert ours.headers.get(name) == theirs.headers.get(name), name
    # the deliberate differences, stated once for every case
    assert theirs.headers["connection"] == "close"
    assert ours.headers.get("connection", "keep-alive") == "keep-alive"
    assert theirs.headers.get("x-ms-server-version") in (None, "azmlinfsrv/1.5.1")
    assert ours.headers["x-ms-server-version"].startswith("devkit-runtime/")


IDS = {"x-request-id": "diff-1", "x-ms-client-request-id": "client-1"}
JSON_HEADERS = {"Content-Type": "application/json", **IDS}


def test_valid_json(pair: tuple[str, Pair]) -> None:
    _, servers = pair
    body = json.dumps({"numbers": [1, 2], "scale": 2, "data": [1]})
    assert_same(*both(servers, "POST", "/score", body, JSON_HEADERS))


def test_invalid_json(pair: tuple[str, Pair]) -> None:
    _, servers = pair
    assert_same(*both(servers, "POST", "/score", "{not json", JSON_HEADERS))


def test_empty_body_and_non_object(pair: tuple[str, Pair]) -> None:
    _, servers = pair
    assert_same(*both(servers, "POST", "/score", "", JSON_HEADERS))
    assert_same(*both(servers, "POST", "/score", "[1, 2]", JSON_HEADERS))


def test_wrong_content_type(pair: tuple[str, Pair]) -> None:
    _, servers = pair
    assert_same(*both(servers, "POST", "/score", '{"numbers": [1]}',
                      {"Content-Type": "text/plain", **IDS}))


def test_non_utf8_body(pair: tuple[str, Pair]) -> None:
    _, servers = pair
    assert_same(*both(servers, "POST", "/score", b"\xff\xfe", JSON_HEADERS))


def test_get_with_query(pair: tuple[str, Pair]) -> None:
    _, servers = pair
    assert_same(*both(servers, "GET", "/score?numbers=%5B1,2%5D&scale=2&a=x&a=y", None, IDS))


def test_options_and_health(pair: tuple[str, Pair]) -> None:
    _, servers = pair
    assert_same(*both(servers, "OPTIONS", "/score", None, IDS))
    assert_same(*both(servers, "GET", "/", None, IDS), ("content-type", "x-request-id"))


def test_long_request_id(pair: tuple[str, Pair]) -> None:
    _, servers = pair
    assert_same(*both(servers, "POST", "/score", "{}", {"x-request-id": "r" * 101}))


@pytest.mark.parametrize("version", ["", "?version=2", "?version=3", "?version=3.1",
                                     "?version=9"])
def test_swagger(pair: tuple[str, Pair], version: str) -> None:
    _, servers = pair
    theirs, ours = both(servers, "GET", f"/swagger.json{version}", None, IDS)
    assert_same(theirs, ours)


@pytest.mark.parametrize(("method", "path"), [("GET", "/nope"), ("PUT", "/score"),
                                              ("DELETE", "/")])
def test_unknown_path_and_wrong_method(pair: tuple[str, Pair], method: str, path: str) -> None:
    _, servers = pair
    theirs, ours = both(servers, method, path, None, IDS)
    assert_same(theirs, ours, ("content-type", "x-ms-run-function-failed"))
    assert "x-request-id" not in theirs.headers  # devkit: request ids on every answer
    assert ours.headers["x-request-id"] == "diff-1"


@pytest.mark.parametrize("content_type", ["application/x-www-form-urlencoded",
                                          "multipart/form-data; boundary=b",
                                          "Application/X-WWW-Form-Urlencoded; charset=utf-8"])
def test_form_encoded_body_reaches_plain_run_as_in_azure(tmp_path: Path,
                                                         content_type: str) -> None:
    script = SCRIPTS / "score_echo.py"
    with azml_server(script, tmp_path) as theirs, devkit_server(script, tmp_path) as ours:
        replies = both((theirs, ours), "POST", "/score", "a=1", {"Content-Type": content_type})
        assert_same(*replies, ("content-type", "x-ms-run-function-failed"))
        assert replies[1].json() == {"echo": ""}  # Flask parsed it into request.form
        assert "decorate run() with @rawhttp" in ours.log_text()
