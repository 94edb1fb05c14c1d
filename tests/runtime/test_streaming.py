"""Streamed responses from devkit's server: a generator from run() and an AMLResponse
over an iterator go out chunked, part by part (a gate file is the handshake that proves
the first part arrived before the last was produced); a stream whose iterator raises is
cut off, not completed; werkzeug stays out of plain scripts' processes."""

from __future__ import annotations

import http.client
import json
import re
import time
from pathlib import Path

from runtime_server import SCRIPTS, devkit_server


def test_generator_streams_before_it_is_exhausted(tmp_path: Path) -> None:
    gate = tmp_path / "gate"
    with devkit_server(SCRIPTS / "score_stream.py", tmp_path) as server:
        conn = server.connect()
        conn.request("POST", "/score", body=json.dumps({"gate": str(gate)}))
        response = conn.getresponse()
        assert response.getheader("transfer-encoding") == "chunked"
        assert response.getheader("content-type") == "text/html; charset=utf-8"
        assert response.read1(65536) == b"first\n"
        gate.touch()
        assert response.read() == b"last\nafter last\n"
        # the connection stays usable after a stream
        conn.request("GET", "/")
        assert conn.getresponse().read() == b"Healthy"
        conn.close()


def wait_for_file(path: Path, timeout_s: float = 30) -> str:
    """The file's text once it exists (polled: the server writes it asynchronously)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if path.exists() and path.read_text():
            return path.read_text()
        time.sleep(0.02)
    raise AssertionError(f"{path} never appeared")


def test_a_client_that_leaves_closes_the_generator(tmp_path: Path) -> None:
    gate = tmp_path / "gate"
    with devkit_server(SCRIPTS / "score_stream.py", tmp_path) as server:
        conn = server.connect()
        conn.request("POST", "/score", body=json.dumps({"gate": str(gate)}))
        response = conn.getresponse()
        assert response.read1(65536) == b"first\n"
        conn.close()  # the client leaves mid-stream
        gate.touch()  # the generator may go on; the server must notice and close it
        assert wait_for_file(tmp_path / "gate.outcome") == "closed"
        assert server.request("GET", "/").body == b"Healthy"


def test_a_stream_that_raises_is_cut_off(tmp_path: Path) -> None:
    with devkit_server(SCRIPTS / "score_stream_sse.py", tmp_path) as server:
        conn = server.connect()
        conn.request("GET", "/score?fail=1")
        response = conn.getresponse()
        assert response.status == 200
        assert response.read1(65536) == b"data: first\n\n"
        try:
            rest = response.read()
        except http.client.IncompleteRead as exc:
            rest = exc.partial
        else:
            raise AssertionError(f"the broken stream ended as if complete: {rest!r}")
        conn.close()
        assert b"fell over" not in rest
        metrics = server.request("GET", "/metrics").body.decode()
        assert re.search(r"^devkit_stream_failures_total\{pid=\"\d+\"\} 1$", metrics, re.M)
        assert "the model fell over mid-stream" in server.log_text()
        assert "a streamed response was cut off: its iterator raised" in server.log_text()


def test_plain_scripts_do_not_import_werkzeug(tmp_path: Path) -> None:
    with devkit_server(SCRIPTS / "score_werkzeug_free.py", tmp_path) as server:
        assert server.post_json("/score", {}).json() == {"werkzeug_loaded": False}
        assert server.request("GET", "/score?a=1").json() == {"werkzeug_loaded": False}


def test_rawhttp_scripts_get_a_werkzeug_request(tmp_path: Path) -> None:
    body = (b'--b\r\nContent-Disposition: form-data; name="file"; filename="x.txt"\r\n\r\n'
            b"abc\r\n--b--\r\n")
    with devkit_server(SCRIPTS / "score_rawhttp_flask.py", tmp_path) as server:
        reply = server.request("POST", "/score", body,
                               {"Content-Type": "multipart/form-data; boundary=b"})
    assert reply.json()["files"] == {"file": [{"filename": "x.txt", "size": 3,
                                               "content_type": None}]}


def test_a_part_slower_than_the_scoring_timeout_cuts_the_stream(tmp_path: Path) -> None:
    with devkit_server(SCRIPTS / "score_stream.py", tmp_path,
                       env={"SCORING_TIMEOUT_MS": "500"}) as server:
        conn = server.connect()
        conn.request("POST", "/score", body=json.dumps({"gate": str(tmp_path / "never")}))
        response = conn.getresponse()
        assert response.read1(65536) == b"first\n"
        try:
            rest = response.read()
        except http.client.IncompleteRead:
            pass
        else:
            raise AssertionError(f"the timed-out stream ended as if complete: {rest!r}")
        conn.close()
        assert "the next part took longer than 500 ms" in server.log_text()
        assert server.request("GET", "/").body == b"Healthy"  # a fresh run() thread serves
