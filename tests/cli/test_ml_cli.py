"""``devkit ml`` verbs that need no running endpoint, and ``devkit up -e/--set`` adding a
deployment to a running endpoint (process engine) without touching the others. The real
CLI in child processes, with a state dir of its own."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from devkit.engines.process import state as process_state
from devkit.spec import load

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
VERBS = {
    "online-endpoint": ["create", "update", "show", "list", "invoke", "get-credentials",
                        "regenerate-keys", "delete"],
    "online-deployment": ["create", "update", "show", "list", "get-logs", "delete"],
    "model": ["create", "list", "show"],
    "environment": ["create", "list", "show"],
    "workspace": ["show"],
}


def run(env: dict[str, str], *args: str, cwd: Path | None = None
        ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "devkit.cli.main", *args], env=env, cwd=cwd,
                          capture_output=True, text=True, timeout=600)


@pytest.fixture
def env(isolated_state: Path) -> dict[str, str]:
    return {**os.environ, "DEVKIT_STATE_DIR": str(isolated_state)}


@pytest.mark.parametrize(("noun", "verb"), [(n, v) for n, vs in VERBS.items() for v in vs])
def test_every_verb_has_help_with_an_example(env: dict[str, str], noun: str,
                                             verb: str) -> None:
    result = run(env, "ml", noun, verb, "--help")
    assert result.returncode == 0, result.stderr
    assert f"devkit ml {noun} {verb}" in result.stdout


@pytest.mark.parametrize(("args", "says"), [
    (["ml", "batch-endpoint", "list"], "`devkit ml batch-endpoint` is not supported by "
     "devkit; it supports: environment, model, online-deployment, online-endpoint, shim, "
     "workspace."),
    (["ml", "online-endpoint", "regenerate-key"], "`devkit ml online-endpoint "
     "regenerate-key` is not supported by devkit; it supports: create, delete, "
     "get-credentials, invoke, list, regenerate-keys, show, update."),
])
def test_an_unsupported_verb_is_one_sentence_naming_the_supported(
        env: dict[str, str], args: list[str], says: str) -> None:
    result = run(env, *args)
    assert result.returncode == 2
    assert result.stderr.strip() == f"error: {says}"


def test_models_register_list_and_show_az_style(env: dict[str, str], tmp_path: Path) -> None:
    model = tmp_path / "model"
    model.mkdir()
    (model / "m.pkl").write_bytes(b"weights")
    (tmp_path / "model.yml").write_text("name: my-model\npath: model\ntype: custom_model\n")
    first = run(env, "ml", "model", "create", "-f", str(tmp_path / "model.yml"),
                "--set", "version=7", "-g", "rg", "-w", "ws", "--query", "version", "-o", "tsv")
    assert (first.returncode, first.stdout.strip()) == (0, "7"), first.stderr
    flags = run(env, "ml", "model", "create", "--name", "my-model", "--path", str(model),
                "--query", "[name, version]", "-o", "tsv")
    assert flags.stdout.split() == ["my-model", "8"], flags.stderr
    listed = run(env, "ml", "model", "list", "--query", "[].version", "-o", "tsv")
    assert listed.stdout.split() == ["8", "7"]
    shown = json.loads(run(env, "ml", "model", "show", "-n", "my-model", "-v", "7").stdout)
    assert shown["path"] == str(model) and shown["type"] == "custom_model"
    missing = run(env, "ml", "model", "show", "-n", "other")
    assert missing.returncode == 2
    assert "No model 'other' is registered (versions of other: none)" in missing.stderr


def test_a_curated_equivalent_registers_in_one_step(env: dict[str, str],
                                                     tmp_path: Path) -> None:
    name = "AzureML-minimal-ubuntu22.04-py39-cpu-inference"
    result = run(env, "ml", "environment", "create", "--curated", name)
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout)
    assert (shown["name"], shown["version"]) == (name, "1")
    assert "azureml-inference-server-http" in Path(shown["conda_file"]).read_text()
    # A deployment naming it now resolves to that equivalent.
    folder = tmp_path / "ep"
    shutil.copytree(SAMPLES / "regression", folder)
    blue = folder / "blue.yml"
    text = blue.read_text()
    env_block = text[text.index("environment:"):text.index("instance_type")]
    blue.write_text(text.replace(env_block, f"environment: azureml:{name}@latest\n"))
    deployment = load([blue], endpoint_name="curated-ep").deployments[0]
    assert deployment.environment.conda_file == Path(shown["conda_file"])
    assert deployment.environment.name == name


def test_workspace_show_and_the_shim(env: dict[str, str], tmp_path: Path) -> None:
    shown = json.loads(run(env, "ml", "workspace", "show").stdout)
    assert shown["name"] == "local" and "container_registry" in shown
    text = run(env, "ml", "shim").stdout
    assert text.startswith("#!/bin/sh") and "-m devkit.cli.main" in text
    shim = tmp_path / "az"
    shim.write_text(text)
    shim.chmod(0o755)
    other = subprocess.run([str(shim), "vm", "list"], capture_output=True, text=True,
                           env=env, timeout=60)
    assert other.returncode == 2 and "az vm is not available locally" in other.stderr
    ml = subprocess.run([str(shim), "ml", "workspace", "show", "--query", "name", "-o",
                         "tsv"], capture_output=True, text=True, env=env, timeout=60)
    assert ml.stdout.strip() == "local"


def test_up_adds_a_deployment_file_to_a_running_endpoint(env: dict[str, str],
                                                         tmp_path: Path) -> None:
    name = f"mlup-{uuid.uuid4().hex[:6]}"
    folder = tmp_path / name
    shutil.copytree(SAMPLES / "regression", folder)
    for spec in folder.glob("*.yml"):
        spec.write_text(spec.read_text().replace("regression\n", f"{name}\n"))
    extra = folder / "extra" / "canary.yml"
    extra.parent.mkdir()
    extra.write_text((folder / "green.yml").read_text().replace("name: green", "name: canary")
                     .replace(f"endpoint_name: {name}\n", "").replace("path: model-2",
                                                                     "path: ../model-2")
                     .replace("code: .", "code: ..").replace("conda_file: environment",
                                                             "conda_file: ../environment"))
    try:
        started = run(env, "up", str(folder), "--engine", "process",
                      "--set", "blue:instance_count=2")
        assert started.returncode == 0, started.stderr
        before = _pids(env, name)
        assert len(before["blue"]) == 2
        added = run(env, "up", str(extra), "-e", name, "--all-traffic")  # finds its engine
        assert added.returncode == 0, added.stderr
        after = _pids(env, name)
        assert after["blue"] == before["blue"] and after["green"] == before["green"]
        assert len(after["canary"]) == 1
        status = json.loads(run(env, "status", name, "--json").stdout)[0]
        assert {d["name"]: d["traffic"] for d in status["deployments"]} == {
            "blue": 0, "green": 0, "canary": 100}
        assert "blue: unchanged, left running" in added.stderr
    finally:
        run(env, "down", name)  # the process engine is the one answering for it


def _pids(env: dict[str, str], name: str) -> dict[str, list[int]]:
    current = process_state.load(name)
    assert current is not None
    return {d: [r.pid for r in record.replicas] for d, record in current.deployments.items()}


def test_an_endpoint_created_by_name_before_any_deployment(env: dict[str, str]) -> None:
    name = f"mlby-{uuid.uuid4().hex[:6]}"
    created = run(env, "ml", "online-endpoint", "create", "-n", name, "--auth-mode",
                  "AMLToken", "-g", "rg", "-w", "ws", "--no-wait")
    assert created.returncode == 0, created.stderr
    shown = json.loads(created.stdout)
    assert (shown["name"], shown["auth_mode"], shown["provisioning_state"]) == (
        name, "aml_token", "Succeeded")
    assert shown["scoring_uri"] is None and shown["traffic"] == {}
    token = json.loads(run(env, "ml", "online-endpoint", "get-credentials", "-n", name).stdout)
    assert token["tokenType"] == "Bearer" and token["accessToken"]
    assert token["expiryTimeUtc"] > token["refreshAfterTimeUtc"]
    listed = run(env, "ml", "online-endpoint", "list", "--query", "[].name", "-o", "tsv")
    assert listed.stdout.split() == [name]
    unknown = run(env, "ml", "online-deployment", "create", "-f", str(SAMPLES / "regression" /
                  "blue.yml"), "-e", "nowhere")
    assert unknown.returncode == 5
    assert f"Endpoint 'nowhere' does not exist (known: {name}); create it with `devkit ml " \
        "online-endpoint create -n nowhere`." in unknown.stderr
    deleted = run(env, "ml", "online-endpoint", "delete", "-n", name, "--yes")
    assert deleted.returncode == 0, deleted.stderr
    gone = run(env, "ml", "online-endpoint", "show", "-n", name)
    assert gone.returncode == 5 and "does not exist" in gone.stderr


def test_an_endpoint_file_with_sets(env: dict[str, str], tmp_path: Path) -> None:
    (tmp_path / "endpoint.yml").write_text("name: from-file\nauth_mode: Key\n")
    created = run(env, "ml", "online-endpoint", "create", "-f", str(tmp_path / "endpoint.yml"),
                  "--set", "description=set here", "--query", "[name, description]", "-o",
                  "tsv")
    assert created.stdout.split("\n")[:2] == ["from-file", "set here"], created.stderr
    bad = run(env, "ml", "online-endpoint", "create", "-f", str(tmp_path / "endpoint.yml"),
              "--set", "auth_mode=password")
    assert bad.returncode == 2
    assert "(--set auth_mode=password): field 'auth_mode': 'password' is not one of key, " \
        "aml_token, aad_token" in bad.stderr
    run(env, "ml", "online-endpoint", "delete", "-n", "from-file", "--yes")
