"""How a failed reload reads on the host: a container path becomes the user's own file,
and a location the runtime already put in its error is not repeated."""

from __future__ import annotations

from pathlib import Path

from devkit.engines import launch
from devkit.reload.outcomes import ReplicaReload, _mapped
from devkit.spec import load

REGRESSION = Path(__file__).resolve().parents[2] / "samples" / "regression"
IN_CONTAINER = "/var/azureml-app/regression/score.py"


def test_a_container_path_is_shown_as_the_local_file_once() -> None:
    error = f"importing score.py failed at {IN_CONTAINER}:26: SyntaxError: invalid syntax"
    outcome = ReplicaReload("blue", 0, False, 3.0, 2, error, IN_CONTAINER, 26)
    in_container = lambda d: str(launch.container_code_dir(d))  # noqa: E731  (docker's view)
    sentence = _mapped(outcome, in_container, load([REGRESSION])).sentence()
    local = f"{REGRESSION}/score.py:26"
    assert "/var/azureml-app" not in sentence
    assert sentence.count(local) == 1 and "SyntaxError" in sentence
    assert sentence.startswith("blue-0: reload failed: importing score.py failed at ")


def test_a_bare_error_gets_its_location_from_the_outcome() -> None:
    outcome = ReplicaReload("green", 1, False, 3.0, 2, "ValueError: bad model", "/src/score.py", 9)
    assert outcome.sentence().startswith("green-1: reload failed at /src/score.py:9: ValueError")
