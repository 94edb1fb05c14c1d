"""@rawhttp via azureml_inference_server_http.api (the server package's import path);
reports where those modules came from so tests can prove the runtime's shims served them."""

import azureml_inference_server_http
from azureml_inference_server_http.api.aml_request import rawhttp
from azureml_inference_server_http.api.aml_response import AMLResponse


def init() -> None:
    pass


@rawhttp
def run(request: object) -> AMLResponse:
    origin = {"package_file": getattr(azureml_inference_server_http, "__file__", None),
              "response_class": f"{AMLResponse.__module__}.{AMLResponse.__qualname__}"}
    return AMLResponse(origin, 200, json_str=True)
