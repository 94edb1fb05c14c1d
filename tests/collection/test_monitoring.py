"""``azureml.ai.monitoring`` in a real score.py behind the real runtime (no router): the
Collector joins inputs and outputs by the request id, writes DataFrames as records, and a
SIGTERM (a clean stop) flushes what was queued."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "runtime"))

from runtime_server import devkit_server  # noqa: E402

SCRIPT = Path(__file__).with_name("scripts") / "score_frames.py"


def settings(root: Path, rate: float = 1.0) -> str:
    return json.dumps({"dir": str(root), "endpoint": "ep", "deployment": "blue",
                       "collections": ["model_inputs", "model_outputs", "audit"],
                       "sampling_rate": rate, "rolling_rate": "Day", "instance": "blue-0",
                       "model_version": "reg:2"})


def read(root: Path, collection: str) -> list[dict[str, Any]]:
    return [json.loads(line) for path in sorted((root / collection).rglob("*.jsonl"))
            for line in path.read_text().splitlines()]


def test_collector_joins_frames_by_request_id_and_flushes_on_stop(tmp_path: Path) -> None:
    root = tmp_path / "data"
    env = {"DEVKIT_DATA_COLLECTOR": settings(root)}
    with devkit_server(SCRIPT, tmp_path, env=env, workers=2) as server:
        for index in range(40):
            reply = server.post_json("/score", {"rows": [[index, 1.5], [2, 3]]},
                                     **{"x-request-id": f"req-{index}"})
            assert reply.status == 200, reply.body
            assert reply.json()["id"] == f"req-{index}"
    # the server stopped with SIGTERM: both workers flushed everything
    inputs = {e["correlationid"]: e for e in read(root, "model_inputs")}
    outputs = {e["correlationid"]: e for e in read(root, "model_outputs")}
    assert set(inputs) == set(outputs) == {f"req-{i}" for i in range(40)}
    assert inputs["req-7"]["data"] == [{"0": 7.0, "1": 1.5}, {"0": 2.0, "1": 3.0}]
    assert outputs["req-7"]["data"] == [{"total": 8.5}, {"total": 5.0}]
    assert inputs["req-7"]["collectdatatype"] == "pandas.core.frame.DataFrame"
    assert inputs["req-7"]["modelversion"] == "reg:2"
    audit = read(root, "audit")
    assert len(audit) == 40 and audit[0]["correlationid"].startswith("audit-req-")
    assert audit[0]["xrequestid"] == audit[0]["correlationid"][len("audit-"):]
    assert not (root / "not_enabled").exists()
    files = {p.name for p in root.rglob("*.jsonl")}
    assert files == {"blue-0.jsonl"}  # two workers, one instance file, whole lines


def test_without_settings_collect_is_a_no_op(tmp_path: Path) -> None:
    with devkit_server(SCRIPT, tmp_path) as server:
        reply = server.post_json("/score", {"rows": [[1, 2]]})
        assert reply.status == 200 and reply.json()["totals"] == [3]
    assert not list(tmp_path.rglob("*.jsonl"))


def test_sampling_drops_whole_requests(tmp_path: Path) -> None:
    root = tmp_path / "data"
    with devkit_server(SCRIPT, tmp_path, env={"DEVKIT_DATA_COLLECTOR": settings(root, 0.0)}) \
            as server:
        for index in range(20):
            assert server.post_json("/score", {"rows": [[index]]}).status == 200
    assert not list(root.rglob("*.jsonl"))
