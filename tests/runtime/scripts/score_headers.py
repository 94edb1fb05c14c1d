"""run() takes request_headers: it gets the headers as a dict."""


def init() -> None:
    pass


def run(data: str, request_headers: dict) -> object:
    return {"data": data, "custom": request_headers.get("X-Custom"),
            "has_content_type": "Content-Type" in request_headers}
