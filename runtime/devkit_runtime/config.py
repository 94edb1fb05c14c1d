"""The server's one configuration object, built once at the boundary and passed down.

:class:`ServerConfig` is what the command line (``python -m devkit_runtime``), the host CLI
(``devkit serve``) and the engines agree on. ``from_env`` reads the azmlinfsrv-compatible
environment (``SERVER_PORT``, ``WORKER_COUNT``, ``AZUREML_ENTRY_SCRIPT``, ...) plus devkit's
own (``DEVKIT_*``); ``from_args`` lets flags override it, accepting both the azmlinfsrv
spellings (``--entry_script``) and the dashed ones (``--entry-script``). Workers receive the
same object serialised as JSON, so every process sees identical settings.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from devkit_runtime.errors import ConfigError

DEFAULT_PORT = 5001
DEFAULT_HOST = "127.0.0.1"
DEFAULT_TIMEOUT_MS = 3_600_000  # azmlinfsrv's default: one hour
DEFAULT_MAX_BODY_BYTES = 100 * 1024 * 1024
DEFAULT_APP_ROOT = "/var/azureml-app"
# Scoring scripts shipped with the runtime, chosen by DEVKIT_SCORER when a deployment has
# no score.py of its own (a no-code MLflow model: CONTRACT.md §6).
BUILTIN_SCORERS = {"mlflow": "mlflow_score.py"}


@dataclass(frozen=True)
class ServerConfig:
    """Everything one server (supervisor and all its workers) needs to run.

    ``entry_script`` is an absolute or cwd-relative path to the scoring script;
    ``app_root`` is the code root put on ``sys.path`` (defaults to the script's folder).
    """

    entry_script: str
    model_dir: str = ""
    app_root: str = ""
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    workers: int = 1
    run_threads: int = 1
    scoring_timeout_ms: int = DEFAULT_TIMEOUT_MS
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    cors_origins: tuple[str, ...] = ()
    admin_port: int | None = None
    debug_port: int | None = None
    debug_wait: bool = False
    server_version: str = ""
    extra_env: dict[str, str] = field(default_factory=dict)
    # The deployment's liveness_probe, enforced by the supervisor on its workers
    # (supervisor.LivenessProbe); a period of 0 enforces nothing (`devkit serve`).
    liveness_initial_delay: float = 0.0
    liveness_period: float = 0.0
    liveness_timeout: float = 2.0
    liveness_failure_threshold: int = 30

    @property
    def script_path(self) -> Path:
        return Path(self.entry_script).resolve()

    @property
    def code_root(self) -> Path:
        return Path(self.app_root).resolve() if self.app_root else self.script_path.parent

    def effective_workers(self) -> int:
        """A debugger can only attach to one process, so debugging forces one worker."""
        return 1 if self.debug_port is not None else max(1, self.workers)

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self))

    @classmethod
    def from_json(cls, text: str) -> ServerConfig:
        data = json.loads(text)
        data["cors_origins"] = tuple(data.get("cors_origins", ()))
        return cls(**data)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ServerConfig:
        """Build a config from the azmlinfsrv-compatible environment alone."""
        env = os.environ if environ is None else environ
        app_root = env.get("AML_APP_ROOT", "")
        script = env.get("AZUREML_ENTRY_SCRIPT", "")
        if script and not os.path.isabs(script):
            script = os.path.join(app_root or DEFAULT_APP_ROOT, script)
        scorer = env.get("DEVKIT_SCORER", "")
        if scorer and not script:
            # The built-in script watches and reloads the model folder, its "code".
            script, app_root = builtin_script(scorer), env.get("AZUREML_MODEL_DIR", "")
        debug = env.get("DEVKIT_DEBUG_PORT") or env.get("AZUREML_DEBUG_PORT")
        admin = env.get("DEVKIT_ADMIN_PORT")
        return cls(
            entry_script=script,
            model_dir=env.get("AZUREML_MODEL_DIR", ""),
            app_root=app_root,
            host=env.get("SERVER_HOST", DEFAULT_HOST),
            port=_int(env, "SERVER_PORT", DEFAULT_PORT),
            workers=_int(env, "WORKER_COUNT", 1),
            run_threads=_int(env, "DEVKIT_RUN_THREADS", 1),
            scoring_timeout_ms=_int(env, "SCORING_TIMEOUT_MS", DEFAULT_TIMEOUT_MS),
            max_body_bytes=_int(env, "DEVKIT_MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES),
            cors_origins=_origins(env.get("AML_CORS_ORIGINS", "")),
            admin_port=int(admin) if admin else None,
            debug_port=int(debug) if debug else None,
            debug_wait=env.get("DEVKIT_DEBUG_WAIT", "") in ("1", "true", "True"),
            server_version=env.get("HTTP_X_MS_SERVER_VERSION", ""),
            liveness_initial_delay=_float(env, "DEVKIT_LIVENESS_INITIAL_DELAY", 0.0),
            liveness_period=_float(env, "DEVKIT_LIVENESS_PERIOD", 0.0),
            liveness_timeout=_float(env, "DEVKIT_LIVENESS_TIMEOUT", 2.0),
            liveness_failure_threshold=max(1, _int(env, "DEVKIT_LIVENESS_FAILURE_THRESHOLD",
                                                   30)),
        )

    @classmethod
    def from_args(cls, argv: Sequence[str] | None = None,
                  environ: Mapping[str, str] | None = None) -> ServerConfig:
        """Flags over environment, as ``python -m devkit_runtime`` parses them."""
        base = cls.from_env(environ)
        args = build_parser().parse_args(argv)
        overrides = {key: value for key, value in vars(args).items() if value is not None}
        config = dataclasses.replace(base, **overrides)
        if not config.entry_script:
            raise ConfigError("no scoring script given: pass --entry_script PATH or set "
                              "AZUREML_ENTRY_SCRIPT (relative to AML_APP_ROOT)")
        return config


def builtin_script(name: str) -> str:
    """The path of a scoring script shipped with the runtime (``DEVKIT_SCORER=name``)."""
    if name not in BUILTIN_SCORERS:
        raise ConfigError(f"DEVKIT_SCORER={name!r} is not a built-in scorer; use one of "
                          f"{', '.join(BUILTIN_SCORERS)} or unset it")
    return str(Path(__file__).with_name(BUILTIN_SCORERS[name]))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="devkit-runtime",
        description="Serve an Azure ML score.py (init()/run()) over HTTP.",
        epilog="example: devkit-runtime --entry_script score.py --model_dir model/ --port 5001",
    )
    parser.add_argument("--entry_script", "--entry-script", dest="entry_script")
    parser.add_argument("--model_dir", "--model-dir", dest="model_dir")
    parser.add_argument("--app_root", "--app-root", dest="app_root")
    parser.add_argument("--port", type=int)
    parser.add_argument("--host")
    parser.add_argument("--worker_count", "--workers", dest="workers", type=int)
    parser.add_argument("--admin_port", "--admin-port", dest="admin_port", type=int)
    parser.add_argument("--debug_port", "--debug-port", dest="debug_port", type=int)
    return parser


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "")
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"environment variable {name}={raw!r} is not an integer; "
                          f"set it to a whole number or unset it") from None


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name, "")
    if not raw:
        return default
    try:
        return float(raw)
    except ValueError:
        raise ConfigError(f"environment variable {name}={raw!r} is not a number of seconds; "
                          f"set it to a number or unset it") from None


def _origins(raw: str) -> tuple[str, ...]:
    return tuple(origin.strip() for origin in raw.split(",") if origin.strip())
