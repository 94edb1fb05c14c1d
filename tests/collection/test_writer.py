"""The collection writer, driven through its injectable clock: layout, rolling, Azure's
fields, large and binary payloads, a broken disk, a full queue and a lossless close."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from devkit_runtime.collection.events import MAX_INLINE_BYTES, Pending
from devkit_runtime.collection.sampling import sampled
from devkit_runtime.collection.settings import CollectionSettings
from devkit_runtime.collection.writer import EventWriter, partition

T0 = 1_764_619_199.5  # 2025-12-01 19:59:59.5 UTC: the hour turns half a second later


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def settings(root: Path, rolling: str = "Hour", **extra: Any) -> CollectionSettings:
    return CollectionSettings(dir=root / "ep" / "blue", endpoint="ep", deployment="blue",
                              collections=frozenset({"model_inputs", "model_outputs"}),
                              rolling_rate=rolling, model_version="m:3", instance="blue-0",
                              **extra)


def pending(collection: str, data: Any, when: float, rid: str = "r-1",
            content_type: str = "application/json") -> Pending:
    return Pending(collection, data, when, rid, rid, content_type)


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_events_carry_azures_fields_in_azures_layout(tmp_path: Path) -> None:
    writer = EventWriter(settings(tmp_path))
    frame = pd.DataFrame({"a": [1.5, 2.0], "b": ["x", "y"]})
    writer.submit(pending("model_inputs", frame, T0))
    writer.close()
    path = tmp_path / "ep/blue/model_inputs/2025/12/01/19/blue-0.jsonl"
    [event] = lines(path)
    assert list(event) == ["specversion", "id", "source", "type", "datacontenttype", "time",
                           "data", "correlationid", "xrequestid", "modelversion",
                           "collectdatatype", "agent", "contentrange"]
    assert event["specversion"] == "1.0" and event["type"] == "azureml.inference.model_inputs"
    assert event["source"] == "/onlineEndpoints/ep/deployments/blue"
    assert event["time"] == "2025-12-01T19:59:59.500Z"
    assert event["data"] == [{"a": 1.5, "b": "x"}, {"a": 2.0, "b": "y"}]
    assert (event["correlationid"], event["xrequestid"]) == ("r-1", "r-1")
    assert event["modelversion"] == "m:3"
    assert event["collectdatatype"] == "pandas.core.frame.DataFrame"
    size = len(json.dumps(event["data"], separators=(",", ":")))
    assert event["contentrange"] == f"bytes 0-{size - 1}/{size}"


def test_dicts_and_lists_are_collected_too(tmp_path: Path) -> None:
    writer = EventWriter(settings(tmp_path))
    writer.submit(pending("model_inputs", {"x": [1, 2]}, T0))
    writer.submit(pending("model_inputs", [[1, 2], [3, 4]], T0))
    writer.close()
    first, second = lines(tmp_path / "ep/blue/model_inputs/2025/12/01/19/blue-0.jsonl")
    assert (first["data"], first["collectdatatype"]) == ({"x": [1, 2]}, "builtins.dict")
    assert (second["data"], second["collectdatatype"]) == ([[1, 2], [3, 4]], "builtins.list")


def test_numpy_values_and_non_string_keys_are_collected_as_json_writes_them(
        tmp_path: Path) -> None:
    import numpy as np
    writer = EventWriter(settings(tmp_path))
    writer.submit(pending("model_inputs", {"x": np.arange(3), 1: np.float64(0.5),
                                           "t": np.arange(4)[::2]}, T0))
    writer.close()
    [event] = lines(tmp_path / "ep/blue/model_inputs/2025/12/01/19/blue-0.jsonl")
    assert event["data"] == {"x": [0, 1, 2], "1": 0.5, "t": [0, 2]}


def test_request_bodies_stay_one_valid_json_line(tmp_path: Path) -> None:
    """A pretty-printed body is re-encoded onto one line; a body JSON does not allow (NaN)
    is kept as text, so every line still parses."""
    root = tmp_path / "ep" / "blue"
    writer = EventWriter(CollectionSettings(dir=root, endpoint="ep", deployment="blue",
                                            collections=frozenset({"request"}),
                                            instance="blue-0"), clock=Clock(T0))
    writer.submit(pending("request", b'{\n  "a": [1,\n 2]\n}\n', T0, rid="r-1"))
    writer.submit(pending("request", b'{"a": NaN}', T0, rid="r-2"))
    writer.submit(pending("request", b'  [1, 2]  ', T0, rid="r-3"))
    writer.close()
    pretty, nan, spaced = lines(root / "request/2025/12/01/19/blue-0.jsonl")
    assert pretty["data"] == {"a": [1, 2]}
    assert nan["data"] == '{"a": NaN}'
    assert spaced["data"] == [1, 2] and spaced["contentrange"] == "bytes 0-5/6"


@pytest.mark.parametrize(("rolling", "folders"), [
    ("Minute", ["2025/12/01/19/59", "2025/12/01/20/00"]),
    ("Hour", ["2025/12/01/19", "2025/12/01/20"]),
    ("Day", ["2025/12/01"]),
    ("Month", ["2025/12"]),
    ("Year", ["2025"]),
])
def test_files_roll_at_the_rolling_rate(tmp_path: Path, rolling: str,
                                        folders: list[str]) -> None:
    clock = Clock(T0)
    writer = EventWriter(settings(tmp_path, rolling), clock=clock)
    writer.submit(pending("model_outputs", [1], clock()))
    writer.flush()
    clock.now += 1.0  # the minute, the hour and nothing else turns
    writer.submit(pending("model_outputs", [2], clock()))
    writer.close()
    found = sorted(str(p.parent.relative_to(tmp_path / "ep/blue/model_outputs"))
                   for p in (tmp_path / "ep/blue/model_outputs").rglob("*.jsonl"))
    assert found == folders
    total = sum(len(lines(p)) for p in (tmp_path / "ep/blue").rglob("*.jsonl"))
    assert total == 2


def test_partition_is_utc() -> None:
    assert partition("Minute", 0) == "1970/01/01/00/00"


def test_large_payloads_are_referenced_not_inlined(tmp_path: Path) -> None:
    writer = EventWriter(settings(tmp_path))
    big = "x" * (MAX_INLINE_BYTES + 10)
    writer.submit(pending("model_inputs", [big], T0))
    writer.close()
    [event] = lines(tmp_path / "ep/blue/model_inputs/2025/12/01/19/blue-0.jsonl")
    assert "data" not in event
    side = tmp_path / "ep/blue" / event["dataref"]
    assert json.loads(side.read_text()) == [big]
    assert event["contentrange"] == f"bytes 0-{side.stat().st_size - 1}/{side.stat().st_size}"


def test_binary_payloads_are_referenced_with_their_content_type(tmp_path: Path) -> None:
    writer = EventWriter(settings(tmp_path))
    writer.submit(pending("model_inputs", b"\x89PNG\x00\xff", T0, content_type="image/png"))
    writer.submit(pending("model_inputs", b'{"ok": true}', T0))
    writer.submit(pending("model_inputs", b"plain text", T0, content_type="text/plain"))
    writer.close()
    binary, as_json, text = lines(tmp_path / "ep/blue/model_inputs/2025/12/01/19/blue-0.jsonl")
    assert binary["datacontenttype"] == "image/png" and "data" not in binary
    assert (tmp_path / "ep/blue" / binary["dataref"]).read_bytes() == b"\x89PNG\x00\xff"
    assert as_json["data"] == {"ok": True}
    assert text["data"] == "plain text"


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_an_unwritable_dir_is_one_warning_and_nothing_raises(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    root = tmp_path / "ro"
    root.mkdir()
    root.chmod(0o500)
    _broken_disk(root, caplog)


def test_a_path_that_cannot_be_a_folder_is_one_warning(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    root = tmp_path / "file"
    root.write_text("a file where the data dir should be")
    _broken_disk(root, caplog)


def _broken_disk(root: Path, caplog: pytest.LogCaptureFixture) -> None:
    writer = EventWriter(settings(root))
    with caplog.at_level(logging.WARNING, "devkit_runtime.collection"):
        for index in range(5):
            writer.submit(pending("model_inputs", [index], T0))
        writer.close()
    warnings = [r for r in caplog.records if "cannot write" in r.getMessage()]
    assert len(warnings) == 1 and "fix the permissions" in warnings[0].getMessage()
    assert writer.dropped == 5 and writer.written == 0


def test_a_full_queue_drops_and_counts_instead_of_blocking(tmp_path: Path) -> None:
    writer = EventWriter(settings(tmp_path), max_queue=1)
    for index in range(2000):
        writer.submit(pending("model_inputs", [index], T0))
    writer.close()
    assert writer.dropped > 0 and writer.written + writer.dropped == 2000
    written = lines(tmp_path / "ep/blue/model_inputs/2025/12/01/19/blue-0.jsonl")
    assert len(written) == writer.written


def test_close_writes_everything_queued(tmp_path: Path) -> None:
    writer = EventWriter(settings(tmp_path))
    for index in range(3000):
        writer.submit(pending("model_outputs", [index], T0, rid=f"r-{index}"))
    writer.close()
    written = lines(tmp_path / "ep/blue/model_outputs/2025/12/01/19/blue-0.jsonl")
    assert [e["data"] for e in written] == [[i] for i in range(3000)]
    assert writer.dropped == 0


def test_sampling_is_one_decision_per_id() -> None:
    ids = [f"id-{i}" for i in range(2000)]
    assert all(sampled(i, 1.0) for i in ids) and not any(sampled(i, 0.0) for i in ids)
    assert [sampled(i, 0.3) for i in ids] == [sampled(i, 0.3) for i in ids]
    kept = sum(sampled(i, 0.3) for i in ids)
    sigma = (2000 * 0.3 * 0.7) ** 0.5
    assert abs(kept - 600) < 3 * sigma
    assert all(sampled(i, 0.5) for i in ids if sampled(i, 0.3))  # nested: monotone in rate
