"""``devkit serve SCRIPT --model-dir DIR``: the inference server on the host.

The host-side equivalent of ``azmlinfsrv``: it checks what it can before starting (the
script exists and defines init() and run(), the model folder exists), builds one
:class:`devkit_runtime.ServerConfig` and hands it to the blocking
:func:`devkit_runtime.serve`. azmlinfsrv's flag spellings (``--entry_script``,
``--model_dir``, ``--worker_count``) are accepted so existing scripts and docs work.
"""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path
from typing import Any

import click

from devkit.errors import EngineError, ScriptError


@click.command("serve", context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("script", required=False, type=click.Path(dir_okay=False))
@click.option("--entry-script", "--entry_script", "entry_script", metavar="PATH",
              help="The scoring script (same as SCRIPT; azmlinfsrv spelling).")
@click.option("--model-dir", "--model_dir", "model_dir", metavar="DIR",
              help="Model folder, exported to the script as AZUREML_MODEL_DIR.")
@click.option("--port", type=int, help="Port to listen on (default $SERVER_PORT or 5001).")
@click.option("--host", help="Address to bind (default 127.0.0.1).")
@click.option("--workers", "--worker_count", "--worker-count", "workers", type=int,
              help="Worker processes (default $WORKER_COUNT or 1).")
@click.option("--timeout-ms", type=int,
              help="Per-request run() timeout in ms (default $SCORING_TIMEOUT_MS or 1 h).")
@click.option("--admin-port", type=int,
              help="Loopback port for POST /-/reload (default: no admin listener).")
@click.option("--debug-port", type=int, help="Listen for a debugpy client on this port.")
def serve(script: str | None, entry_script: str | None, model_dir: str | None,
          port: int | None, host: str | None, workers: int | None, timeout_ms: int | None,
          admin_port: int | None, debug_port: int | None) -> None:
    """Serve an Azure ML scoring script (init()/run()) over HTTP, like azmlinfsrv.

    Without a script, --model-dir may be an MLflow model folder (with an MLmodel file): it
    is served with mlflow.pyfunc, as a no-code MLflow deployment is in Azure.

    Routes: POST/GET /score, GET / (Healthy), /swagger.json, /-/live, /-/ready,
    /metrics. Press Ctrl+C to stop.

    \b
    Examples:
      devkit serve samples/regression/score.py --model-dir samples/regression/model
      devkit serve --entry_script score.py --model_dir model --worker_count 2 --port 5002
      devkit serve --model-dir mlruns/0/abc/artifacts/model
    """
    from devkit_runtime import ServerConfig, ServerStartError
    from devkit_runtime import serve as run_server

    if model_dir is not None and not Path(model_dir).is_dir():
        raise ScriptError(f"model folder {model_dir} does not exist; pass the folder holding "
                          "the model files with --model-dir")
    mlflow = not (script or entry_script) and model_dir is not None
    if mlflow:
        assert model_dir is not None
        path = Path(_mlflow_scorer(Path(model_dir)))
    else:
        path = Path(_pick_script(script, entry_script))
        check_script(path)
    overrides: dict[str, Any] = {
        "entry_script": str(path.resolve()), "model_dir": model_dir, "port": port,
        "host": host, "workers": workers, "scoring_timeout_ms": timeout_ms,
        "admin_port": admin_port, "debug_port": debug_port}
    base = ServerConfig.from_env()
    config = dataclasses.replace(
        base, app_root="", **{key: value for key, value in overrides.items()
                             if value is not None})
    if model_dir is not None:
        config = dataclasses.replace(config, model_dir=str(Path(model_dir).resolve()))
    if mlflow:  # the model folder is what a save reloads
        config = dataclasses.replace(config, app_root=config.model_dir)
    try:
        run_server(config)
    except ServerStartError as exc:
        raise EngineError(str(exc)) from exc


def _mlflow_scorer(model_dir: Path) -> str:
    """No script and an MLflow model folder: the runtime's own MLflow scorer serves it."""
    from devkit_runtime.config import builtin_script

    from devkit.spec.mlflow_model import read_mlflow_model

    if not (model_dir / "MLmodel").is_file():
        raise click.UsageError(f"no scoring script given and {model_dir} has no MLmodel file; "
                               "run `devkit serve score.py --model-dir DIR`, or point "
                               "--model-dir at an MLflow model folder")
    read_mlflow_model(model_dir)
    return builtin_script("mlflow")


def _pick_script(script: str | None, entry_script: str | None) -> str:
    if script and entry_script and Path(script) != Path(entry_script):
        raise click.UsageError(f"two different scripts given ({script} and {entry_script}); "
                               "pass one")
    chosen = script or entry_script
    if not chosen:
        raise click.UsageError("no scoring script given; run `devkit serve score.py "
                               "--model-dir model/`")
    return chosen


def check_script(path: Path) -> None:
    """Fail before starting when the script is missing or lacks init()/run().

    Read with ``ast`` rather than imported: importing would run the user's module-level
    code twice (here and in the worker).
    """
    if not path.is_file():
        raise ScriptError(f"scoring script {path} does not exist; check the path (it should "
                          "be the score.py defining init() and run())")
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    except SyntaxError as exc:
        raise ScriptError(f"{path}:{exc.lineno}: the scoring script is not valid Python "
                          f"({exc.msg}); fix the syntax error") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ScriptError(f"cannot read scoring script {path} ({exc}); check the file and its "
                          "permissions") from exc
    defined = _top_level_names(tree)
    if "*" in defined:
        return  # a star import may provide them; the server will tell if not
    missing = [name for name in ("init", "run") if name not in defined]
    if missing:
        wanted = " and ".join(f"{name}()" for name in missing)
        raise ScriptError(f"{path} does not define {wanted}; an Azure ML scoring script "
                          "needs `def init():` and `def run(data):` at module level")


def _top_level_names(tree: ast.Module) -> set[str]:
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
    return names
