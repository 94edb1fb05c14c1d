"""Secret references: parsing, the three sources and their order, the missing-secret
error, the store's file modes, and the runtime's export before init()."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from devkit.secrets import SecretMissing, parse_uri, references, resolve_endpoint
from devkit.secrets.refs import SecretRef, substitute
from devkit.secrets.store import remove_secret, set_secret, store_path, stored_names
from devkit.spec import load

URI = "azureml://connections/db/credentials/password"
ENV_NAME = "AZUREML_CONNECTIONS__DB__CREDENTIALS__PASSWORD"


@pytest.fixture
def dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DEVKIT_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("DEVKIT_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.delenv(ENV_NAME, raising=False)
    return tmp_path


class Project:
    """A minimal endpoint folder whose blue deployment sets ``environment_variables``."""

    def __init__(self, root: Path, env_lines: str) -> None:
        self.root = root
        (root / "model").mkdir(parents=True)
        (root / "model" / "m.txt").write_text("m")
        (root / "src").mkdir()
        (root / "src" / "score.py").write_text("def init():\n    pass\n\n"
                                               "def run(data):\n    return data\n")
        (root / "endpoint.yml").write_text("name: sec-endpoint\nauth_mode: key\n"
                                           "traffic:\n  blue: 100\n")
        (root / "blue.yml").write_text(
            "name: blue\nendpoint_name: sec-endpoint\nmodel:\n  path: model\n"
            "code_configuration:\n  code: src\n  scoring_script: score.py\n"
            "environment:\n  image: python:3.11-slim\ninstance_type: Standard_DS3_v2\n"
            "environment_variables:\n" + env_lines)


def project_with(tmp_path: Path, env_lines: str) -> Project:
    return Project(tmp_path / "ep", env_lines)


def test_references_are_found_alone_and_inside_values() -> None:
    env = {"A": "${{azureml://connections/db/credentials/password}}",
           "B": "postgres://app:${{ azureml://connections/db/credentials/password }}@h/x",
           "C": "${{azureml://connections/openai/target}}",
           "D": "${{azureml://connections/openai/metadata/api-version}}",
           "E": "plain"}
    found = references(env)
    assert sorted(found) == ["A", "B", "C", "D"]
    assert found["C"] == [SecretRef("openai", "target")]
    assert found["D"][0].env_name == "AZUREML_CONNECTIONS__OPENAI__METADATA__API_VERSION"
    assert substitute(env["B"], {found["B"][0]: "s3cret"}) == "postgres://app:s3cret@h/x"


def test_a_malformed_uri_names_the_accepted_forms() -> None:
    with pytest.raises(ValueError, match="azureml://connections/NAME/credentials/KEY"):
        parse_uri("azureml://connections/db/password")


def test_missing_secret_names_variable_file_and_three_ways(dirs: Path) -> None:
    project = project_with(dirs, f"  DB_PASSWORD: ${{{{{URI}}}}}\n")
    with pytest.raises(SecretMissing) as caught:
        resolve_endpoint(load([project.root]), environ={})
    text = str(caught.value)
    assert "blue.yml:1: field 'environment_variables.DB_PASSWORD'" in text
    assert f"devkit secrets set {URI}" in text
    assert f"export {ENV_NAME}=" in text
    assert str(project.root / ".env") in text


def test_sources_in_order_environment_then_dotenv_then_store(dirs: Path) -> None:
    project = project_with(dirs, f"  DB_URL: pg://u:${{{{{URI}}}}}@db\n")
    endpoint = load([project.root])
    set_secret(URI, "from-store")
    assert resolve_endpoint(endpoint, environ={})["blue"].env == {"DB_URL": "pg://u:from-store@db"}
    (project.root / ".env").write_text(f"{ENV_NAME}=from-dotenv\n")
    assert resolve_endpoint(endpoint, environ={})["blue"].env["DB_URL"] == "pg://u:from-dotenv@db"
    resolved = resolve_endpoint(endpoint, environ={ENV_NAME: "from-env"})["blue"]
    assert resolved.env["DB_URL"] == "pg://u:from-env@db"
    assert "from-env" not in repr(resolved)  # never printed, even by a traceback


def test_digest_changes_with_the_value_only(dirs: Path) -> None:
    project = project_with(dirs, f"  DB_PASSWORD: ${{{{{URI}}}}}\n")
    endpoint = load([project.root])
    first = resolve_endpoint(endpoint, environ={ENV_NAME: "one"})["blue"].digest
    again = resolve_endpoint(endpoint, environ={ENV_NAME: "one"})["blue"].digest
    rotated = resolve_endpoint(endpoint, environ={ENV_NAME: "two"})["blue"].digest
    assert first == again != rotated
    assert "one" not in first and len(first) == 16


def test_store_is_private_and_never_lists_values(dirs: Path) -> None:
    set_secret(URI, "hunter2")
    path = store_path()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert stored_names() == [URI]
    assert remove_secret(URI) and stored_names() == [] and not remove_secret(URI)


def test_cli_set_reads_stdin_and_list_shows_names_only(dirs: Path) -> None:
    env = {**os.environ, "DEVKIT_CONFIG_DIR": str(dirs / "config")}
    cli = [sys.executable, "-m", "devkit.cli.main", "secrets"]
    done = subprocess.run([*cli, "set", URI], input="hunter2\n", env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "hunter2" not in done.stdout + done.stderr
    assert json.loads((dirs / "config" / "secrets.json").read_text()) == {URI: "hunter2"}
    listed = subprocess.run([*cli, "list", "--json"], env=env, capture_output=True, text=True,
                            timeout=60)
    assert json.loads(listed.stdout) == [URI] and "hunter2" not in listed.stdout
    gone = subprocess.run([*cli, "rm", "azureml://connections/nope/target"], env=env,
                          capture_output=True, text=True, timeout=60)
    assert gone.returncode != 0 and "devkit secrets list" in gone.stderr


def test_runtime_exports_the_file_into_the_environment(tmp_path: Path) -> None:
    from devkit_runtime.secret_env import SecretsFileError, export

    path = tmp_path / "secrets.json"
    path.write_text(json.dumps({"DB_PASSWORD": "hunter2"}))
    environ = {"DEVKIT_SECRETS_FILE": str(path), "DB_PASSWORD": "${{azureml://x}}"}
    assert export(environ) == ["DB_PASSWORD"]
    assert environ["DB_PASSWORD"] == "hunter2"
    path.write_text("[1]")
    with pytest.raises(SecretsFileError, match="not a JSON object"):
        export(environ)
    assert export({}) == []
