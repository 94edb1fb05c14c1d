"""run(data, request_headers): returns the headers dict run() received, as is."""


def init() -> None:
    pass


def run(data: str, request_headers: dict) -> dict:
    return {"headers": request_headers}
