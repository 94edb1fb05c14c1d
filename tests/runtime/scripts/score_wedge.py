"""Hangs once when asked to by a flag file (deleted as it is seen, so the restarted worker
serves): ``$WEDGE_FLAG.init`` hangs init(), ``$WEDGE_FLAG.sleep`` a run() in
time.sleep (the event loop stays free), ``$WEDGE_FLAG.gil`` a run() inside a C call that
holds the GIL (the event loop freezes too)."""

import ctypes
import os
import time

FLAG = os.environ.get("WEDGE_FLAG", "/nonexistent/wedge")


def _once(kind: str) -> bool:
    try:
        os.unlink(f"{FLAG}.{kind}")
    except FileNotFoundError:
        return False
    return True


def init() -> None:
    if _once("init"):
        time.sleep(3600)


def run(data: object) -> object:
    if _once("gil"):
        ctypes.PyDLL(None).sleep(3600)  # PyDLL keeps the GIL held through the call
    if _once("sleep"):
        time.sleep(3600)
    return {"pid": os.getpid()}
