"""@rawhttp via the old SDK import path; binary in, binary out, custom status and headers."""

from azureml.contrib.services.aml_request import AMLRequest, rawhttp
from azureml.contrib.services.aml_response import AMLResponse


def init() -> None:
    pass


@rawhttp
def run(request: AMLRequest) -> AMLResponse:
    if request.method == "GET":
        return AMLResponse({"args": request.args.getlist("k")}, 200, json_str=True)
    if request.headers.get("x-want") == "json":
        return AMLResponse({"json": request.get_json()}, 201, json_str=True)
    if request.headers.get("x-want") == "fail":
        return AMLResponse("server side trouble", 503)
    flipped = bytes(b ^ 0xFF for b in request.data)
    return AMLResponse(flipped, 200, {"Content-Type": "application/octet-stream",
                                      "X-Multi": "a, b"})
