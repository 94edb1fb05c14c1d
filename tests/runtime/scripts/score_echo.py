"""Plain run(data): echoes the raw body string it was given (the bench and most tests use it)."""


def init() -> None:
    print("echo init done")


def run(data: str) -> object:
    return {"echo": data}
