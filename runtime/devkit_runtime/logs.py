"""Logging of the server processes: one format, on stdout, line-buffered.

Container logs and ``devkit serve``'s terminal show the same lines: startup diagnostics,
one access line per request (method, path, status, ms) and whatever the scoring script
prints or logs. stdout is made line-buffered because a pipe (``docker logs``) would
otherwise hold the script's print() output back until a buffer fills.
"""

from __future__ import annotations

import logging
import sys

FORMAT = "%(asctime)s %(levelname).1s [%(process)d] %(name)s - %(message)s"


def setup(level: int = logging.INFO) -> None:
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(line_buffering=True)
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter(FORMAT))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("uvicorn", "uvicorn.error", "uvicorn.access", "asyncio"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
