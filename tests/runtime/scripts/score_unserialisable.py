"""run() returns something json.dumps cannot encode: 500."""


def init() -> None:
    pass


def run(data: str) -> object:
    return {"value": object()}
