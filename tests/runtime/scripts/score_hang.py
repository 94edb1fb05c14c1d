"""run() hangs when asked to (body "hang"); answers at once otherwise."""

import time


def init() -> None:
    pass


def run(data: str) -> object:
    if data == "hang":
        time.sleep(30)
    return {"ok": data}
