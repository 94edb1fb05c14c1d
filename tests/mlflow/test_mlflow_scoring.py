"""A no-code MLflow deployment answers Azure's request shapes and MLflow's own protocol.

Real models (made by MLflow in make_models.py) behind the real runtime on loopback. The
regression is a + b, so every expected number below is arithmetic on the request.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from mlflow_support import mlflow_server
from runtime_server import RunningServer

SPLIT = {"columns": ["a", "b"], "index": [0, 1], "data": [[1.0, 2.0], [3.0, 4.0]]}


def post(server: RunningServer, body: Any, content_type: str = "application/json") -> Any:
    text = body if isinstance(body, str) else json.dumps(body)
    return server.request("POST", "/score", text, {"Content-Type": content_type})


def close_to(values: list[float], expected: list[float]) -> bool:
    return len(values) == len(expected) and all(abs(v - e) < 1e-6
                                                for v, e in zip(values, expected, strict=True))


# -- Azure's protocol ----------------------------------------------------------------------

def test_split_orientation_answers_records_without_wrapper(
        sklearn_server: RunningServer) -> None:
    reply = post(sklearn_server, {"input_data": SPLIT})
    assert reply.status == 200, reply.body
    assert reply.headers["content-type"] == "application/json"
    assert close_to(reply.json(), [3.0, 7.0])


def test_split_orientation_without_index(sklearn_server: RunningServer) -> None:
    reply = post(sklearn_server, {"input_data": {"columns": ["b", "a"], "data": [[1, 5]]}})
    assert reply.status == 200 and close_to(reply.json(), [6.0])


def test_signature_mismatch_is_400_with_mlflows_message(sklearn_server: RunningServer) -> None:
    reply = post(sklearn_server, {"input_data": {"columns": ["a"], "data": [[1.0]]}})
    assert reply.status == 400
    message = reply.json()["message"]
    assert "Failed to enforce schema" in message and "missing inputs ['b']" in message
    wrong_type = post(sklearn_server, {"input_data": {"columns": ["a", "b"],
                                                      "data": [["x", 1.0]]}})
    assert wrong_type.status == 400  # MLflow's parser refuses it against the signature
    assert "signature" in wrong_type.json()["message"]
    assert "column a" in wrong_type.json()["message"]


def test_tensor_against_a_column_signature_is_refused_by_mlflow(
        sklearn_server: RunningServer) -> None:
    reply = post(sklearn_server, {"input_data": [[1.0, 2.0]]})
    assert reply.status == 400 and "Failed to enforce schema" in reply.json()["message"]


def test_named_tensors(sklearn_server: RunningServer) -> None:
    reply = post(sklearn_server, {"input_data": {"a": [1.0, 2.0], "b": [10.0, 20.0]}})
    assert reply.status == 200 and close_to(reply.json(), [11.0, 22.0])


def test_tensor_without_signature(plain_server: RunningServer) -> None:
    reply = post(plain_server, {"input_data": [[1.0, 2.0], [0.5, 0.5]]})
    assert reply.status == 200 and close_to(reply.json(), [3.0, 1.0])


def test_split_without_signature(plain_server: RunningServer) -> None:
    reply = post(plain_server, {"input_data": SPLIT, "params": None})
    assert reply.status == 200 and close_to(reply.json(), [3.0, 7.0])


def test_params_the_model_does_not_declare_are_refused(sklearn_server: RunningServer) -> None:
    reply = post(sklearn_server, {"input_data": SPLIT, "params": "fast"})
    assert reply.status == 400 and "'params' must be a JSON object" in reply.json()["message"]


def test_missing_input_data_is_azures_400(sklearn_server: RunningServer) -> None:
    reply = post(sklearn_server, {"data": [[1, 2]]})
    assert reply.status == 400
    assert reply.json() == {"message": "A value is not provided for the 'input_data' parameter."}


@pytest.mark.parametrize("content_type", ["text/plain", "text/csv", "application/x-www-form-"
                                                                    "urlencoded"])
def test_non_json_is_415(sklearn_server: RunningServer, content_type: str) -> None:
    reply = post(sklearn_server, "a,b\n1,2\n", content_type)
    assert reply.status == 415
    assert reply.json() == {"message": "Expects Content-Type to be application/json"}


@pytest.mark.parametrize(("body", "says"), [
    ("", "POST body is empty"), ("{not json", "could not be decoded as JSON"),
    ("[1, 2]", "should be a JSON dictionary")])
def test_bad_json_is_400(sklearn_server: RunningServer, body: str, says: str) -> None:
    reply = post(sklearn_server, body)
    assert reply.status == 400 and says in reply.json()["message"]


def test_lightgbm_model_in_every_azure_shape(lightgbm_server: RunningServer) -> None:
    split = post(lightgbm_server, {"input_data": SPLIT})
    named = post(lightgbm_server, {"input_data": {"a": [1.0, 3.0], "b": [2.0, 4.0]}})
    assert split.status == 200 and named.status == 200, (split.body, named.body)
    assert len(split.json()) == 2 and close_to(split.json(), named.json())
    mismatch = post(lightgbm_server, {"input_data": {"columns": ["z"], "data": [[1]]}})
    assert mismatch.status == 400 and "Failed to enforce schema" in mismatch.json()["message"]


# -- MLflow's own serving protocol -----------------------------------------------------------

@pytest.mark.parametrize("body", [
    {"dataframe_split": SPLIT},
    {"dataframe_records": [{"a": 1.0, "b": 2.0}, {"a": 3.0, "b": 4.0}]},
    {"inputs": {"a": [1.0, 3.0], "b": [2.0, 4.0]}},
    {"instances": [{"a": 1.0, "b": 2.0}, {"a": 3.0, "b": 4.0}]},
])
def test_mlflow_protocol_answers_predictions(sklearn_server: RunningServer,
                                             body: dict[str, Any]) -> None:
    reply = post(sklearn_server, body)
    assert reply.status == 200, reply.body
    assert close_to(reply.json()["predictions"], [3.0, 7.0])


def test_mlflow_protocol_errors_are_mlflows(sklearn_server: RunningServer) -> None:
    two = post(sklearn_server, {"dataframe_split": SPLIT, "inputs": [[1, 2]]})
    assert two.status == 400 and two.json()["error_code"] == "BAD_REQUEST"
    mismatch = post(sklearn_server, {"dataframe_records": [{"a": 1.0}]})
    assert mismatch.status == 400
    assert "Failed to enforce schema" in mismatch.json()["message"]


def test_lightgbm_mlflow_protocol(lightgbm_server: RunningServer) -> None:
    azure = post(lightgbm_server, {"input_data": SPLIT}).json()
    mlflow = post(lightgbm_server, {"dataframe_split": SPLIT}).json()["predictions"]
    assert close_to(mlflow, azure)


# -- swagger, GET, load failures ------------------------------------------------------------

def test_swagger_is_generated_from_the_signature(sklearn_server: RunningServer) -> None:
    document = sklearn_server.request("GET", "/swagger.json?version=3").json()
    schemas = document["components"]["schemas"]
    service_input = schemas["ServiceInput"]
    assert service_input["required"] == ["input_data"]
    example = service_input["example"]["input_data"]
    assert example["columns"] == ["a", "b"] and example["data"] == [[0.0, 0.0]]
    assert schemas["ServiceOutput"] == {"type": "array", "items": {"type": "number"}}
    # the example is a request the model accepts
    assert post(sklearn_server, service_input["example"]).status == 200
    two = sklearn_server.request("GET", "/swagger.json?version=2").json()
    assert two["definitions"]["ServiceInput"] == service_input


def test_swagger_without_signature_takes_any_object(plain_server: RunningServer) -> None:
    document = plain_server.request("GET", "/swagger.json").json()
    assert document["definitions"]["ServiceInput"] == {"type": "object", "example": {}}


def test_get_reads_input_data_from_the_query(sklearn_server: RunningServer) -> None:
    query = json.dumps(SPLIT).replace(" ", "")
    reply = sklearn_server.request("GET", f"/score?input_data={query}")
    assert reply.status == 200 and close_to(reply.json(), [3.0, 7.0])


def test_a_model_that_fails_to_load_is_not_ready_with_one_sentence(
        mlflow_models: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "MLmodel").write_text((mlflow_models / "sklearn-plain" / "MLmodel").read_text())
    (broken / "model.pkl").write_bytes(b"not a pickle")
    with mlflow_server(broken, tmp_path) as server:
        ready = server.request("GET", "/-/ready")
        assert ready.status == 503
        error = ready.json()["error"]
        assert f"{broken}/MLmodel failed to load with mlflow.pyfunc.load_model" in error
        assert "save the model again" in error


def test_devkit_serve_model_dir_serves_an_mlflow_folder(mlflow_models: Path,
                                                        tmp_path: Path) -> None:
    import subprocess
    import sys

    from runtime_server import RunningServer, find_free_port

    port = find_free_port()
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "devkit.cli.main", "serve", "--model-dir",
             str(mlflow_models / "lightgbm"), "--port", str(port)],
            stdout=out, stderr=subprocess.STDOUT)
    server = RunningServer(process, port, log)
    try:
        server.wait_live(60)
        assert server.wait_ready(60).status == 200
        reply = post(server, {"input_data": SPLIT})
        assert reply.status == 200 and len(reply.json()) == 2
    finally:
        server.stop()


def test_devkit_serve_refuses_a_folder_without_mlmodel(tmp_path: Path) -> None:
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-m", "devkit.cli.main", "serve", "--model-dir",
                             str(tmp_path)], capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert f"{tmp_path} has no MLmodel file" in result.stderr
