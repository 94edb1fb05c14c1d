"""Fixtures of the Kubernetes tests: the CRD API server for the session, and a bare one
(see k8s_server.py for where the server comes from and why it fails rather than skips in CI).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from k8s_server import ApiServer, install_httproute_crd, start_server, stop_server


@pytest.fixture(scope="session")
def api_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiServer]:
    """The CRD API server with the HTTPRoute CRD installed, for the whole session."""
    given = os.environ.get("DEVKIT_K8S_KUBECONFIG")
    if given:
        server, pids = ApiServer(given), []
    else:
        server, pids = start_server(tmp_path_factory.mktemp("apiserver"))
    try:
        install_httproute_crd(server)
        yield server
    finally:
        stop_server(pids)


@pytest.fixture
def bare_api_server(tmp_path: Path) -> Iterator[ApiServer]:
    """A server of its own without any CRD (a cluster that lacks the Gateway API)."""
    server, pids = start_server(tmp_path / "bare")
    try:
        yield server
    finally:
        stop_server(pids)
