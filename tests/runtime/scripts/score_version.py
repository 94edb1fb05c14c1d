"""Answers with VERSION and the worker pid: reload tests rewrite VERSION in a copy."""

import os

VERSION = 1


def init() -> None:
    pass


def run(data: str) -> object:
    return {"version": VERSION, "pid": os.getpid()}
