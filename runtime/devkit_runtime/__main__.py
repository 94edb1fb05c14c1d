"""``python -m devkit_runtime`` / ``devkit-runtime``: the azmlinfsrv-compatible command line."""

from __future__ import annotations

import os
import sys

from devkit_runtime import replica_secret
from devkit_runtime.config import ConfigError, ServerConfig
from devkit_runtime.guard import GuardConfig
from devkit_runtime.supervisor import ServerStartError, serve


def main(argv: list[str] | None = None) -> None:
    try:
        GuardConfig.from_env(os.environ)  # a bad guard setting fails here, not per worker
        replica_secret.load(os.environ)  # so does an unreadable replica secret
        serve(ServerConfig.from_args(argv))
    except (ConfigError, ServerStartError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
