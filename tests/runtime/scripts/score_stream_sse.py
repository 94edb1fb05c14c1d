"""@rawhttp streaming server-sent events through AMLResponse over a generator (the way
Azure scripts stream tokens). Gated like score_stream.py: the last event is produced only
after the test saw the first one. ``?fail=1`` raises after the first event."""

import os
import time

from azureml.contrib.services.aml_request import rawhttp
from azureml.contrib.services.aml_response import AMLResponse


def init() -> None:
    pass


def _wait_for(path: str) -> bool:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if os.path.exists(path):
            return True
        time.sleep(0.01)
    return False


@rawhttp
def run(request):
    gate = request.args.get("gate", "")
    fail = request.args.get("fail") == "1"

    def events():
        yield "data: first\n\n"
        if fail:
            raise RuntimeError("the model fell over mid-stream")
        opened = _wait_for(gate)
        yield b"data: last\n\n" if opened else b"data: the gate never opened\n\n"

    return AMLResponse(events(), 200, {"Content-Type": "text/event-stream",
                                       "Cache-Control": "no-cache"})
