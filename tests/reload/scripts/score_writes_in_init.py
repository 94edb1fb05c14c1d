"""A score.py whose init() writes into its own code folder (a cache file, as model
loaders do): without the watcher's guard every reload would cause the next one."""

import os
import time
from pathlib import Path

VERSION = 1


def init():
    folder = Path(__file__).parent
    (folder / "cache.txt").write_text(f"{time.time_ns()}\n")
    if os.environ.get("WRITE_NEW_FILE_EACH_INIT") == "1":
        (folder / f"cache-{time.time_ns()}.txt").write_text("x\n")


def run(data):
    return {"version": VERSION}
