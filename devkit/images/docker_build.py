"""Run one ``docker build`` and show it as progress, not as docker's log.

The caller's progress callback gets one line per Dockerfile step as it starts
(``[3/7] RUN pip install flask``), its time when it ends if it took a second or more
(``[3/7] done in 4.2 s``) and a summary with the cached count; between them, at most four
times a second, a :class:`devkit.progress.Status` with the step's seconds and docker's
latest line (a terminal shows it as one updating line; a pipe never sees it). docker's own
output (every pip line, every layer id) goes to a log file under ``cache_dir()/logs/``
whose path is said once, and to the callback as well with ``--verbose``. A failing step
becomes an ImageBuildError naming the step, with its last output lines and the log's path;
a failed smoke import (:mod:`devkit_runtime.envcheck`) becomes its own sentence instead.
docker SDK errors are translated here, nowhere else.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import docker
import docker.errors
import requests
import urllib3
from devkit_runtime.envcheck import PREFIX as ENVCHECK_PREFIX

from devkit.errors import ImageBuildError
from devkit.paths import cache_dir
from devkit.progress import Status, Throttle, verbose

Progress = Callable[[str], None]
TAIL_LINES = 12
SHOW_STEP_TIME = 1.0  # seconds: a step that took longer gets its own "done in" line
_ANSI = re.compile(r"\x1b\[[0-9;]*m")  # the classic builder colours a step's stderr
_STEP = re.compile(r"^Step (\d+)/(\d+) : (.*)$")
# The classic builder's own lines within a step: not worth a status line.
_BOOKKEEPING = ("--->", "Removing intermediate container")


@dataclass
class _Display:
    """Turns docker's stream into step lines; keeps the tail and the envcheck verdicts."""

    say: Progress
    log: IO[str]
    started: float = field(default_factory=time.monotonic)
    step: str = ""
    step_started: float = 0.0
    cached: bool = False
    steps: int = 0
    cached_steps: int = 0
    tail: list[str] = field(default_factory=list)
    verdicts: list[str] = field(default_factory=list)
    raw: bool = field(default_factory=verbose)
    throttle: Throttle = field(default_factory=Throttle)

    def line(self, text: str) -> None:
        self.log.write(text + "\n")
        if self.raw:
            self.say(f"  | {text}")
        match = _STEP.match(text)
        if match:
            self.end_step()
            self.step, self.step_started, self.cached = text, time.monotonic(), False
            self.tail = []
            self.throttle.last = 0.0  # a step's first output line is never held back
            self.say(f"[{match.group(1)}/{match.group(2)}] {_short(match.group(3))}")
            return
        self.tail = (self.tail + [text])[-TAIL_LINES:]
        step = _STEP.match(self.step)
        if step and not self.raw and not text.lstrip().startswith(_BOOKKEEPING) \
                and self.throttle.due():
            took = time.monotonic() - self.step_started
            self.say(Status(f"[{step.group(1)}/{step.group(2)}] {took:.0f} s  "
                            f"{_short(text, 70)}"))
        if text.strip() == "---> Using cache":
            self.cached = True
        if text.startswith(ENVCHECK_PREFIX):
            self.verdicts.append(text[len(ENVCHECK_PREFIX):])

    def end_step(self) -> None:
        match = _STEP.match(self.step)
        if not match:
            return
        self.steps += 1
        self.cached_steps += self.cached
        took = time.monotonic() - self.step_started
        if took >= SHOW_STEP_TIME and not self.cached:  # quick steps: the summary counts them
            self.say(f"[{match.group(1)}/{match.group(2)}] done in {took:.1f} s")
        self.step = ""


def docker_build(client: docker.DockerClient, context: Path, tag: str, *,
                 labels: Mapping[str, str], progress: Progress,
                 dockerfile: str = "Dockerfile", what: str = "image",
                 buildargs: Mapping[str, str] | None = None) -> str:
    """Build ``context`` as ``tag`` and return the image id."""
    log_path = build_log(tag)
    with log_path.open("w", encoding="utf-8") as log:
        display = _Display(progress, log)
        progress(f"building the {what} (context {_size(context_bytes(context))}); docker's "
                 f"full output goes to {log_path}")
        error = ""
        try:
            stream = client.api.build(path=str(context), dockerfile=dockerfile, tag=tag,
                                      labels=dict(labels), rm=True, forcerm=True,
                                      decode=True, pull=False, buildargs=dict(buildargs or {}))
            # The stream is read to its end even after an error, so its connection closes.
            lines = _Lines()
            for message in stream:
                if "error" in message:
                    error = str(message["error"]).strip()
                    log.write(error + "\n")
                for line in lines.feed(message):
                    display.line(line)
            for line in lines.rest():
                display.line(line)
        except docker.errors.DockerException as exc:
            raise _failed(what, display, str(exc), log_path) from exc
        except (requests.exceptions.RequestException, urllib3.exceptions.HTTPError) as exc:
            # the engine closed the stream mid-build (restarted, or its connection dropped)
            raise _failed(what, display, f"the Docker engine stopped answering ({exc}); check "
                          "it with `devkit doctor`", log_path) from exc
        if error:
            raise _failed(what, display, error, log_path)
        display.end_step()
    total = time.monotonic() - display.started
    progress(f"built the {what} in {total:.1f} s ({display.steps} steps, "
             f"{display.cached_steps} cached)")
    return str(client.images.get(tag).id)


def context_bytes(context: Path) -> int:
    """What the engine is sent before the first step (the classic builder takes it all)."""
    return sum(path.stat().st_size for path in context.rglob("*") if path.is_file())


def _size(count: int) -> str:
    return f"{count / 1e6:.1f} MB" if count >= 100_000 else f"{count / 1e3:.1f} kB"


def build_log(tag: str) -> Path:
    folder = cache_dir() / "logs"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"build-{re.sub(r'[^A-Za-z0-9_.-]+', '-', tag)}.log"


def image_exists(client: docker.DockerClient, tag: str) -> bool:
    """Whether the engine has ``tag`` locally (no pull)."""
    try:
        client.images.get(tag)
        return True
    except docker.errors.ImageNotFound:
        return False
    except docker.errors.DockerException as exc:
        raise ImageBuildError(f"the Docker engine could not look up {tag} ({exc}); check it "
                              "with `devkit doctor`.") from exc


class _Lines:
    """Whole lines out of the stream's messages: a step's output arrives in arbitrary
    pieces (uv's "error: ..." comes as "error", ":", " ..."), joined here at newlines."""

    def __init__(self) -> None:
        self.pending = ""

    def feed(self, message: Mapping[str, object]) -> Iterator[str]:
        if not message.get("stream"):  # a status message is a line of its own
            status = _ANSI.sub("", str(message.get("status") or "")).strip()
            return iter([status] if status else [])
        text = self.pending + _ANSI.sub("", str(message["stream"]))
        *whole, self.pending = text.split("\n")
        return (line.rstrip() for line in whole if line.strip())

    def rest(self) -> Iterator[str]:
        text, self.pending = self.pending, ""
        return iter([text.rstrip()] if text.strip() else [])


def _short(instruction: str, width: int = 90) -> str:
    one = " ".join(instruction.split())
    return one if len(one) <= width else one[: width - 1] + "…"


def _failed(what: str, display: _Display, error: str, log_path: Path) -> ImageBuildError:
    if display.verdicts:
        return ImageBuildError(f"the {what} was built but its packages do not import: "
                               f"{'; '.join(display.verdicts)}.")
    at = f" at '{display.step}'" if display.step else ""
    output = " | ".join([*display.tail, error][-TAIL_LINES:])
    return ImageBuildError(
        f"building the {what} failed{at}: {output}; fix that step (containers have no "
        "network while building, so packages must come from devkit's wheelhouse) and rerun "
        f"(full log: {log_path})."
    )


def link_or_copy(source: Path, destination: Path) -> None:
    """Put ``source`` into a build context: a hard link (wheels are large and read-only),
    or a copy where the context is on another file system."""
    try:
        os.link(source, destination)
    except OSError:
        shutil.copy2(source, destination)
