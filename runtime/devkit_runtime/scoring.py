"""The user's scoring script behind a clear boundary: load it, init it, call its run().

A script is loaded from its file path (never by import name) with the code root on
``sys.path``, then ``run``'s signature decides how requests reach it:

* plain ``run(data)``: the body as a UTF-8 string (GET: the query as a JSON object string);
* a ``request_headers`` parameter: the request headers as a dict, in addition;
* ``@rawhttp``: ``run(request)`` gets an :class:`~devkit_runtime.amlrequest.AMLRequest`
  (a werkzeug ``Request``; werkzeug is imported only when such a script is loaded);
* ``@input_schema`` (inference-schema): the JSON body's keys become keyword arguments.

Everything the script does wrong becomes data (:class:`ScriptLoadError`, :class:`InputError`)
that the HTTP layer turns into the contract's answers; nothing here knows about HTTP.
"""

from __future__ import annotations

import enum
import importlib.util
import inspect
import json
import logging
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType, TracebackType
from typing import Any
from urllib.parse import parse_qsl

from devkit_runtime.rawhttp import is_rawhttp

MODULE_NAME = "entry_module"  # azmlinfsrv's name: inference-schema keys schemas by it
# The body types Flask parses into request.form/.files, leaving request.data empty.
FORM_TYPES = (b"application/x-www-form-urlencoded", b"multipart/form-data")
log = logging.getLogger("devkit_runtime")


class InputKind(enum.Enum):
    STRING = "string"
    RAW = "rawhttp"
    SCHEMA = "schema"


class ScriptLoadError(Exception):
    """Loading the module or running init() failed; carries where, the traceback, and
    whose fault it is: ``"script"``, or ``"environment"`` when installed packages broke
    (:func:`devkit_runtime.envcheck.blame`)."""

    def __init__(self, message: str, file: str | None, line: int | None, tb: str,
                 cause: str = "script") -> None:
        super().__init__(message)
        self.message = message
        self.file = file
        self.line = line
        self.traceback = tb
        self.cause = cause


class InputError(Exception):
    """The request cannot be turned into run()'s arguments (400, 415 or 405)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class Request:
    """What the scoring boundary needs from one HTTP request. Header names and values stay
    bytes until someone asks: the plain-string path never needs them decoded."""

    __slots__ = ("method", "path", "query", "raw_headers", "body", "client", "server",
                 "_headers")

    def __init__(self, method: str, path: str, query: str,
                 raw_headers: list[tuple[bytes, bytes]], body: bytes,
                 client: tuple[str, int] | None = None,
                 server: tuple[str, int] | None = None) -> None:
        self.method = method
        self.path = path
        self.query = query
        self.raw_headers = raw_headers
        self.body = body
        self.client = client
        self.server = server
        self._headers: list[tuple[str, str]] | None = None

    @property
    def headers(self) -> list[tuple[str, str]]:
        """Lower-case names with their values, in the order sent."""
        if self._headers is None:
            self._headers = [(name.decode("latin-1").lower(), value.decode("latin-1"))
                             for name, value in self.raw_headers]
        return self._headers


@dataclass
class Script:
    """A loaded, initialised scoring script and how to call its run()."""

    module: ModuleType
    run: Callable[..., Any]
    kind: InputKind
    params: list[inspect.Parameter]
    wants_headers: bool
    path: Path

    def arguments(self, request: Request) -> dict[str, Any]:
        """Translate a request into run()'s keyword arguments (raises InputError)."""
        if request.method not in ("GET", "POST"):
            raise InputError(405, "Method not allowed")
        if self.kind is InputKind.RAW:
            kwargs: dict[str, Any] = {self.params[0].name: _aml_request(request)}
        elif self.kind is InputKind.SCHEMA:
            kwargs = _schema_arguments(request, self.params)
        else:
            kwargs = {self.params[0].name: _string_argument(request)}
        if self.wants_headers:
            kwargs["request_headers"] = header_dict(request.headers)
        return kwargs


def load(path: Path, code_root: Path) -> Script:
    """Import the script from ``path``, check init()/run(), call init(); or raise
    :class:`ScriptLoadError` naming the file and line at fault."""
    for root in (str(code_root), str(path.parent)):
        if root not in sys.path:
            sys.path.insert(0, root)
    _forget_schemas()
    try:
        module = _import(path)
        script = _analyse(module, path)
    except ScriptLoadError:
        raise
    except BaseException as exc:  # a script may raise anything, SystemExit included
        raise _load_error(f"importing {path.name} failed", exc, code_root, path) from exc
    try:
        module.init()
    except BaseException as exc:
        raise _load_error(f"init() in {path.name} failed", exc, code_root, path) from exc
    return script


def _import(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(MODULE_NAME, path)
    if spec is None or spec.loader is None:
        raise ScriptLoadError(f"{path} is not a Python file that can be imported",
                              str(path), None, "")
    module = importlib.util.module_from_spec(spec)
    sys.modules[MODULE_NAME] = module
    spec.loader.exec_module(module)
    return module


def _analyse(module: ModuleType, path: Path) -> Script:
    for name in ("init", "run"):
        if not callable(getattr(module, name, None)):
            raise ScriptLoadError(f"{path} has no {name}() function; define `def {name}(...)` "
                                  "at module level", str(path), None, "")
    driver = getattr(module, "driver_module", None)  # Azure SDK proxy scripts forward run()
    run = driver.run if isinstance(driver, ModuleType) and hasattr(driver, "run") else module.run
    params = list(inspect.signature(run).parameters.values())
    allowed = (inspect.Parameter.KEYWORD_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    if any(param.kind not in allowed for param in params):
        raise ScriptLoadError(f"run() in {path} cannot take positional-only arguments, *args "
                              "or **kwargs; name its parameters", str(path), None, "")
    wants_headers = any(param.name == "request_headers" for param in params)
    params = [param for param in params if param.name != "request_headers"]
    if not params:
        raise ScriptLoadError(f"run() in {path} takes no input argument; add one, as in "
                              "`def run(data)`", str(path), None, "")
    return Script(module, run, _input_kind(run, path), params, wants_headers, path)


def _input_kind(run: Callable[..., Any], path: Path) -> InputKind:
    raw, schema = is_rawhttp(run), _schema_decorated(run)
    if raw and schema:
        raise ScriptLoadError(f"run() in {path} cannot be decorated with both @rawhttp and "
                              "@input_schema; keep one", str(path), None, "")
    return InputKind.RAW if raw else InputKind.SCHEMA if schema else InputKind.STRING


def _schema_decorated(run: Callable[..., Any]) -> bool:
    if "inference_schema" not in sys.modules:
        return False  # a script using the decorators has imported the package already
    from inference_schema.schema_util import is_schema_decorated

    return bool(is_schema_decorated(run))


def _forget_schemas() -> None:
    """inference-schema keys schemas by module + function name in module-wide dicts; a
    reload whose run() lost its decorators must not inherit the old ones."""
    util = sys.modules.get("inference_schema.schema_util")
    if util is None:
        return
    for table in (getattr(util, "__functions_schema__", {}), getattr(util, "__versions__", {})):
        for key in [key for key in table if key.startswith(f"{MODULE_NAME}.")]:
            del table[key]


def _load_error(what: str, exc: BaseException, code_root: Path,
                script: Path) -> ScriptLoadError:
    from devkit_runtime import envcheck  # only on failure: it reads package metadata

    file, line = locate(exc, code_root)
    tb = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    diagnosis = envcheck.blame(exc)
    if diagnosis is not None:
        message = f"{what} in the environment, not in {script.name}: {diagnosis}"
        return ScriptLoadError(message, file, line, tb, cause="environment")
    where = f" at {file}:{line}" if file else ""
    message = f"{what}{where}: {type(exc).__name__}: {exc}"
    return ScriptLoadError(message, file, line, tb)


def locate(exc: BaseException, code_root: Path) -> tuple[str | None, int | None]:
    """The file and line to blame: a SyntaxError's own position, else the innermost
    traceback frame inside the code root, else the innermost frame."""
    if isinstance(exc, SyntaxError) and exc.filename:
        return exc.filename, exc.lineno
    found: tuple[str | None, int | None] = (None, None)
    tb: TracebackType | None = exc.__traceback__
    root = str(code_root)
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if filename.startswith(root) or found == (None, None):
            found = (filename, tb.tb_lineno)
        tb = tb.tb_next
    return found


def header_dict(headers: list[tuple[str, str]]) -> dict[str, str]:
    """The headers as azmlinfsrv passes them to a ``request_headers`` parameter
    (``dict(flask.request.headers)`` under gunicorn): title-cased names, repeats joined
    with ``,``, names containing ``_`` dropped (see :func:`amlrequest.environ`)."""
    result: dict[str, str] = {}
    for name, value in headers:
        if "_" in name:
            continue
        key = name.title()
        result[key] = f"{result[key]},{value}" if key in result else value
    return result


def _string_argument(request: Request) -> str:
    if request.method == "GET":
        return json.dumps(query_object(request.query))
    if request.body and _is_form(request.raw_headers):
        # azmlinfsrv hands run() ``request.data``, which Flask leaves empty once it has
        # parsed a form body; a script must see here what it will see in Azure.
        _warn_form_once()
        return ""
    try:
        return request.body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(400, f"Input cannot be decoded as UTF-8: {exc}") from None


def query_object(query: str) -> dict[str, Any]:
    """GET parameters as run() sees them: values JSON-parsed where possible, repeated
    keys as lists (azmlinfsrv's ``_parse_get_parameters``)."""
    grouped: dict[str, list[Any]] = {}
    for key, value in parse_qsl(query, keep_blank_values=True):
        grouped.setdefault(key, []).append(_maybe_json(value))
    return {key: values[0] if len(values) == 1 else values for key, values in grouped.items()}


def _maybe_json(value: str) -> Any:
    try:
        return json.loads(value)
    except ValueError:
        return value


def _schema_arguments(request: Request, params: list[inspect.Parameter]) -> dict[str, Any]:
    if request.method == "GET":
        return _extract(query_object(request.query), params)
    mime = _header(request, "content-type").split(";", 1)[0].strip().lower()
    if not (mime == "application/json" or (mime.startswith("application/")
                                           and mime.endswith("+json"))):
        raise InputError(415, "Expects Content-Type to be application/json")
    try:
        body = json.loads(request.body)
    except ValueError as exc:
        if request.body:
            raise InputError(400, f"POST body could not be decoded as JSON: {exc}") from None
        raise InputError(400, "POST body is empty. Expecting a JSON dictionary.") from None
    if not isinstance(body, dict):
        raise InputError(400, "POST body should be a JSON dictionary.")
    return _extract(body, params)


def _extract(body: dict[str, Any], params: list[inspect.Parameter]) -> dict[str, Any]:
    kwargs: dict[str, Any] = {}
    for param in params:
        value = body.get(param.name, param.default)
        if value is inspect.Parameter.empty:
            raise InputError(400, f"A value is not provided for the {param.name!r} parameter.")
        kwargs[param.name] = value
    return kwargs


def _header(request: Request, name: str) -> str:
    for key, value in request.headers:
        if key == name:
            return value
    return ""


_form_warned: list[bool] = []


def _warn_form_once() -> None:
    if not _form_warned:
        _form_warned.append(True)
        log.warning('run(data) got a form-encoded body as "" (as in Azure, where Flask '
                    "parses forms into request.form); decorate run() with @rawhttp and read "
                    "request.form / request.files")


def _is_form(raw_headers: list[tuple[bytes, bytes]]) -> bool:
    for name, value in raw_headers:
        if name == b"content-type":
            return value.split(b";", 1)[0].strip().lower() in FORM_TYPES
    return False


def _aml_request(request: Request) -> Any:
    from devkit_runtime import amlrequest  # werkzeug: loaded for @rawhttp scripts only

    return amlrequest.from_request(request.method, request.path, request.query,
                                   request.headers, request.body, request.client,
                                   request.server)
