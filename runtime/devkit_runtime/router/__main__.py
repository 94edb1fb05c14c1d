"""``python -m devkit_runtime.router --config DIR/router.json --host H --port P``.

How engines start one router per endpoint: a process on 127.0.0.1 for the process engine,
or the command of a container on the endpoint's Docker network (``--host 0.0.0.0`` inside
the container, published on 127.0.0.1 only). The config may appear after start: until
then the router answers 503 and ``/-/ready`` says why.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
from pathlib import Path

from devkit_runtime.router.app import Router
from devkit_runtime.router.server import RouterServer


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m devkit_runtime.router",
                                     description="devkit's endpoint router.")
    parser.add_argument("--config", type=Path, required=True, help="path of router.json")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--log-level", default="info",
                        choices=["debug", "info", "warning", "error"])
    parser.add_argument("--access-log", action="store_true",
                        help="log one line per request (paths and status, never credentials)")
    return parser.parse_args(argv)


def new_event_loop() -> asyncio.AbstractEventLoop:
    """uvloop when it is importable (the runtime's ``fast`` extra), else asyncio's;
    ``DEVKIT_LOOP=asyncio`` forces asyncio (the same switch as the scoring worker's)."""
    if os.environ.get("DEVKIT_LOOP", "").strip().lower() != "asyncio":
        try:
            import uvloop
        except ImportError:
            pass
        else:
            loop: asyncio.AbstractEventLoop = uvloop.new_event_loop()
            return loop
    return asyncio.new_event_loop()


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    server: RouterServer | None = None
    router = Router(args.config.resolve(),
                    listening=lambda: server is not None and server.started)
    server = RouterServer(router, args.host, args.port, access_log=args.access_log)
    loop = new_event_loop()
    try:
        loop.run_until_complete(server.serve())
    finally:
        loop.close()


if __name__ == "__main__":
    main()
