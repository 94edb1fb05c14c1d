"""Loading endpoints: folder vs file list, discovery by content, path resolution."""

from __future__ import annotations

from pathlib import Path

from spec_support import BLUE_YML, ENDPOINT_YML, Project, assert_error

from devkit.spec.model import AuthMode, ProbeSettings, RequestSettings, Source


def test_folder_loads_endpoint_and_deployment_with_resolved_paths(project: Project) -> None:
    endpoint = project.load()
    root = project.root.resolve()
    assert endpoint.name == "my-endpoint"
    assert endpoint.spec.auth_mode is AuthMode.KEY
    assert dict(endpoint.spec.traffic) == {"blue": 100}
    assert endpoint.spec.source == Source(root / "endpoint.yml", 1)
    (blue,) = endpoint.deployments
    assert blue.name == "blue" and blue.endpoint_name == "my-endpoint"
    assert blue.source == Source(root / "blue.yml", 1)
    assert blue.model is not None and blue.model.path == root / "model"
    assert blue.code_configuration is not None
    assert blue.code_configuration.code == root / "src"
    assert blue.code_configuration.script_path == root / "src" / "score.py"
    assert blue.environment.image == "python:3.11-slim"
    assert blue.environment.conda_file == root / "conda.yml"
    assert blue.instance_type == "Standard_DS3_v2" and blue.instance_count == 1
    # Defaults as in the Azure schema.
    assert blue.request_settings == RequestSettings()
    assert blue.liveness_probe == ProbeSettings() == blue.readiness_probe


def test_conda_and_other_yaml_files_in_the_folder_are_ignored_by_content(
        project: Project) -> None:
    project.write("docker-compose.yaml", "services:\n  web:\n    image: nginx\n")
    project.write("notes.yml", "- a list, not a mapping\n")
    project.write("empty.yml", "")
    assert [d.name for d in project.load().deployments] == ["blue"]


def test_file_names_do_not_matter_and_yaml_suffix_is_read(project: Project) -> None:
    (project.root / "endpoint.yml").rename(project.root / "zz-front.yaml")
    (project.root / "blue.yml").rename(project.root / "aa.yaml")
    assert project.load().deployments[0].name == "blue"


def test_several_deployments_in_a_folder(project: Project) -> None:
    project.write("green.yml", BLUE_YML.replace("name: blue", "name: green"))
    project.edit("endpoint.yml", "  blue: 100\n", "  blue: 90\n  green: 10\n")
    endpoint = project.load()
    assert [d.name for d in endpoint.deployments] == ["blue", "green"]
    assert endpoint.deployment("green").name == "green"


def test_file_list_resolves_paths_relative_to_each_yaml_file(project: Project) -> None:
    other = project.root / "deployments" / "green"
    (other / "model").mkdir(parents=True)
    project.write("deployments/green/green.yml", BLUE_YML.replace("name: blue", "name: green")
                  .replace("code: src", "code: ../../src")
                  .replace("conda_file: conda.yml", "conda_file: ../../conda.yml"))
    project.edit("endpoint.yml", "  blue: 100\n", "  blue: 100\n  green: 0\n")
    endpoint = project.load([project.root / "endpoint.yml", project.root / "blue.yml",
                             other / "green.yml"])
    green = endpoint.deployment("green")
    assert green.model is not None and green.model.path == (other / "model").resolve()
    assert green.code_configuration is not None
    assert green.code_configuration.code == (project.root / "src").resolve()
    assert [d.name for d in endpoint.deployments] == ["blue", "green"]


def test_file_list_with_only_the_endpoint(project: Project) -> None:
    project.write("endpoint.yml", "name: lonely\n")
    endpoint = project.load([project.root / "endpoint.yml"])
    assert endpoint.name == "lonely" and endpoint.deployments == ()


def test_file_list_must_start_with_the_endpoint(project: Project) -> None:
    error = project.error([project.root / "blue.yml", project.root / "endpoint.yml"])
    assert_error(error, file="blue.yml", line=1, field=None, says="pass the endpoint file first")


def test_folder_without_endpoint_file(project: Project) -> None:
    (project.root / "endpoint.yml").unlink()
    error = project.error()
    assert "no endpoint file was found (looked at: blue.yml, conda.yml)" in str(error)
    assert error.file is not None and error.file.endswith("ep")


def test_folder_with_two_endpoint_files(project: Project) -> None:
    project.write("other.yml", ENDPOINT_YML.replace("my-endpoint", "other-endpoint"))
    error = project.error()
    assert_error(error, file="other.yml", line=1, field=None,
                 says="second endpoint file in one folder (the first is ")
    assert "endpoint.yml" in str(error)


def test_an_endpoint_file_with_a_typo_is_reported_not_ignored(project: Project) -> None:
    project.write("endpoint.yml", "name: my-endpoint\nauth_mod: key\n")
    error = project.error()
    assert_error(error, file="endpoint.yml", line=2, field="auth_mod",
                 says="did you mean 'auth_mode'?")


def test_missing_path_and_empty_list_and_mixed_folder(project: Project, tmp_path: Path) -> None:
    missing = project.error([tmp_path / "nope"])
    assert "nope: this path does not exist" in str(missing)
    empty = project.error([])
    assert "no spec was given" in str(empty)
    mixed = project.error([project.root / "endpoint.yml", project.root / "src"])
    assert "a folder cannot be mixed with files" in str(mixed)


def test_schema_line_is_allowed_and_ignored(project: Project) -> None:
    schema = "https://azuremlschemas.azureedge.net/latest/managedOnlineDeployment.schema.json"
    project.write("blue.yml", f"$schema: {schema}\n" + BLUE_YML)
    project.write("endpoint.yml", "$schema: x\n" + ENDPOINT_YML)
    endpoint = project.load()
    assert endpoint.deployments[0].source.line == 1


def test_malformed_yaml_names_the_parser_line(project: Project) -> None:
    project.edit("blue.yml", "  scoring_script: score.py\n", "  scoring_script: [score.py\n")
    error = project.error()
    assert error.file is not None and error.file.endswith("blue.yml")
    assert error.line == 8, str(error)
    assert "the YAML cannot be parsed" in str(error)


def test_duplicate_key_is_an_error_at_the_second_key(project: Project) -> None:
    project.write("blue.yml", BLUE_YML + "instance_count: 2\n")
    error = project.error()
    assert_error(error, file="blue.yml", line=13, field=None,
                 says="found the key 'instance_count' twice")


def test_top_level_list_given_explicitly_is_an_error(project: Project) -> None:
    path = project.write("list.yml", "- name: blue\n")
    error = project.error([project.root / "endpoint.yml", path])
    assert_error(error, file="list.yml", line=1, field=None,
                 says="does not hold a YAML mapping")
