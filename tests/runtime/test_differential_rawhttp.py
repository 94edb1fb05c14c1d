"""@rawhttp and streaming under devkit and under Microsoft's azmlinfsrv 1.5.1.

The same scripts run in both servers (real subprocesses on loopback) and get the same
bytes; the answers must match: multipart uploads (one file, several, curl's ``file[]``
names), form fields, query args, cookies, JSON, the request stream, a binary response
with a mimetype and a cookie, the binary-in/binary-out ``score_rawhttp.py``, and a
streamed ``text/event-stream`` response whose first event arrives before the script
produced the last (a gate file is the handshake).

Deliberate differences, asserted where they show: the ones every differential case has
(see test_differential.py), and a plain run() returning a generator: azmlinfsrv cannot
JSON-encode it and answers 500, devkit streams it (issue 10: token streaming).
"""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from runtime_server import AZML_BIN, SCRIPTS, Reply, RunningServer, azml_server, devkit_server
from test_differential import IDS, IN_CI, assert_same

if not AZML_BIN.exists():
    message = f"{AZML_BIN} is missing; run `make setup` to create .venv-azml"
    if IN_CI:
        pytest.fail(message, pytrace=False)
    pytest.skip(message, allow_module_level=True)

Pair = tuple[RunningServer, RunningServer]
BOUNDARY = "devkit-boundary-7"


def multipart(fields: list[tuple[str, str]], files: list[tuple[str, str, bytes]]) -> bytes:
    """A multipart/form-data body as curl -F builds it (fixed boundary: same bytes twice)."""
    parts = [f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
             f"{value}\r\n".encode() for name, value in fields]
    for name, filename, content in files:
        parts.append(f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"; '
                     f'filename="{filename}"\r\nContent-Type: application/octet-stream'
                     f"\r\n\r\n".encode() + content + b"\r\n")
    return b"".join(parts) + f"--{BOUNDARY}--\r\n".encode()


MULTIPART = {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}


@pytest.fixture(scope="module")
def flask_pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    script = SCRIPTS / "score_rawhttp_flask.py"
    tmp = tmp_path_factory.mktemp("rawhttp")
    with azml_server(script, tmp) as theirs, devkit_server(script, tmp) as ours:
        yield theirs, ours


def both(pair: Pair, method: str, path: str, body: bytes | str | None = None,
         headers: dict[str, str] | None = None) -> tuple[Reply, Reply]:
    sent = {**IDS, **(headers or {})}
    theirs, ours = pair
    return theirs.request(method, path, body, sent), ours.request(method, path, body, sent)


def test_single_file_upload(flask_pair: Pair) -> None:
    body = multipart([], [("file", "a.bin", bytes(range(256)))])
    theirs, ours = both(flask_pair, "POST", "/score", body, MULTIPART)
    assert_same(theirs, ours)
    assert ours.json()["files"] == {"file": [{"filename": "a.bin", "size": 256,
                                              "content_type": "application/octet-stream"}]}


def test_several_files_form_fields_and_curl_brackets(flask_pair: Pair) -> None:
    body = multipart([("name", "x"), ("tag", "1"), ("tag", "2")],
                     [("file[]", "one.txt", b"hello"), ("file[]", "two.txt", b"world!"),
                      ("file", "three.bin", b"\x00\xff")])
    theirs, ours = both(flask_pair, "POST", "/score?tag=q&k=v", body, MULTIPART)
    assert_same(theirs, ours)
    report = ours.json()
    assert [f["filename"] for f in report["files"]["file[]"]] == ["one.txt", "two.txt"]
    assert report["form"] == {"name": ["x"], "tag": ["1", "2"]}
    assert report["values"]["tag"] == ["q", "1", "2"]  # args first, then form: werkzeug's
    assert report["data"] == ""  # the form parser consumed the body, as in Flask


def test_urlencoded_form_query_cookies_and_headers(flask_pair: Pair) -> None:
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Cookie": "a=1; b=two",
               "X-Custom": "first"}
    theirs, ours = both(flask_pair, "POST", "/score?k=1&k=2&e=", "a=1&b=%C3%A9", headers)
    assert_same(theirs, ours)
    report = ours.json()
    assert report["form"] == {"a": ["1"], "b": ["é"]}
    assert report["cookies"] == {"a": "1", "b": "two"}
    assert report["args"] == {"k": ["1", "2"], "e": [""]}


@pytest.mark.parametrize("body", ['{"x": [1, 2]}', "{broken", ""])
def test_json_bodies(flask_pair: Pair, body: str) -> None:
    theirs, ours = both(flask_pair, "POST", "/score", body,
                        {"Content-Type": "application/json; charset=utf-8"})
    assert_same(theirs, ours)


def test_get_with_path_and_url(flask_pair: Pair) -> None:
    theirs, ours = both(flask_pair, "GET", "/score?a=%20b&c", None, {"X-Custom": "q"})
    assert_same(theirs, ours)
    assert ours.json()["url_tail"] == "score?a=%20b&c"


def test_request_stream(flask_pair: Pair) -> None:
    theirs, ours = both(flask_pair, "POST", "/score?want=stream", b"raw \xe9 bytes",
                        {"Content-Type": "application/octet-stream"})
    assert_same(theirs, ours)
    assert ours.json() == {"stream": "raw é bytes", "data_after": ""}


def test_binary_response_with_mimetype_and_cookie(flask_pair: Pair) -> None:
    theirs, ours = both(flask_pair, "GET", "/score?want=image")
    assert_same(theirs, ours, ("content-type", "x-ms-run-function-failed", "x-frame",
                               "set-cookie", "content-length"))
    assert ours.body == bytes(range(256)) * 4
    assert ours.headers["content-type"] == "image/jpeg"
    assert ours.headers["set-cookie"] == "session=abc; HttpOnly; Path=/"


def _stream(server: RunningServer, path: str, gate: Path) -> tuple[dict[str, str], bytes,
                                                                    bytes]:
    """The head, the first part read, and the rest after opening the gate."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    try:
        conn.request("POST", path, body=json.dumps({"gate": str(gate)}))
        response = conn.getresponse()
        head = {name.lower(): value for name, value in response.getheaders()}
        first = response.read1(65536)
        gate.touch()  # only now may the script produce its last part
        return head, first, response.read()
    finally:
        conn.close()


def test_event_stream_arrives_part_by_part_in_both(tmp_path: Path) -> None:
    script = SCRIPTS / "score_stream_sse.py"
    with azml_server(script, tmp_path) as theirs, devkit_server(script, tmp_path) as ours:
        answers = [_stream(server, f"/score?gate={tmp_path / name}", tmp_path / name)
                   for server, name in ((theirs, "gate-azml"), (ours, "gate-devkit"))]
    for head, first, rest in answers:
        assert head["content-type"] == "text/event-stream"
        assert head["transfer-encoding"] == "chunked"
        assert head["cache-control"] == "no-cache"
        assert first == b"data: first\n\n"  # before the gate opened: not buffered
        assert rest == b"data: last\n\n"
    assert answers[0][0]["x-ms-run-function-failed"] == answers[1][0]["x-ms-run-function-failed"]


def test_plain_generator_is_a_deliberate_difference(tmp_path: Path) -> None:
    script = SCRIPTS / "score_stream.py"
    gate = tmp_path / "gate"
    with azml_server(script, tmp_path) as theirs, devkit_server(script, tmp_path) as ours:
        gate.touch()
        theirs_reply = theirs.request("POST", "/score", json.dumps({"gate": str(gate)}))
        ours_reply = ours.request("POST", "/score", json.dumps({"gate": str(gate)}))
    assert theirs_reply.status == 500  # json.dumps(generator) fails inside azmlinfsrv
    assert (ours_reply.status, ours_reply.body) == (200, b"first\nlast\nafter last\n")
    assert ours_reply.headers["transfer-encoding"] == "chunked"



@pytest.fixture(scope="module")
def sample_pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    script = SCRIPTS / "score_rawhttp.py"
    tmp = tmp_path_factory.mktemp("rawhttp-sample")
    with azml_server(script, tmp) as theirs, devkit_server(script, tmp) as ours:
        yield theirs, ours


@pytest.mark.parametrize(("method", "path", "body", "headers"), [
    ("POST", "/score", bytes(range(256)), {"Content-Type": "application/octet-stream"}),
    ("POST", "/score", '{"k": [1]}', {"Content-Type": "application/json", "x-want": "json"}),
    ("GET", "/score?k=a&k=b", None, {}),
    ("POST", "/score", "x", {"x-want": "fail"}),
], ids=["binary", "json", "query", "503"])
def test_the_rawhttp_script(sample_pair: Pair, method: str, path: str, body: bytes | str,
                            headers: dict[str, str]) -> None:
    theirs, ours = both(sample_pair, method, path, body, headers)
    assert_same(theirs, ours)
    assert ours.headers.get("x-multi") == theirs.headers.get("x-multi")
