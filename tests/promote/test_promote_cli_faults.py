"""The promote commands as scripts call them, and the faults they name: an unreachable
target, a registry that refuses, a plan that does not fit, ``--dry-run`` that never
touches the target."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from load import find_free_port

from devkit.actions.promote import PromoteOptions, promote
from devkit.errors import CapacityError, RegistryError


def devkit(*args: str, config: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DEVKIT_CONFIG_DIR": str(config)}
    return subprocess.run([sys.executable, "-m", "devkit.cli.main", *args], env=env,
                          cwd=cwd, capture_output=True, text=True, timeout=300)


def test_targets_add_list_rm_with_the_documented_spellings(tmp_path: Path) -> None:
    config = tmp_path / "config"
    dead = f"tcp://127.0.0.1:{find_free_port()}"
    added = devkit("targets", "add", "far", "--kind", "swarm", "--docker-host", dead,
                   "--registry", "127.0.0.1:5999", config=config, cwd=tmp_path)
    assert added.returncode == 0, added.stderr
    kube = devkit("targets", "add", "k8s", "--kind", "kubernetes", "--kubeconfig", "kc.yml",
                  "--namespace", "ml", "--registry", "r.example:443", "--project",
                  config=config, cwd=tmp_path)
    assert kube.returncode == 0, kube.stderr
    assert yaml.safe_load((tmp_path / "devkit-targets.yml").read_text()) == {
        "targets": {"k8s": {"kind": "kubernetes", "registry": "r.example:443",
                            "kubeconfig": "kc.yml", "namespace": "ml"}}}
    listed = devkit("targets", "--json", config=config, cwd=tmp_path)
    assert listed.returncode == 1  # a target does not answer
    far = next(t for t in yaml.safe_load(listed.stdout) if t["name"] == "far")
    assert far["reachable"] is False and "Target 'far'" in far["detail"]
    removed = devkit("targets", "rm", "far", config=config, cwd=tmp_path)
    assert removed.returncode == 0 and "far" not in (config / "targets.yml").read_text()


def test_operating_an_unreachable_target_names_it_and_the_fix(tmp_path: Path) -> None:
    config = tmp_path / "config"
    dead = f"tcp://127.0.0.1:{find_free_port()}"
    devkit("targets", "add", "far", "--kind", "swarm", "--docker-host", dead, "--registry",
           "127.0.0.1:5999", config=config, cwd=tmp_path)
    for args in (("status", "--target", "far"), ("traffic", "ep", "--target", "far"),
                 ("down", "ep", "--target", "far")):
        answer = devkit(*args, config=config, cwd=tmp_path)
        assert answer.returncode == 10, answer
        assert "Target 'far'" in answer.stderr and "does not answer" in answer.stderr
        assert answer.stderr.count("\n") == 1  # one sentence, no traceback
    unknown = devkit("status", "--target", "nowhere", config=config, cwd=tmp_path)
    assert unknown.returncode == 10 and "devkit targets add nowhere" in unknown.stderr


@pytest.mark.docker
def test_dry_run_writes_a_stack_file_without_the_target(
        base_image: str, tmp_path: Path, regression: tuple[str, Path],
        monkeypatch: pytest.MonkeyPatch) -> None:
    name, folder = regression
    config = tmp_path / "config"
    config.mkdir()
    (config / "targets.yml").write_text(yaml.safe_dump({"targets": {"far": {
        "kind": "swarm", "registry": "127.0.0.1:5999",
        "docker_host": f"tcp://127.0.0.1:{find_free_port()}"}}}))
    monkeypatch.setenv("DEVKIT_CONFIG_DIR", str(config))
    result = promote(str(folder), PromoteOptions("far", dry_run=tmp_path / "out"),
                     lambda line: None, lambda plan: pytest.fail("asked to confirm"))
    assert result.stack_file is not None and not result.applied
    stack = yaml.safe_load(result.stack_file.read_text())
    router = stack["services"][f"devkit-{name}-router"]
    assert router["ports"][0]["mode"] == "host"
    blue = next(s for n, s in stack["services"].items() if f"{name}-blue-" in n)
    assert blue["deploy"]["endpoint_mode"] == "dnsrr"
    assert blue["deploy"]["resources"]["limits"] == {"cpus": "4", "memory": "14336M"}
    assert blue["healthcheck"]["interval"] == "1s"


@pytest.mark.docker
def test_a_plan_that_does_not_fit_is_refused_with_what_is_missing(
        base_image: str, target_config: str, regression: tuple[str, Path]) -> None:
    _, folder = regression
    result = promote(str(folder), PromoteOptions(target_config, plan_only=True),
                     lambda line: None, lambda plan: pytest.fail("asked to confirm"))
    assert result.plan is not None and not result.plan.capacity.fits
    with pytest.raises(CapacityError, match="does not fit target 'swarm-test': .* more cores"):
        result.plan.require_fit()
    with pytest.raises(CapacityError, match="--overcommit"):
        promote(str(folder), PromoteOptions(target_config), lambda line: None,
                lambda plan: pytest.fail("asked to confirm"))


@pytest.mark.docker
def test_a_registry_that_refuses_is_named(base_image: str, swarm: None, tmp_path: Path,
                                          regression: tuple[str, Path],
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    _, folder = regression
    config = tmp_path / "config"
    config.mkdir()
    closed = f"127.0.0.1:{find_free_port()}"
    (config / "targets.yml").write_text(yaml.safe_dump(
        {"targets": {"noreg": {"kind": "swarm", "registry": closed}}}))
    monkeypatch.setenv("DEVKIT_CONFIG_DIR", str(config))
    with pytest.raises(RegistryError, match=f"The registry {closed} refused image"):
        promote(str(folder), PromoteOptions("noreg", overcommit=True), lambda line: None,
                lambda plan: True)
