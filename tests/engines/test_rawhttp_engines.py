"""A ``@rawhttp`` script that reads multipart uploads with the Flask/werkzeug API and
streams server-sent events, brought up on each engine and called through the endpoint's
router: on docker this proves the image's runtime wheel brought werkzeug with it (from
the wheelhouse: containers have no network) and that streams pass the router container."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from engine_helpers import FIXTURES, copy_endpoint, unique

from devkit.engines import EndpointStatus, Engine, RunSettings
from devkit.router.keys import load_or_create_keys
from devkit.spec import load


@pytest.fixture(scope="module")
def upload(engine: Engine, engine_name: str, module_state: Path,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[EndpointStatus]:
    name = unique(f"upload-{engine_name[:4]}")
    folder = copy_endpoint(FIXTURES / "rawhttp_upload", tmp_path_factory.mktemp("ep") / name,
                           "upload", name)
    try:
        yield engine.up(load([folder]), RunSettings(), lambda _: None)
    finally:
        engine.down(name)


@pytest.fixture(scope="module")
def client(upload: EndpointStatus) -> Iterator[httpx.Client]:
    key = load_or_create_keys(upload.name).primary
    with httpx.Client(headers={"Authorization": f"Bearer {key}"}, timeout=60) as shared:
        yield shared


def test_multipart_upload_of_several_files(upload: EndpointStatus,
                                           client: httpx.Client) -> None:
    assert upload.scoring_uri is not None
    files = [("file[]", ("a.bin", b"\x00" * 1000)), ("file[]", ("b.txt", b"hello"))]
    answer = client.post(upload.scoring_uri, files=files, data={"note": "two files"})
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"files": [{"name": "a.bin", "size": 1000},
                                       {"name": "b.txt", "size": 5}],
                             "form": {"note": "two files"}}


def test_event_stream_through_the_router(upload: EndpointStatus,
                                         client: httpx.Client) -> None:
    assert upload.scoring_uri is not None
    with client.stream("GET", upload.scoring_uri, params={"events": "4"}) as answer:
        assert answer.status_code == 200
        assert answer.headers["content-type"] == "text/event-stream"
        assert answer.headers["transfer-encoding"] == "chunked"
        body = b"".join(answer.iter_raw())
    assert body == b"".join(b"data: token %d\n\n" % index for index in range(4))
