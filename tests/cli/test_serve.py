"""``devkit serve``: pre-start errors in one sentence, and a real server on loopback."""

from __future__ import annotations

import http.client
import json
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

SCRIPTS = Path(__file__).resolve().parents[1] / "runtime" / "scripts"


def devkit(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "devkit.cli.main", "serve", *args],
                          capture_output=True, text=True, timeout=timeout)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_help_shows_an_example() -> None:
    done = devkit("--help")
    assert done.returncode == 0
    assert "devkit serve samples/regression/score.py --model-dir" in done.stdout
    assert "--entry_script" in done.stdout and "--worker_count" in done.stdout


def test_missing_script_is_one_sentence(tmp_path: Path) -> None:
    done = devkit(str(tmp_path / "nope.py"))
    assert done.returncode == 3
    assert done.stderr.count("\n") == 1
    assert f"scoring script {tmp_path / 'nope.py'} does not exist" in done.stderr


def test_script_without_run_names_the_file_and_the_fix(tmp_path: Path) -> None:
    script = tmp_path / "score.py"
    script.write_text("def init():\n    pass\n")
    done = devkit("--entry_script", str(script))
    assert done.returncode == 3
    assert f"{script} does not define run()" in done.stderr
    assert "def run(data):" in done.stderr


def test_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    script = tmp_path / "score.py"
    script.write_text("def init():\n    pass\n\ndef run(data:\n")
    done = devkit(str(script))
    assert done.returncode == 3
    assert f"{script}:4:" in done.stderr


def test_missing_model_dir(tmp_path: Path) -> None:
    done = devkit(str(SCRIPTS / "score_echo.py"), "--model_dir", str(tmp_path / "none"))
    assert done.returncode == 3
    assert "--model-dir" in done.stderr


def test_port_in_use_is_an_engine_error() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = devkit(str(SCRIPTS / "score_echo.py"), "--port", str(port))
    assert done.returncode == 4
    assert f"cannot listen on 127.0.0.1:{port}" in done.stderr


def test_serves_a_script_until_terminated(tmp_path: Path) -> None:
    port = free_port()
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "devkit.cli.main", "serve", str(SCRIPTS / "score_env.py"),
             "--model_dir", str(tmp_path), "--port", str(port), "--worker_count", "1"],
            stdout=out, stderr=subprocess.STDOUT)
    try:
        answer = _post_when_up(port, process, log)
        assert answer["AZUREML_MODEL_DIR"] == str(tmp_path)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
    text = log.read_text()
    assert "score_env.py" in text and f"http://127.0.0.1:{port}" in text
    assert "POST /score 200" in text


def _post_when_up(port: int, process: subprocess.Popen[bytes], log: Path) -> dict[str, str]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text()
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        try:
            connection.request("POST", "/score", body=b"{}")
            response = connection.getresponse()
            if response.status == 200:
                answer: dict[str, str] = json.loads(response.read())
                return answer
        except OSError:
            pass
        finally:
            connection.close()
        time.sleep(0.1)
    raise AssertionError(log.read_text())
