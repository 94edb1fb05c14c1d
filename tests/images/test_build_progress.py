"""Progress, not logs: what a build shows on a terminal, in a pipe, and when a step fails.

The printer is exercised on real text streams (a terminal is a stream that says it is
one); the failing build is a real ``docker build`` whose install step asks uv, offline, for
a package the wheelhouse lacks, as devkit's own install step would.
"""

from __future__ import annotations

import io
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from devkit.engines.process.venv import host_target
from devkit.errors import ImageBuildError
from devkit.images.docker_build import build_log, docker_build
from devkit.images.installer import uv_binary
from devkit.progress import VERBOSE_ENV, LinePrinter, Status

MISSING = "devkit-no-such-package==1.0"


def test_a_pipe_gets_events_and_never_a_status_line() -> None:
    stream = io.StringIO()
    say = LinePrinter(stream)  # StringIO is not a terminal
    say("[1/3] FROM devkit/base:bookworm")
    say(Status("[1/3] 2 s  Installed 14 packages"))
    say("[1/3] done in 2.1 s")
    assert stream.getvalue() == "[1/3] FROM devkit/base:bookworm\n[1/3] done in 2.1 s\n"


def test_a_terminal_gets_one_updating_line() -> None:
    stream = io.StringIO()
    say = LinePrinter(stream, tty=True)
    say(Status("[2/3] 1 s  unpacking"))
    say(Status("[2/3] 2 s  " + "x" * 500))  # cut to the terminal's width
    say("[2/3] done in 2.4 s")
    out = stream.getvalue()
    first, second, rest = out.split("\r\x1b[2K")[1:4]
    assert first == "[2/3] 1 s unpacking"  # whitespace folded: one line, no newline
    assert second.startswith("[2/3] 2 s x") and second.endswith("…") and "\n" not in second
    assert len(second) < 500
    assert rest == "[2/3] done in 2.4 s\n"  # the status line is cleared before the event


def test_stream_pieces_become_whole_lines() -> None:
    from devkit.images.docker_build import _Lines

    lines = _Lines()
    seen = [*lines.feed({"stream": "\x1b[31merror\x1b[0m"}), *lines.feed({"stream": ":"}),
            *lines.feed({"stream": " No solution found\nStep 5/5 : LABEL"}),
            *lines.feed({"status": "a status is a line of its own"}),
            *lines.feed({"aux": {"ID": "sha256:1"}}), *lines.rest()]
    assert seen == ["error: No solution found", "a status is a line of its own",
                    "Step 5/5 : LABEL"]


@pytest.fixture
def failing_context(tmp_path: Path, base_image: str) -> Path:
    """A context whose last step is devkit's offline uv install, asked for a package that
    is not among the wheels."""
    context = tmp_path / "context"
    (context / "wheels").mkdir(parents=True)
    shutil.copy2(uv_binary(host_target(), lambda _line: None), context / "uv")
    (context / "wheels" / "requirements.txt").write_text(MISSING + "\n")
    (context / "Dockerfile").write_text(
        f"FROM {base_image}\nCOPY uv /opt/devkit/bin/uv\nCOPY wheels /opt/devkit/wheels\n"
        "RUN /opt/devkit/bin/uv venv --quiet /opt/devkit/venv \\\n"
        " && /opt/devkit/bin/uv pip install --python /opt/devkit/venv/bin/python --offline "
        "--no-index --no-cache --find-links /opt/devkit/wheels "
        "-r /opt/devkit/wheels/requirements.txt\n")
    return context


@pytest.mark.docker
def test_a_failing_step_shows_its_last_lines_and_the_log(
        docker_client: Any, failing_context: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(VERBOSE_ENV, raising=False)
    stream = io.StringIO()
    tag = "devkit-test-progress:failing"
    with pytest.raises(ImageBuildError) as info:
        docker_build(docker_client, failing_context, tag, labels={"devkit.test": "1"},
                     progress=LinePrinter(stream), what="image of deployment blue")
    message = str(info.value)
    assert message.startswith("building the image of deployment blue failed at 'Step 4/5 : "
                              "RUN /opt/devkit/bin/uv venv")  # step 5: the labels
    # uv's own sentence, whole, from the step's last lines
    assert ("Because devkit-no-such-package was not found in the provided package "
            "locations") in message
    assert str(build_log(tag)) in message
    out = stream.getvalue()
    assert "\r" not in out and "\x1b" not in out  # a pipe: no redrawn status line
    lines = out.splitlines()
    assert lines[0].startswith("building the image of deployment blue (context ")
    assert [line.split("]")[0] for line in lines[1:]] == ["[1/5", "[2/5", "[3/5", "[4/5"]
    assert "devkit-no-such-package" not in out  # uv's output stays out of the progress...
    assert "devkit-no-such-package" in build_log(tag).read_text()  # ...and in the log


@pytest.mark.docker
def test_verbose_adds_dockers_raw_output(
        docker_client: Any, failing_context: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(VERBOSE_ENV, "1")
    stream = io.StringIO()
    with pytest.raises(ImageBuildError):
        docker_build(docker_client, failing_context, "devkit-test-progress:verbose",
                     labels={"devkit.test": "1"}, progress=LinePrinter(stream))
    raw = [line for line in stream.getvalue().splitlines() if line.startswith("  | ")]
    assert any("Step 4/5 : RUN" in line for line in raw)
    assert any("devkit-no-such-package" in line for line in raw)


@pytest.mark.docker
def test_a_terminal_sees_the_running_step_on_one_line(
        docker_client: Any, base_image: str, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(VERBOSE_ENV, raising=False)
    (tmp_path / "Dockerfile").write_text(
        f"FROM {base_image}\nRUN echo resolving numpy && echo installed 3 packages\n")
    stream = io.StringIO()
    tag = "devkit-test-progress:tty"
    try:
        docker_build(docker_client, tmp_path, tag, labels={"devkit.test": "1"},
                     progress=LinePrinter(stream, tty=True))
        out = stream.getvalue()
    finally:
        docker_client.images.remove(tag, force=True)
    # the running step's output shows on the status line (a step's first output line is
    # never held back; its seconds are however long the step has run on this machine)...
    shown = re.search(r"\r\x1b\[2K\[2/3\] \d+ s resolving numpy", out)
    assert shown is not None, out
    # ...and the next thing written, a newer status or an event, first clears it
    after = out[shown.end():]
    assert after.startswith("\r\x1b[2K") and out.endswith(" cached)\n")
