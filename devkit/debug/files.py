"""The VS Code files ``devkit debug`` writes: ``.vscode/launch.json`` (merged) and
``.devcontainer/devcontainer.json``, both filled from the templates in
``devkit/debug/templates/`` (their one copy, shipped as package data, so a wheel install
has them too; ``tests/debug/test_templates.py`` checks an installed wheel fills them).

* ``launch.json.tmpl``: attach to debugpy on the loopback port, with ``pathMappings`` from
  the local code folder to the server's (``/var/azureml-app/<code dir>`` in a container;
  the same folder for the process engine).
* ``devcontainer.json.tmpl``: the deployment's image (for the process engine, the image
  ``devkit up --engine docker`` builds for it) with code and model mounted where Azure
  mounts them, the server's environment, ports 5001 and 5678 forwarded.

``${name}`` placeholders are replaced by JSON-safe values (``${mounts}`` and ``${env}`` by
whole JSON values).

``launch.json`` is the user's file: it may hold other configurations and comments (VS Code
reads JSON with comments), so it is merged, never overwritten: comments and trailing
commas are read, the configuration with our name is replaced or appended, the rest kept.
"""

from __future__ import annotations

import json
import re
import string
from pathlib import Path
from typing import Any

from devkit.debug.target import DebugTarget
from devkit.errors import DebugError

TEMPLATES = Path(__file__).resolve().parent / "templates"
LAUNCH_TEMPLATE = "launch.json.tmpl"
DEVCONTAINER_TEMPLATE = "devcontainer.json.tmpl"


def write_launch_json(target: DebugTarget, workspace: Path) -> Path:
    """Add (or replace) the attach configuration in ``workspace/.vscode/launch.json``."""
    path = workspace / ".vscode" / "launch.json"
    config = fill(LAUNCH_TEMPLATE, target.template_values())
    document: dict[str, Any] = read_jsonc(path) if path.is_file() else {"version": "0.2.0"}
    configurations = [c for c in document.get("configurations", [])
                      if not (isinstance(c, dict) and c.get("name") == config["name"])]
    document["configurations"] = [*configurations, config]
    document.setdefault("version", "0.2.0")
    _write(path, document)
    return path


def write_devcontainer_json(target: DebugTarget, workspace: Path) -> Path:
    """Write ``workspace/.devcontainer/devcontainer.json`` for the deployment's image."""
    path = workspace / ".devcontainer" / "devcontainer.json"
    _write(path, fill(DEVCONTAINER_TEMPLATE, target.template_values()))
    return path


def fill(template: str, values: dict[str, Any]) -> dict[str, Any]:
    """A template with ``${name}`` replaced: strings JSON-escaped in place (the template
    quotes them), everything else as a JSON value."""
    source = TEMPLATES / template
    try:
        text = source.read_text(encoding="utf-8")
    except OSError as exc:
        raise DebugError(f"The template {source} is missing ({exc.strerror}); reinstall "
                         "devkit (`pip install --force-reinstall devkit`, or `make setup` "
                         "in a checkout).") from exc
    encoded = {k: json.dumps(v)[1:-1] if isinstance(v, str) else json.dumps(v)
               for k, v in values.items()}
    try:
        filled: dict[str, Any] = json.loads(string.Template(text).substitute(encoded))
    except (KeyError, ValueError) as exc:
        raise DebugError(f"The template {source} is not valid ({exc}); fix it or restore "
                         "it from devkit's repository.") from exc
    return filled


_JSONC = re.compile(r'("(?:\\.|[^"\\])*")|//[^\n]*|/\*.*?\*/', re.DOTALL)
_TRAILING_COMMA = re.compile(r",(\s*[}\]])")


def read_jsonc(path: Path) -> dict[str, Any]:
    """A JSON-with-comments file as VS Code reads it."""
    text = path.read_text(encoding="utf-8")
    bare = _JSONC.sub(lambda m: m.group(1) or "", text)
    bare = _TRAILING_COMMA.sub(r"\1", bare)
    try:
        document = json.loads(bare) if bare.strip() else {}
    except ValueError as exc:
        raise DebugError(f"{path} is not valid JSON ({exc}); fix or remove it and run "
                         "`devkit debug` again.") from exc
    if not isinstance(document, dict):
        raise DebugError(f"{path} does not hold a JSON object; fix or remove it and run "
                         "`devkit debug` again.")
    return document


def _write(path: Path, document: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_suffix(".tmp")
    temp.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    temp.replace(path)
