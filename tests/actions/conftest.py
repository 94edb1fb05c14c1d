"""One real endpoint for the module, on the process engine: the ``shadow`` fixture with
blue (live), green (identical to blue), skewed (a wrong score on 20% of answers), failing
(5% of requests raise) and slow (300 ms per answer: three latency buckets above blue's
normal ones, so a loaded machine's outliers cannot hide it), each its own server process behind
the real router."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from actions_helpers import copy_fixture, unique, variant

from devkit.engines import EndpointStatus, UpOptions, get_engine
from devkit.spec import load

VARIANTS = {"green": {}, "skewed": {"SKEW_FRACTION": "0.2"},
            "failing": {"FAIL_FRACTION": "0.05"}, "slow": {"SLOW_MS": "300"}}



@pytest.fixture(scope="module")
def endpoint(module_state: Path, tmp_path_factory: pytest.TempPathFactory
             ) -> Iterator[EndpointStatus]:
    name = unique("shadow")
    folder = copy_fixture(name, tmp_path_factory.mktemp("ep") / name)
    for deployment, env in VARIANTS.items():
        variant(folder, deployment, env)
    engine = get_engine("process")
    try:
        yield engine.up(load([folder]), UpOptions(), lambda _: None)
    finally:
        engine.down(name)
