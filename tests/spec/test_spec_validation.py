"""Every validation rule of a spec file, asserted on file, line, field and message."""

from __future__ import annotations

import pytest
from spec_support import BLUE_YML, Project, assert_error

from devkit.errors import UnresolvableReference

# (file, old text, new text, line, field, words the message must contain)
CASES = [
    # names
    ("endpoint.yml", "name: my-endpoint", "name: my_endpoint", 1, "name",
     "'my_endpoint' is not a valid name; use 3 to 32 letters, digits and hyphens"),
    ("endpoint.yml", "name: my-endpoint", "name: ab", 1, "name", "'ab' is not a valid name"),
    ("endpoint.yml", "name: my-endpoint", "name: " + "e" * 33, 1, "name", "not a valid name"),
    ("endpoint.yml", "name: my-endpoint", "name: my-endpoint-", 1, "name",
     "ending with a letter or digit"),
    ("blue.yml", "name: blue", "name: 1blue", 1, "name", "'1blue' is not a valid name"),
    # required fields (a missing field points at the start of its mapping)
    ("endpoint.yml", "name: my-endpoint\n", "description: no name\n", 1, "name",
     "this required field is missing; add `name: my-endpoint`"),
    ("blue.yml", "instance_type: Standard_DS3_v2\n", "", 1, "instance_type",
     "add `instance_type: Standard_DS3_v2`"),
    ("blue.yml", "endpoint_name: my-endpoint\n", "", 1, "endpoint_name",
     "this required field is missing"),
    ("blue.yml", "name: blue\n", "", 1, "name", "add `name: blue`"),
    ("blue.yml", "code_configuration:\n  code: src\n  scoring_script: score.py\n", "", 1,
     "code_configuration", "add `code_configuration: {code: ., scoring_script: score.py}`"),
    ("blue.yml", "  scoring_script: score.py\n", "", 5, "code_configuration.scoring_script",
     "add `scoring_script: score.py` to code_configuration"),
    ("blue.yml", "environment:\n  image: python:3.11-slim\n  conda_file: conda.yml\n", "", 1,
     "environment", "this required field is missing"),
    ("blue.yml", "model:\n  path: model\n", "model:\n  name: m\n", 3, "model.path",
     "add `path: model` to model"),
    # the deployment must belong to the endpoint
    ("blue.yml", "endpoint_name: my-endpoint", "endpoint_name: other-endpoint", 2,
     "endpoint_name", "'other-endpoint' does not match the endpoint's name 'my-endpoint'"),
    # types
    ("blue.yml", "instance_count: 1", "instance_count: '2'", 12, "instance_count",
     "expected a whole number but found the string '2'; write a number without quotes"),
    ("blue.yml", "instance_count: 1", "instance_count: true", 12, "instance_count",
     "found the boolean true"),
    ("blue.yml", "instance_count: 1", "instance_count: 1.5", 12, "instance_count",
     "found the number 1.5"),
    ("blue.yml", "instance_count: 1", "app_insights_enabled: 'yes'", 12,
     "app_insights_enabled", "expected true or false but found the string 'yes'"),
    ("blue.yml", "instance_count: 1", "environment_variables:\n  A: {b: 1}", 13,
     "environment_variables.A", "expected a string but found a mapping"),
    ("blue.yml", "instance_count: 1", "tags: [a, b]", 12, "tags",
     "expected a mapping but found a list"),
    ("blue.yml", "instance_type: Standard_DS3_v2", "instance_type: 3", 11, "instance_type",
     "expected a string but found the number 3"),
    ("blue.yml", "  code: src", "  code: [src]", 6, "code_configuration.code",
     "expected a string but found a list"),
    ("blue.yml", "model:\n  path: model\n", "model: 42\n", 3, "model",
     "expected a mapping but found the number 42"),
    ("blue.yml", "model:\n  path: model\n", "model: ./model\n", 3, "model",
     "a model is a mapping, not the string './model'; write `model: {path: ./model}`"),
    ("blue.yml", "environment:\n  image: python:3.11-slim\n  conda_file: conda.yml\n",
     "environment: python:3.11\n", 8, "environment", "write `environment: {image: python:3.11}`"),
    ("blue.yml", "code_configuration:\n  code: src\n  scoring_script: score.py\n",
     "code_configuration: src/score.py\n", 5, "code_configuration",
     "code_configuration is a mapping; write"),
    # ranges
    ("blue.yml", "instance_count: 1", "instance_count: 0", 12, "instance_count",
     "must be at least 1 but is 0"),
    ("blue.yml", "instance_count: 1", "request_settings:\n  request_timeout_ms: 0", 13,
     "request_settings.request_timeout_ms", "must be at least 1 but is 0"),
    ("blue.yml", "instance_count: 1", "request_settings:\n  request_timeout_ms: 180001", 13,
     "request_settings.request_timeout_ms", "must be at most 180000 but is 180001"),
    ("blue.yml", "instance_count: 1",
     "request_settings:\n  max_concurrent_requests_per_instance: 0", 13,
     "request_settings.max_concurrent_requests_per_instance", "must be at least 1"),
    ("blue.yml", "instance_count: 1", "liveness_probe:\n  period: 0", 13,
     "liveness_probe.period", "must be at least 1 but is 0"),
    ("blue.yml", "instance_count: 1", "readiness_probe:\n  initial_delay: -1", 13,
     "readiness_probe.initial_delay", "must be at least 0 but is -1"),
    ("blue.yml", "instance_count: 1", "readiness_probe:\n  failure_threshold: 0", 13,
     "readiness_probe.failure_threshold", "must be at least 1"),
    ("blue.yml", "instance_count: 1",
     "scale_settings:\n  type: target_utilization\n  min_instances: 3\n  max_instances: 2", 14,
     "scale_settings.min_instances", "min_instances (3) is above max_instances (2)"),
    # enums
    ("endpoint.yml", "auth_mode: key", "auth_mode: keys", 2, "auth_mode",
     "'keys' is not one of key, aml_token, aad_token (did you mean 'key'?)"),
    ("endpoint.yml", "auth_mode: key", "public_network_access: enable", 2,
     "public_network_access", "(did you mean 'enabled'?)"),
    ("blue.yml", "instance_count: 1", "egress_public_network_access: off", 12,
     "egress_public_network_access", "expected a string but found the boolean false"),
    ("blue.yml", "instance_count: 1", "egress_public_network_access: disable", 12,
     "egress_public_network_access", "(did you mean 'disabled'?)"),
    ("blue.yml", "instance_count: 1", "scale_settings:\n  type: targetutilization", 13,
     "scale_settings.type", "(did you mean 'target_utilization'?)"),
    ("blue.yml", "  path: model", "  path: model\n  type: mlflow", 5, "model.type",
     "(did you mean 'mlflow_model'?)"),
    # unknown keys point at the key and suggest the closest known one
    ("blue.yml", "instance_count: 1", "instance_cout: 1", 12, "instance_cout",
     "this field is unknown here (did you mean 'instance_count'?); fix its spelling"),
    ("blue.yml", "instance_count: 1", "request_settings:\n  request_timout_ms: 100", 13,
     "request_settings.request_timout_ms", "(did you mean 'request_timeout_ms'?)"),
    ("blue.yml", "  image: python:3.11-slim", "  imgae: python:3.11-slim", 9,
     "environment.imgae", "(did you mean 'image'?)"),
    ("endpoint.yml", "traffic:", "trafic:", 3, "trafic", "(did you mean 'traffic'?)"),
    ("blue.yml", "instance_count: 1", "zzz: 1", 12, "zzz",
     "this field is unknown here; fix its spelling or remove it"),
    # environment shapes
    ("blue.yml", "  image: python:3.11-slim\n", "", 8, "environment",
     "the environment names no image; add `image:`"),
    ("blue.yml", "  image: python:3.11-slim\n", "  image: x\n  build:\n    path: src\n", 10,
     "environment.build", "either `image` or `build`, not both"),
    ("blue.yml", "instance_count: 1", "environment_variables: [A]", 12,
     "environment_variables", "expected a mapping but found a list"),
]


@pytest.mark.parametrize(("file", "old", "new", "line", "field", "says"), CASES,
                         ids=[f"{case[4]}-{index}" for index, case in enumerate(CASES)])
def test_validation_error(project: Project, file: str, old: str, new: str, line: int,
                          field: str, says: str) -> None:
    project.edit(file, old, new)
    assert_error(project.error(), file=file, line=line, field=field, says=says)


PATH_CASES = [
    ("  path: model", "  path: models", 4, "model.path", "'models' does not exist"),
    ("  code: src", "  code: source", 6, "code_configuration.code", "'source' does not exist"),
    ("  scoring_script: score.py", "  scoring_script: main.py", 7,
     "code_configuration.scoring_script", "'main.py' does not exist"),
    ("  conda_file: conda.yml", "  conda_file: env/conda.yml", 10, "environment.conda_file",
     "'env/conda.yml' does not exist"),
    ("  conda_file: conda.yml", "  conda_file: src", 10, "environment.conda_file",
     "'src' is a folder but a file is expected"),
    ("  code: src", "  code: conda.yml", 6, "code_configuration.code",
     "'conda.yml' is a file but a folder is expected"),
]


@pytest.mark.parametrize(("old", "new", "line", "field", "says"), PATH_CASES)
def test_paths_must_exist(project: Project, old: str, new: str, line: int, field: str,
                          says: str) -> None:
    project.edit("blue.yml", old, new)
    error = project.error()
    assert_error(error, file="blue.yml", line=line, field=field, says=says)
    assert "fix the path, which is relative to" in str(error) or "expected" in str(error)


def test_scoring_script_is_relative_to_the_code_folder(project: Project) -> None:
    (project.root / "score.py").write_text("")  # next to the YAML, not in src/
    project.edit("blue.yml", "  scoring_script: score.py", "  scoring_script: ../score.py")
    blue = project.load().deployments[0]
    assert blue.code_configuration is not None
    assert blue.code_configuration.script_path.resolve() == (project.root / "score.py").resolve()
    project.edit("blue.yml", "  scoring_script: ../score.py", "  scoring_script: nope.py")
    error = project.error()
    assert "which is relative to " in str(error) and str(project.root / "src") in str(error)


def test_build_context_and_dockerfile(project: Project) -> None:
    (project.root / "docker").mkdir()
    project.edit("blue.yml", "  image: python:3.11-slim\n  conda_file: conda.yml\n",
                 "  build:\n    path: docker\n")
    error = project.error()
    assert_error(error, file="blue.yml", line=10, field="environment.build.path",
                 says="has no Dockerfile; add one or set `dockerfile_path`")
    (project.root / "docker" / "Dockerfile").write_text("FROM python:3.11-slim\n")
    build = project.load().deployments[0].environment.build
    assert build is not None and build.path == (project.root / "docker").resolve()
    assert build.dockerfile_path == "Dockerfile"
    project.edit("blue.yml", "    path: docker\n", "    path: docker\n    dockerfile_path: x\n")
    assert_error(project.error(), file="blue.yml", line=11,
                 field="environment.build.dockerfile_path", says="'x' does not exist")
    project.edit("blue.yml", "    path: docker\n", "    path: dock\n")
    assert_error(project.error(), file="blue.yml", line=10, field="environment.build.path",
                 says="'dock' does not exist")


def test_conda_file_cannot_be_combined_with_build(project: Project) -> None:
    (project.root / "docker").mkdir()
    (project.root / "docker" / "Dockerfile").write_text("FROM scratch\n")
    project.edit("blue.yml", "  image: python:3.11-slim\n", "  build:\n    path: docker\n")
    assert_error(project.error(), file="blue.yml", line=11, field="environment.conda_file",
                 says="cannot be combined with `build`")


BYOC = """\
environment:
  image: my-server:1
  inference_config:
    liveness_route: {port: 8080, path: /health}
    readiness_route: {port: 8080, path: /ready}
    scoring_route: {port: 8080, path: /score}
"""


def test_byoc_needs_no_code_configuration(project: Project) -> None:
    text = BLUE_YML.split("code_configuration:")[0] + BYOC + "instance_type: Standard_DS3_v2\n"
    project.write("blue.yml", text)
    blue = project.load().deployments[0]
    assert blue.code_configuration is None
    assert blue.environment.is_byoc and blue.environment.inference_config is not None
    assert blue.environment.inference_config.scoring_route.path == "/score"
    project.write("blue.yml", text.replace("{port: 8080, path: /ready}", "{path: /ready}"))
    assert_error(project.error(), file="blue.yml", line=9,
                 field="environment.inference_config.readiness_route.port",
                 says="add `port: 8080`")


def test_mlflow_model_needs_no_code_or_environment(project: Project) -> None:
    project.write("blue.yml", "name: blue\nendpoint_name: my-endpoint\nmodel:\n  path: model\n"
                  "  type: mlflow_model\ninstance_type: Standard_DS3_v2\n")
    project.write("model/MLmodel", "flavors:\n  python_function: {loader_module: m}\n")
    blue = project.load().deployments[0]
    assert blue.model is not None and blue.model.type == "mlflow_model"
    assert blue.code_configuration is None and blue.environment.image is None


def test_azure_fields_devkit_does_not_use_are_accepted(project: Project) -> None:
    project.edit("blue.yml", "instance_count: 1", "instance_count: 1\nproperties: {a: b}\n"
                 "type: managed\ndescription: d\ntags: {team: ml, cost: 5}\n"
                 "model_mount_path: /var/model")
    project.edit("blue.yml", "  path: model", "  path: model\n  name: m\n  version: 3\n"
                 "  description: x")
    project.edit("endpoint.yml", "auth_mode: key", "auth_mode: aml_token\nidentity:\n"
                 "  type: system_assigned\ntags: {a: b}")
    endpoint = project.load()
    blue = endpoint.deployments[0]
    assert dict(blue.tags) == {"team": "ml", "cost": "5"}
    assert blue.model is not None and (blue.model.name, blue.model.version) == ("m", "3")
    assert blue.model_mount_path == "/var/model"
    assert endpoint.spec.auth_mode.value == "aml_token"


def test_full_settings_are_read(project: Project) -> None:
    project.edit("blue.yml", "instance_count: 1", """instance_count: 2
environment_variables:
  WORKER_COUNT: 2
  MODE: fast
request_settings:
  request_timeout_ms: 90000
  max_concurrent_requests_per_instance: 4
liveness_probe:
  initial_delay: 0
  period: 5
scale_settings:
  type: target_utilization
  min_instances: 1
  max_instances: 3
data_collector:
  collections:
    model_inputs: {enabled: 'True'}
egress_public_network_access: disabled
app_insights_enabled: true""")
    blue = project.load().deployments[0]
    assert blue.instance_count == 2
    assert dict(blue.environment_variables) == {"WORKER_COUNT": "2", "MODE": "fast"}
    assert blue.request_settings.request_timeout_ms == 90000
    assert blue.request_settings.max_concurrent_requests_per_instance == 4
    assert (blue.liveness_probe.initial_delay, blue.liveness_probe.period) == (0, 5)
    assert blue.liveness_probe.timeout == 2  # default kept
    assert blue.scale_settings.type == "target_utilization"
    assert blue.scale_settings.max_instances == 3
    assert blue.data_collector == {"collections": ["model_inputs"], "sampling_rate": 1.0,
                                   "rolling_rate": "Hour"}
    assert blue.egress_public_network_access == "disabled" and blue.app_insights_enabled


def test_duplicate_deployment_names_across_files(project: Project) -> None:
    project.write("copy.yml", BLUE_YML)
    error = project.error()
    assert_error(error, file="copy.yml", line=1, field="name",
                 says="deployment 'blue' is already defined in ")
    assert "blue.yml:1" in str(error)


REFERENCES = [
    ("model:\n  path: model\n", "model: azureml:sklearn-model:1\n", 3, "model",
     "'azureml:sklearn-model:1' cannot be resolved: model 'sklearn-model:1' is not "
     "registered locally; register it with `devkit ml model create --name sklearn-model "
     "--version 1 --path MODEL_FOLDER (or -f model.yml)`"),
    ("  path: model", "  path: azureml://datastores/workspaceblobstore/paths/m", 4,
     "model.path", "refers to the Azure ML registry"),
    ("environment:\n  image: python:3.11-slim\n  conda_file: conda.yml\n",
     "environment: azureml:AzureML-sklearn-1.0-ubuntu20.04-py38-cpu@latest\n", 8,
     "environment", "it is one of Azure's curated environments, which devkit cannot "
     "download; register devkit's equivalent (Python 3.8, scikit-learn==1.0.2"),
    ("model:\n  path: model\n", "model: azureml:/subscriptions/x/models/m/versions/1\n", 3,
     "model", "refers to the Azure ML registry, which devkit cannot reach offline"),
    ("  code: src", "  code: azureml:my-code:2", 6, "code_configuration.code",
     "point `code_configuration.code` at a local folder instead"),
    ("  path: model", "  path: https://example.invalid/model.pkl", 4, "model.path",
     "is a remote location devkit does not download"),
]


@pytest.mark.parametrize(("old", "new", "line", "field", "says"), REFERENCES)
def test_registry_references_are_unresolvable(project: Project, old: str, new: str,
                                              line: int, field: str, says: str) -> None:
    project.edit("blue.yml", old, new)
    error = project.error()
    assert isinstance(error, UnresolvableReference)
    assert_error(error, file="blue.yml", line=line, field=field, says=says)
