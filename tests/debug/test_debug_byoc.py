"""`devkit debug` refuses a bring-your-own-container deployment before touching it: devkit
did not build that image's server, so it has no way to start debugpy inside it."""

from __future__ import annotations

from pathlib import Path

import pytest

from devkit.debug.session import debug_settings
from devkit.errors import DebugError
from devkit.spec import load

BYOC = Path(__file__).resolve().parents[2] / "samples" / "byoc"


def test_debugging_a_byoc_deployment_is_refused_with_the_way_out() -> None:
    endpoint = load([BYOC])
    deployment = endpoint.deployments[0].name
    with pytest.raises(DebugError) as caught:
        debug_settings(endpoint, deployment, 5678)
    message = str(caught.value)
    assert "main.yml" in message and "debugpy.listen()" in message
