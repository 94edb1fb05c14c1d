"""A plain run() returning a generator: devkit streams it. The second part waits until
the test creates the gate file named in the body, so the test proves the first part
reached it before the last was produced (a handshake, not timing). If the server closes
the generator early (the client went away) it writes ``closed`` to ``<gate>.outcome``."""

import json
import os
import time


def init() -> None:
    pass


def _wait_for(path: str) -> bool:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if os.path.exists(path):
            return True
        time.sleep(0.01)
    return False


def run(data: str):
    gate = json.loads(data)["gate"]
    try:
        yield "first\n"
        yield "last\n" if _wait_for(gate) else "the gate never opened\n"
        yield "after last\n"
    except GeneratorExit:
        with open(f"{gate}.outcome", "w") as file:
            file.write("closed")
        raise
