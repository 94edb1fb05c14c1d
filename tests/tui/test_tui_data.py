"""What the TUI's ``a`` shows: the latest collected events of the selection, read from
the files data collection wrote (the same lines as ``devkit data``)."""

from __future__ import annotations

from pathlib import Path

import pytest
from devkit_runtime.collection.events import Pending
from devkit_runtime.collection.writer import EventWriter

from devkit import collection
from devkit.errors import EndpointNotFound
from devkit.spec.model import DeploymentSpec, EnvironmentSpec, Source
from devkit.tui.screens.data import latest_payloads


def test_latest_payloads_of_a_deployment(tmp_path: Path, isolated_state: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEVKIT_DATA_DIR", str(tmp_path / "data"))
    spec = DeploymentSpec(name="blue", endpoint_name="shop", source=Source(tmp_path / "b.yml"),
                          environment=EnvironmentSpec(), instance_type="Standard_DS2_v2",
                          data_collector={"collections": ["model_inputs"],
                                          "sampling_rate": 1.0, "rolling_rate": "Hour"})
    collection.remember("shop", [spec])
    settings = collection.settings_of(spec, payloads=False, instance="blue-0")
    assert settings is not None
    writer = EventWriter(settings)
    for index in range(40):
        writer.submit(Pending("model_inputs", {"row": index}, 1_700_000_000 + index,
                              f"req-{index}", f"req-{index}"))
    writer.close()
    title, text = latest_payloads("shop", "blue")
    lines = text.splitlines()
    assert "shop/blue" in title and "30 events" in title
    assert len(lines) == 30 and "req-39" in lines[-1] and '{"row": 39}' in lines[-1]
    assert "model_inputs" in lines[0] and "req-10" in lines[0]


def test_an_endpoint_collecting_nothing_says_how_to_start(isolated_state: Path) -> None:
    with pytest.raises(EndpointNotFound, match="add a `data_collector`"):
        latest_payloads("quiet", None)
