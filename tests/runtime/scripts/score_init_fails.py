"""init() raises: the server stays up but is not ready."""


def init() -> None:
    raise RuntimeError("model file missing: cannot initialise")


def run(data: str) -> object:
    return data
