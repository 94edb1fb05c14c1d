"""spec_hash: stable across loads and processes, sensitive to spec fields only."""

from __future__ import annotations

import subprocess
import sys

from spec_support import Project

from devkit.spec import spec_hash


def _hash(project: Project) -> str:
    return spec_hash(project.load().deployments[0])


def test_same_spec_same_hash_in_another_process(project: Project) -> None:
    here = _hash(project)
    assert len(here) == 64 and int(here, 16) >= 0
    code = ("import sys; from pathlib import Path; from devkit.spec import load, spec_hash; "
            "print(spec_hash(load([Path(sys.argv[1])]).deployments[0]))")
    other = subprocess.run([sys.executable, "-c", code, str(project.root)], check=True,
                           capture_output=True, text=True).stdout.strip()
    assert other == here


def test_spec_field_changes_change_the_hash(project: Project) -> None:
    before = _hash(project)
    project.edit("blue.yml", "instance_count: 1", "instance_count: 2")
    after_count = _hash(project)
    project.edit("blue.yml", "  image: python:3.11-slim", "  image: python:3.12-slim")
    after_image = _hash(project)
    project.edit("blue.yml", "instance_count: 2", "instance_count: 2\nenvironment_variables:\n"
                 "  A: '1'")
    after_env = _hash(project)
    assert len({before, after_count, after_image, after_env}) == 4


def test_code_model_contents_layout_and_labels_do_not_change_the_hash(
        project: Project) -> None:
    before = _hash(project)
    (project.root / "src" / "score.py").write_text("def init():\n    pass\n\n\n"
                                                   "def run(data):\n    return 42\n")
    (project.root / "model" / "model.pkl").write_bytes(b"retrained")
    text = (project.root / "blue.yml").read_text()
    (project.root / "blue.yml").write_text("# a comment moves every line down\n\n" + text
                                           + "description: now described\ntags: {a: b}\n")
    assert _hash(project) == before
