"""run() returns None: the answer is 200 with body {}."""


def init() -> None:
    pass


def run(data: str) -> None:
    return None
