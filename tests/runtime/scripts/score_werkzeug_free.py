"""A plain run(data) script reporting whether werkzeug was imported in its process: the
runtime must load werkzeug only for @rawhttp scripts."""

import sys


def init() -> None:
    pass


def run(data: str) -> dict:
    return {"werkzeug_loaded": any(name == "werkzeug" or name.startswith("werkzeug.")
                                   for name in sys.modules)}
