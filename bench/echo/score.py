"""The benchmark's echo scoring script: parses the JSON body and returns it."""

import json


def init() -> None:
    pass


def run(data: str) -> object:
    return json.loads(data)
