"""Answers with VERSION and the worker pid: reload tests rewrite VERSION in a copy."""

import os
import time

VERSION = 1


def init() -> None:
    pass


def run(data: str) -> object:
    if data == "slow":
        time.sleep(1.0)
    return {"version": VERSION, "pid": os.getpid()}
