"""``python -m devkit_runtime.reload [--port P]``: ask a running server to reload its
scoring script and print the JSON outcome (engines run it with ``docker exec``).

Exit code 0 when every worker reloaded, 1 when the new code failed (the old code keeps
serving), 2 when no server answered on the admin port.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import sys


def request_reload(port: int, host: str = "127.0.0.1", timeout_s: float = 600) -> dict[str, object]:
    """POST /-/reload on the admin port and return the decoded answer."""
    from devkit_runtime import replica_secret

    # The server's own replica secret, when it has one (Docker: the same mounted file).
    secret = replica_secret.load(os.environ)
    headers = {replica_secret.HEADER.decode(): secret.decode()} if secret else {}
    connection = http.client.HTTPConnection(host, port, timeout=timeout_s)
    try:
        connection.request("POST", "/-/reload", body=b"", headers=headers)
        answer: dict[str, object] = json.loads(connection.getresponse().read())
        return answer
    finally:
        connection.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devkit_runtime.reload",
                                     description="Reload the scoring script of a running "
                                                 "devkit-runtime server.")
    default = os.environ.get("DEVKIT_ADMIN_PORT")
    parser.add_argument("--port", type=int, default=int(default) if default else None,
                        help="admin port (default: $DEVKIT_ADMIN_PORT)")
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args(argv)
    if args.port is None:
        print(json.dumps({"ok": False, "error": "no admin port: pass --port or set "
                                                "DEVKIT_ADMIN_PORT"}))
        return 2
    try:
        answer = request_reload(args.port, args.host)
    except OSError as exc:
        print(json.dumps({"ok": False, "error": f"no server answered on {args.host}:"
                                                f"{args.port} ({exc}); is it running with "
                                                "DEVKIT_ADMIN_PORT set?"}))
        return 2
    except ValueError as exc:  # ConfigError: the replica secret file cannot be read
        print(json.dumps({"ok": False, "error": str(exc)}))
        return 2
    print(json.dumps(answer))
    return 0 if answer.get("ok") else 1


if __name__ == "__main__":
    sys.exit(main())
