"""run() raises: the server answers 500 with x-ms-run-function-failed."""


def init() -> None:
    pass


def run(data: str) -> object:
    raise ValueError("boom from run")
