"""The rest of the HTTP surface under devkit and azmlinfsrv 1.5.1: the ``TraceId`` echo,
CORS (``AML_CORS_ORIGINS``), the ``request_headers`` dict's keys, the 431s, every header
of ``GET /``, and ``AMLResponse`` against Microsoft's own class (imported by
``.venv-azml``'s Python in a subprocess).

Deliberate differences, each asserted where it shows, with its reason:

* the ones every differential case has (see test_differential.py);
* CORS headers go only to requests with an ``Origin`` header (a request without one is
  not a CORS request); flask-cors also answers those, with every allowed origin;
* ``AMLResponse``: a ``Content-Type`` given in ``response_headers`` replaces the default
  whatever its spelling; Microsoft's class sends two content types unless the key is
  spelled exactly ``Content-Type`` and ``json_str`` is false.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator

import pytest
from devkit_runtime.amlresponse import AMLResponse
from runtime_server import AZML_BIN, SCRIPTS, RunningServer, azml_server, devkit_server
from test_differential import IDS, IN_CI, assert_same

if not AZML_BIN.exists():
    message = f"{AZML_BIN} is missing; run `make setup` to create .venv-azml"
    if IN_CI:
        pytest.fail(message, pytrace=False)
    pytest.skip(message, allow_module_level=True)

Pair = tuple[RunningServer, RunningServer]
CORS = {"AML_CORS_ORIGINS": "http://a.example, http://b.example"}
# Headers that name the server, the moment or the connection, and the length (devkit's
# JSON bodies end with a newline): compared by assert_same's own rules, never by value.
VARYING = {"date", "server", "connection", "x-ms-server-version", "x-request-id",
           "x-ms-request-id", "x-ms-run-fn-exec-ms", "content-length"}


@pytest.fixture(scope="module", params=[CORS, {"AML_CORS_ORIGINS": "*"}],
                ids=["origin-list", "wildcard"])
def cors_pair(request: pytest.FixtureRequest,
              tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    script = SCRIPTS / "score_echo.py"
    tmp = tmp_path_factory.mktemp("cors")
    with azml_server(script, tmp, request.param) as theirs, \
            devkit_server(script, tmp, env=request.param) as ours:
        yield theirs, ours


def same_headers(theirs: dict[str, str], ours: dict[str, str]) -> None:
    assert {k: v for k, v in ours.items() if k not in VARYING} == {
        k: v for k, v in theirs.items() if k not in VARYING}


@pytest.mark.parametrize("headers", [
    {"Origin": "http://a.example", "Access-Control-Request-Method": "post",
     "Access-Control-Request-Headers": "content-type,x-custom"},
    {"Origin": "http://B.example", "Access-Control-Request-Method": "GET"},
    {"Origin": "http://a.example", "Access-Control-Request-Method": "DELETE"},
    {"Origin": "http://a.example"},
    {"Origin": "http://evil.example", "Access-Control-Request-Method": "POST"},
], ids=["preflight", "case-insensitive", "other-method", "no-method", "other-origin"])
def test_cors_preflight(cors_pair: Pair, headers: dict[str, str]) -> None:
    theirs, ours = (server.request("OPTIONS", "/score", None, {**IDS, **headers})
                    for server in cors_pair)
    assert_same(theirs, ours)
    same_headers(theirs.headers, ours.headers)


@pytest.mark.parametrize("origin", ["http://b.example", "http://evil.example"])
def test_cors_on_scoring_and_health(cors_pair: Pair, origin: str) -> None:
    for method, path, body in (("POST", "/score", "{}"), ("GET", "/", None)):
        theirs, ours = (server.request(method, path, body, {**IDS, "Origin": origin})
                        for server in cors_pair)
        assert_same(theirs, ours)
        same_headers(theirs.headers, ours.headers)


def test_cors_without_origin_is_a_deliberate_difference(cors_pair: Pair) -> None:
    theirs, ours = (server.request("GET", "/") for server in cors_pair)
    assert "access-control-allow-origin" in theirs.headers  # flask-cors' always_send
    assert "access-control-allow-origin" not in ours.headers  # not a CORS request


@pytest.fixture(scope="module")
def echo_pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    script = SCRIPTS / "score_request_headers.py"
    tmp = tmp_path_factory.mktemp("headers")
    with azml_server(script, tmp) as theirs, devkit_server(script, tmp) as ours:
        yield theirs, ours


def test_request_headers_keys_and_repeats(echo_pair: Pair) -> None:
    sent = [("x-lower", "1"), ("X-UPPER-CASE", "2"), ("X-Mixed-case-9a", "3"),
            ("X-Rep", "a"), ("X-Rep", "b"), ("Content-Type", "application/json"),
            ("x-ms-client-request-id", "c-1"), ("X_Under_Score", "u")]
    replies = []
    for server in echo_pair:
        conn = server.connect()
        conn.putrequest("POST", "/score", skip_accept_encoding=True)
        for name, value in sent:
            conn.putheader(name, value)
        conn.putheader("Content-Length", "2")
        conn.endheaders(b"{}")
        replies.append(json.loads(conn.getresponse().read())["headers"])
        conn.close()
    theirs, ours = replies
    theirs.pop("Host"), ours.pop("Host")  # the port differs
    assert ours == theirs
    assert ours["X-Rep"] == "a,b" and ours["X-Upper-Case"] == "2"
    assert not any("Under" in name for name in ours)  # gunicorn drops underscored names


def test_trace_id_and_the_431s(echo_pair: Pair) -> None:
    cases = [{"TraceId": "t-1"}, {"traceid": "t-2", "x-request-id": "r-1"},
             {"TraceId": "t-3", "x-ms-client-request-id": "c" * 101},
             {"TraceId": "t-4", "x-ms-request-id": "m" * 101},
             {"TraceId": "t-5", "x-request-id": "r" * 101}]
    for headers in cases:
        theirs, ours = (server.request("POST", "/score", "{}", headers) for server in echo_pair)
        assert ours.status == theirs.status
        if ours.status == 431:
            assert ours.body.rstrip(b"\n") == theirs.body
        for name in ("content-type", "x-ms-run-function-failed", "traceid",
                     "x-ms-client-request-id"):
            assert ours.headers.get(name) == theirs.headers.get(name), (headers, name)
        assert ("x-request-id" in ours.headers) == ("x-request-id" in theirs.headers)
        assert ours.headers["traceid"] == headers.get("TraceId", headers.get("traceid"))


def test_health_answer_has_the_same_headers(echo_pair: Pair) -> None:
    ids = {"x-request-id": "h-1", "x-ms-client-request-id": "h-2", "TraceId": "h-3"}
    theirs, ours = (server.request("GET", "/", None, ids) for server in echo_pair)
    assert_same(theirs, ours, ("content-type", "content-length", "x-request-id",
                               "x-ms-request-id", "x-ms-client-request-id", "traceid"))
    same_headers(theirs.headers, ours.headers)


AZML_PYTHON = AZML_BIN.parent / "python"
RESPONSE_CASES = [
    ("hi", 200, {"X-A": "1, 2", "X-B": "x"}, False, False),
    (b"\x00\x01", 201, {"Content-Type": "image/png"}, False, False),
    ({"a": [1]}, 202, {"X-C": "a,b,,c"}, True, False),
    (None, 204, {}, False, True),
    ("fail", 503, {"Set-Cookie": "k=v"}, False, False),
    # a dict without json_str: Flask iterates it, so the body is its keys (seen in the wild)
    ({"azEnvironment": "Azure", "b": 1}, 201, {}, False, False),
]
_MICROSOFT = """
import json, sys
from azureml_inference_server_http.api.aml_response import AMLResponse
out = []
for message, status, headers, json_str, failed in json.load(sys.stdin):
    if isinstance(message, list) and message and message[0] == "bytes":
        message = bytes(message[1])
    response = AMLResponse(message, status, headers, json_str=json_str, run_function_failed=failed)
    out.append([response.status_code, response.get_data().hex(), list(response.headers.items())])
print(json.dumps(out))
"""


def _wire(message: object) -> object:
    return ["bytes", list(message)] if isinstance(message, bytes) else message


def test_amlresponse_against_microsofts_class() -> None:
    cases = [[_wire(m), s, h, j, f] for m, s, h, j, f in RESPONSE_CASES]
    done = subprocess.run([str(AZML_PYTHON), "-c", _MICROSOFT], input=json.dumps(cases),
                          capture_output=True, text=True, timeout=60, check=True)
    theirs = json.loads(done.stdout)
    for case, (status, body, headers) in zip(RESPONSE_CASES, theirs, strict=True):
        ours = AMLResponse(case[0], case[1], case[2], json_str=case[3],
                           run_function_failed=case[4])
        assert (ours.status_code, ours.get_data().hex()) == (status, body)
        assert [list(pair) for pair in ours.headers.items()] == headers, case


def test_amlresponse_content_type_spelling_is_a_deliberate_difference() -> None:
    cases = [["x", 200, {"content-type": "text/csv"}, False, False],
             [{"a": 1}, 200, {"Content-Type": "application/vnd+json"}, True, False]]
    done = subprocess.run([str(AZML_PYTHON), "-c", _MICROSOFT], input=json.dumps(cases),
                          capture_output=True, text=True, timeout=60, check=True)
    for case, (_, _, headers) in zip(cases, json.loads(done.stdout), strict=True):
        theirs = [value for name, value in headers if name.lower() == "content-type"]
        assert len(theirs) == 2  # Microsoft's: the default and the given one
        ours = AMLResponse(*case[:3], json_str=bool(case[3]))
        assert ours.headers.getlist("Content-Type") == [next(iter(case[2].values()))]

