"""No-code MLflow deployments and ``data_collector`` blocks, as the spec loader reads them."""

from __future__ import annotations

from spec_support import Project, assert_error

NO_CODE = ("name: blue\nendpoint_name: my-endpoint\nmodel:\n  path: model\n"
           "  type: mlflow_model\ninstance_type: Standard_DS3_v2\n")


def test_no_code_mlflow_model_without_mlmodel_names_the_file(project: Project) -> None:
    project.write("blue.yml", NO_CODE)
    error = project.error()
    assert_error(error, file="MLmodel", line=None, field=None,
                 says="an mlflow_model must be a folder with an MLmodel file")


def test_mlmodel_without_pyfunc_flavour_is_refused_with_the_fix(project: Project) -> None:
    project.write("blue.yml", NO_CODE)
    project.write("model/MLmodel", "flavors:\n  keras: {}\n")
    error = project.error()
    assert_error(error, file="MLmodel", line=None, field="flavors",
                 says="no 'python_function' flavour (found: keras)")
    assert "add a code_configuration" in str(error)


def test_mlflow_model_with_a_score_py_needs_no_pyfunc_flavour(project: Project) -> None:
    project.edit("blue.yml", "  path: model", "  path: model\n  type: mlflow_model")
    blue = project.load().deployments[0]
    assert blue.code_configuration is not None


def test_unreadable_mlmodel_names_its_line(project: Project) -> None:
    project.write("blue.yml", NO_CODE)
    project.write("model/MLmodel", "flavors:\n  python_function: [unclosed\n")
    error = project.error()
    assert error.file is not None and error.file.endswith("MLmodel")
    assert error.line is not None and "cannot be read as YAML" in str(error)


def test_data_collector_is_normalised(project: Project) -> None:
    project.edit("blue.yml", "instance_count: 1", "instance_count: 1\ndata_collector:\n"
                 "  sampling_rate: 0.25\n  rolling_rate: minute\n  collections:\n"
                 "    model_inputs: {enabled: 'True'}\n    model_outputs: {enabled: 'False'}\n"
                 "    request: {enabled: true, data: {name: req, path: x, version: 1}}\n"
                 "    custom: {}\n  request_logging: {capture_headers: [a]}")
    blue = project.load().deployments[0]
    assert blue.data_collector == {"collections": ["custom", "model_inputs", "request"],
                                   "sampling_rate": 0.25, "rolling_rate": "Minute"}


def test_data_collector_errors_name_line_and_field(project: Project) -> None:
    project.edit("blue.yml", "instance_count: 1", "instance_count: 1\ndata_collector:\n"
                 "  sampling_rate: 2\n  collections: {model_inputs: {enabled: 'True'}}")
    assert_error(project.error(), file="blue.yml", line=project_line(project, "sampling_rate"),
                 field="data_collector.sampling_rate", says="must be a number from 0 to 1")
    project.edit("blue.yml", "sampling_rate: 2", "rolling_rate: Weekly")
    assert_error(project.error(), file="blue.yml", line=project_line(project, "rolling_rate"),
                 field="data_collector.rolling_rate", says="'Weekly' is not one of Minute")
    project.edit("blue.yml", "rolling_rate: Weekly", "sampling: 1")
    assert_error(project.error(), file="blue.yml", line=project_line(project, "sampling:"),
                 field="data_collector.sampling", says="did you mean 'sampling_rate'")


def test_collection_enabled_must_be_true_or_false(project: Project) -> None:
    project.edit("blue.yml", "instance_count: 1", "instance_count: 1\ndata_collector:\n"
                 "  collections:\n    model_inputs: {enabled: maybe}")
    assert_error(project.error(), file="blue.yml", line=project_line(project, "enabled"),
                 field="data_collector.collections.model_inputs.enabled",
                 says="expected 'True' or 'False'")


def project_line(project: Project, text: str) -> int:
    lines = (project.root / "blue.yml").read_text().splitlines()
    return next(number for number, line in enumerate(lines, 1) if text in line)
