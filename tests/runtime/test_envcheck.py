"""Whose fault is an init() failure: score.py's, or the environment's?

A real clash, installed for real: Flask 2.0.3 (it asks for ``Werkzeug>=2.0`` and nothing
more) beside Werkzeug 3.0.6, which removed ``werkzeug.urls.url_quote``, into a folder named
``site-packages`` on the server's ``PYTHONPATH``. A score.py whose init() imports flask
then fails inside that folder while importing: the runtime says it is the environment,
names both distributions and the fix, and ``/-/ready`` carries ``cause: environment``.
Installed code that raises while being *called* (a missing file handed to a library) stays
the script's fault, and so does score.py's own import of a module that does not exist.
The smoke import (``python -m devkit_runtime.envcheck``) gives the same sentence.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from runtime_server import devkit_server


def _script(folder: Path, body: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "score.py"
    path.write_text(body + "\n\ndef run(data):\n    return data\n")
    return path


def _readiness(script: Path, tmp_path: Path, site: Path) -> dict[str, object]:
    with devkit_server(script, tmp_path, env={"PYTHONPATH": str(site)}) as server:
        reply = server.wait_ready()
        assert reply.status == 503
        body = reply.json()
        assert isinstance(body, dict)
        return body


def test_init_failing_inside_site_packages_is_the_environment(tmp_path: Path,
                                                             clashing_site: Path) -> None:
    script = _script(tmp_path / "code", "def init():\n    import flask  # noqa: F401")
    body = _readiness(script, tmp_path, clashing_site)
    error = str(body["error"])
    assert body["cause"] == "environment"
    assert error.startswith("init() in score.py failed in the environment, not in score.py: ")
    assert "Flask 2.0.3 does not work with the installed Werkzeug 3.0.6" in error
    assert "cannot import name 'url_quote' from 'werkzeug.urls'" in error
    assert "pin Werkzeug to a release Flask 2.0.3 supports" in error
    assert "flask/helpers.py" in str(body["traceback"])


def test_installed_code_raising_when_called_is_the_script(tmp_path: Path,
                                                         clashing_site: Path) -> None:
    # jinja2 raises from inside site-packages, but because score.py asked for a template
    # that is not there.
    script = _script(tmp_path / "code", "def init():\n    import jinja2\n    env = "
                     "jinja2.Environment(loader=jinja2.FileSystemLoader('/no/such'))\n"
                     "    env.get_template('model.j2')")
    body = _readiness(script, tmp_path, clashing_site)
    assert body["cause"] == "script"
    assert "score.py:4" in str(body["error"]) and "TemplateNotFound" in str(body["error"])
    assert "site-packages/jinja2/loaders.py" in str(body["traceback"])


def test_missing_import_in_score_py_is_the_script(tmp_path: Path,
                                                  clashing_site: Path) -> None:
    script = _script(tmp_path / "code", "import no_such_module_here  # noqa: F401\n\n"
                     "def init():\n    pass")
    body = _readiness(script, tmp_path, clashing_site)
    assert body["cause"] == "script"
    assert "score.py:1" in str(body["error"])


def test_smoke_import_names_the_clash_and_exits_1(clashing_site: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(clashing_site)}
    done = subprocess.run([sys.executable, "-m", "devkit_runtime.envcheck", "Flask",
                           "Werkzeug"], capture_output=True, text=True, env=env, check=False)
    verdicts = [line for line in done.stdout.splitlines()
                if line.startswith("devkit-envcheck: ")]
    assert done.returncode == 1
    assert verdicts == [
        "devkit-envcheck: importing flask fails: Flask 2.0.3 does not work with the "
        "installed Werkzeug 3.0.6 (ImportError: cannot import name 'url_quote' from "
        "'werkzeug.urls'): pin Werkzeug to a release Flask 2.0.3 supports (usually an "
        "older one), or upgrade Flask"]


def test_smoke_import_of_a_working_environment_exits_0() -> None:
    done = subprocess.run([sys.executable, "-m", "devkit_runtime.envcheck", "PyYAML",
                           "httpx"], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout
    assert "importing yaml (PyYAML)" in done.stdout
    assert done.stdout.splitlines()[-1] == "devkit-envcheck: ok: 2 packages import"
