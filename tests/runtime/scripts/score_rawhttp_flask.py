"""@rawhttp using the Flask/werkzeug request and response API as Azure scripts do: uploads,
form fields, query args, cookies, JSON, the stream, and a binary response with a mimetype
and a cookie. The report is JSON so two servers' answers compare as data."""

from azureml_inference_server_http.api.aml_request import AMLRequest, rawhttp
from azureml_inference_server_http.api.aml_response import AMLResponse


def init() -> None:
    pass


def _files(request: AMLRequest) -> dict:
    return {name: [{"filename": item.filename, "content_type": item.content_type,
                    "size": len(item.stream.read())} for item in request.files.getlist(name)]
            for name in request.files}


@rawhttp
def run(request: AMLRequest) -> AMLResponse:
    want = request.args.get("want", "report")
    if want == "image":
        response = AMLResponse(bytes(range(256)) * 4, 200)
        response.mimetype = "image/jpeg"
        response.headers["X-Frame"] = "7"
        response.set_cookie("session", "abc", httponly=True)
        return response
    if want == "stream":
        return AMLResponse({"stream": request.stream.read().decode("latin-1"),
                            "data_after": request.get_data(as_text=True)}, 200, json_str=True)
    report = {
        "method": request.method, "path": request.path, "full_path": request.full_path,
        "url_tail": request.url[len(request.host_url):], "content_type": request.content_type,
        "mimetype": request.mimetype, "args": request.args.to_dict(flat=False),
        "form": request.form.to_dict(flat=False), "values": request.values.to_dict(flat=False),
        "files": _files(request), "cookies": request.cookies.to_dict(),
        "json": request.get_json(silent=True), "is_json": request.is_json,
        "data": request.get_data(as_text=True), "data_attr": len(request.data),
        "x_custom": request.headers.get("x-custom"), "x_custom_list":
            request.headers.getlist("X-Custom"),
    }
    return AMLResponse(report, 200, json_str=True)
