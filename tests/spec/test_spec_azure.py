"""Specs as Azure accepts them: enum spellings, Kubernetes deployments, endpoint compute."""

from __future__ import annotations

import pytest
from spec_support import Project, assert_error

from devkit.engines.sku import GIB, limits_for
from devkit.spec.model import (
    DEFAULT_INSTANCE_RESOURCES,
    DEFAULT_INSTANCE_TYPE,
    AuthMode,
    DeploymentType,
)
from devkit.spec.quantity import parse_quantity

MIB = 1024**2


@pytest.mark.parametrize(("written", "mode"), [
    ("key", AuthMode.KEY), ("Key", AuthMode.KEY), ("KEY", AuthMode.KEY),
    ("aml_token", AuthMode.AML_TOKEN), ("AMLToken", AuthMode.AML_TOKEN),
    ("AmlToken", AuthMode.AML_TOKEN), ("AML_TOKEN", AuthMode.AML_TOKEN),
])
def test_auth_mode_takes_azures_spellings(project: Project, written: str,
                                          mode: AuthMode) -> None:
    project.edit("endpoint.yml", "auth_mode: key", f"auth_mode: {written}")
    assert project.load().spec.auth_mode is mode


@pytest.mark.parametrize("written", ["AADToken", "aad_token"])
def test_aad_token_in_any_spelling_is_known_and_refused_at_load(project: Project,
                                                               written: str) -> None:
    # Recognised as aad_token (not "not one of ..."), then refused: nothing can run it here.
    project.edit("endpoint.yml", "auth_mode: key", f"auth_mode: {written}")
    assert_error(project.error(), file="endpoint.yml", line=2, field="auth_mode",
                 says="aad_token needs Microsoft Entra ID")


def test_an_enum_azure_refuses_is_refused_with_the_choices(project: Project) -> None:
    project.edit("endpoint.yml", "auth_mode: key", "auth_mode: amltoken")
    assert_error(project.error(), file="endpoint.yml", line=2, field="auth_mode",
                 says="'amltoken' is not one of key, aml_token, aad_token")


def test_every_enum_field_takes_azures_spellings(project: Project) -> None:
    project.edit("endpoint.yml", "auth_mode: key", "auth_mode: Key\npublic_network_access: "
                 "Disabled")
    project.edit("blue.yml", "instance_count: 1\n", "instance_count: 1\n"
                 "egress_public_network_access: Disabled\ntype: Managed\n"
                 "scale_settings:\n  type: TargetUtilization\n  max_instances: 3\n")
    project.edit("blue.yml", "  path: model\n", "  path: model\n  type: CUSTOM_MODEL\n")
    endpoint = project.load()
    blue = endpoint.deployment("blue")
    assert endpoint.spec.public_network_access == "disabled"
    assert blue.egress_public_network_access == "disabled"
    assert blue.type is DeploymentType.MANAGED
    assert blue.scale_settings.type == "target_utilization"
    assert blue.scale_settings.max_instances == 3
    assert blue.model is not None and blue.model.type == "custom_model"


def test_kubernetes_deployment_without_instance_type_runs_as_azures_default(
        project: Project) -> None:
    project.edit("blue.yml", "instance_type: Standard_DS3_v2\n", "type: kubernetes\n")
    blue = project.load().deployment("blue")
    assert blue.type is DeploymentType.KUBERNETES
    assert blue.instance_type == DEFAULT_INSTANCE_TYPE
    assert blue.resources == DEFAULT_INSTANCE_RESOURCES
    limits = limits_for(blue.instance_type, 16, 64 * GIB, resources=blue.resources)
    assert (limits.nano_cpus, limits.memory_bytes) == (2_000_000_000, 2 * GIB)


@pytest.mark.parametrize(("requests", "limits", "cpus", "memory"), [
    ('cpu: "0.1"\n    memory: "0.1Gi"', None, 0.1, int(0.1 * GIB)),
    ('cpu: "100m"\n    memory: "200Mi"', None, 0.1, 200 * MIB),
    ('cpu: "100m"\n    memory: "200Mi"', 'cpu: "1"\n    memory: 1Gi', 1.0, GIB),
    ('cpu: 1', 'memory: "512M"', 1.0, 512_000_000),
])
def test_kubernetes_resources_become_the_replicas_limits(
        project: Project, requests: str, limits: str | None, cpus: float,
        memory: int) -> None:
    block = f"resources:\n  requests:\n    {requests}\n"
    if limits:
        block += f"  limits:\n    {limits}\n"
    project.edit("blue.yml", "instance_type: Standard_DS3_v2\n",
                 f"type: kubernetes\ninstance_type: gpuinstance\n{block}"
                 "scale_settings:\n  type: default\n")
    blue = project.load().deployment("blue")
    assert blue.instance_type == "gpuinstance"
    found = limits_for(blue.instance_type, 8, 32 * GIB, resources=blue.resources)
    assert found.nano_cpus == int(cpus * 1e9)
    assert found.memory_bytes == memory
    assert found.notes == ()


def test_kubernetes_limits_are_capped_at_the_host(project: Project) -> None:
    project.edit("blue.yml", "instance_type: Standard_DS3_v2\n",
                 "type: kubernetes\nresources:\n  limits:\n    cpu: '64'\n    memory: 1Ti\n")
    blue = project.load().deployment("blue")
    found = limits_for(blue.instance_type, 2, 4 * GIB, resources=blue.resources)
    assert (found.nano_cpus, found.memory_bytes) == (2_000_000_000, 4 * GIB)
    assert len(found.notes) == 2


@pytest.mark.parametrize(("value", "says"), [
    ('"lots"', "expected a positive Kubernetes quantity but found the string 'lots'"),
    ('"-1"', "expected a positive Kubernetes quantity"),
    ("true", "found the boolean true"),
])
def test_a_bad_quantity_names_file_line_and_field(project: Project, value: str,
                                                  says: str) -> None:
    project.edit("blue.yml", "instance_type: Standard_DS3_v2\n",
                 f"type: kubernetes\nresources:\n  requests:\n    cpu: {value}\n")
    assert_error(project.error(), file="blue.yml", line=14, field="resources.requests.cpu",
                 says=says)


def test_request_above_limit_is_refused(project: Project) -> None:
    project.edit("blue.yml", "instance_type: Standard_DS3_v2\n",
                 "type: kubernetes\nresources:\n  requests:\n    memory: 2Gi\n"
                 "  limits:\n    memory: 1Gi\n")
    assert_error(project.error(), file="blue.yml", line=13, field="resources.requests",
                 says="the memory request is above its limit")


def test_managed_deployment_still_needs_instance_type_and_refuses_resources(
        project: Project) -> None:
    project.edit("blue.yml", "instance_type: Standard_DS3_v2\n", "")
    assert_error(project.error(), file="blue.yml", line=1, field="instance_type",
                 says="this required field is missing")
    project.edit("blue.yml", "instance_count: 1\n",
                 "instance_type: Standard_DS3_v2\nresources:\n  limits:\n    cpu: '1'\n")
    assert_error(project.error(), file="blue.yml", line=12, field="resources",
                 says="`resources` belongs to Kubernetes deployments; add `type: kubernetes`")


def test_kubernetes_endpoint_compute_is_kept(project: Project) -> None:
    project.edit("endpoint.yml", "auth_mode: key", "auth_mode: key\ncompute: azureml:k8s-compute")
    assert project.load().spec.compute == "azureml:k8s-compute"


@pytest.mark.parametrize(("text", "value"), [
    ("0.1", 0.1), ("100m", 0.1), ("2", 2), ("0.1Gi", 0.1 * GIB), ("200Mi", 200 * MIB),
    ("1Ki", 1024), ("1k", 1000), ("1e3", 1000), ("1.5G", 1.5e9), (".5", 0.5),
])
def test_quantities_parse_as_kubernetes_does(text: str, value: float) -> None:
    found = parse_quantity(text)
    assert found is not None and float(found) == pytest.approx(value)


@pytest.mark.parametrize("text", ["", "Gi", "1 Gi", "1GB", "-1", "abc", "1.2.3"])
def test_non_quantities_are_refused(text: str) -> None:
    assert parse_quantity(text) is None
