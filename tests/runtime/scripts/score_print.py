"""print() and logging from the script must land in the server log."""

import logging


def init() -> None:
    print("PRINTED-FROM-INIT")


def run(data: str) -> object:
    print("PRINTED-FROM-RUN")
    logging.getLogger("user.score").warning("LOGGED-FROM-RUN")
    return "ok"
