"""Helpers for the spec tests: a real endpoint folder on disk that each test bends.

:class:`Project` writes a valid endpoint (endpoint.yml, blue.yml, a model folder, a code
folder with score.py, and a conda file that the loader must ignore by its content) into
``tmp_path``. Tests rewrite one line of one file and assert on the exact error.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from devkit.errors import SpecError
from devkit.spec import load
from devkit.spec.model import Endpoint

ENDPOINT_YML = """\
name: my-endpoint
auth_mode: key
traffic:
  blue: 100
"""

# Line numbers matter: tests assert them. 1 name, 2 endpoint_name, 3 model, 4 path,
# 5 code_configuration, 6 code, 7 scoring_script, 8 environment, 9 image, 10 conda_file,
# 11 instance_type, 12 instance_count.
BLUE_YML = """\
name: blue
endpoint_name: my-endpoint
model:
  path: model
code_configuration:
  code: src
  scoring_script: score.py
environment:
  image: python:3.11-slim
  conda_file: conda.yml
instance_type: Standard_DS3_v2
instance_count: 1
"""

CONDA_YML = """\
name: my-env
channels: [conda-forge]
dependencies:
  - python=3.11
  - pip:
      - numpy
"""


class Project:
    """A valid endpoint folder; ``write``/``edit`` bend it, ``load``/``error`` read it."""

    def __init__(self, root: Path) -> None:
        self.root = root
        (root / "model").mkdir(parents=True)
        (root / "model" / "model.pkl").write_bytes(b"not a real pickle")
        (root / "src").mkdir()
        (root / "src" / "score.py").write_text("def init():\n    pass\n\n\n"
                                               "def run(data):\n    return data\n")
        self.write("conda.yml", CONDA_YML)
        self.write("endpoint.yml", ENDPOINT_YML)
        self.write("blue.yml", BLUE_YML)

    def write(self, name: str, text: str) -> Path:
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        return path

    def edit(self, name: str, old: str, new: str) -> None:
        """Replace ``old`` (which must occur exactly once) in file ``name``."""
        path = self.root / name
        text = path.read_text()
        assert text.count(old) == 1, f"{old!r} must occur once in {name}"
        path.write_text(text.replace(old, new))

    def load(self, paths: Sequence[Path] | None = None) -> Endpoint:
        return load(paths if paths is not None else [self.root])

    def error(self, paths: Sequence[Path] | None = None) -> SpecError:
        with pytest.raises(SpecError) as info:
            self.load(paths)
        return info.value


def assert_error(error: SpecError, *, file: str, line: int | None, field: str | None,
                 says: str) -> None:
    """The error names this file (by name), line and field, and its text contains ``says``."""
    message = str(error)
    assert error.file is not None and Path(error.file).name == file, message
    assert error.line == line, message
    assert error.field == field, message
    where = f"{file}:{line}: " if line is not None else f"{file}: "
    assert where in message, message
    if field is not None:
        assert f"field '{field}'" in message, message
    assert says in message, message
