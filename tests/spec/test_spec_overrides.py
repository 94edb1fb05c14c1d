"""``--set`` overrides, ``-e`` without an endpoint file, recipes and how verbs change them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from spec_support import BLUE_YML, Project

from devkit.errors import SpecError
from devkit.spec import Recipe, SpecFile, load, load_recipe, plan
from devkit.spec.compose import extend, override_deployment, remove_deployment, set_traffic
from devkit.spec.model import AuthMode
from devkit.spec.overrides import apply_overrides, parse_override
from devkit.spec.yamlsource import read_yaml


def _sets(project: Project, *sets: str) -> SpecError:
    with pytest.raises(SpecError) as info:
        load([project.root], sets=sets)
    return info.value


def test_set_overrides_fields_before_validation(project: Project) -> None:
    endpoint = load([project.root], sets=[
        "instance_count=3", "request_settings.request_timeout_ms=9000",
        "environment_variables.MODE=fast", "environment_variables.ON=yes",
        "auth_mode=AMLToken", "blue:description=007", "tags.team=ml"])
    blue = endpoint.deployment("blue")
    assert blue.instance_count == 3
    assert blue.request_settings.request_timeout_ms == 9000
    assert blue.environment_variables["MODE"] == "fast"
    assert blue.environment_variables["ON"] == "yes"  # not YAML 1.1's boolean
    assert blue.description == "007"  # a text field gets the characters as typed
    assert blue.tags["team"] == "ml"
    assert endpoint.spec.auth_mode is AuthMode.AML_TOKEN
    assert endpoint.spec.tags == {}  # tags.team went to the deployment, not the endpoint


def test_a_bad_value_names_the_set_and_the_field(project: Project) -> None:
    error = _sets(project, "instance_count=many")
    assert error.field == "instance_count" and error.line is None
    assert "blue.yml (--set instance_count=many): field 'instance_count': expected a " \
        "whole number but found the string 'many'" in str(error)


def test_an_unknown_field_set_names_the_set(project: Project) -> None:
    error = _sets(project, "request_settings.request_timeout=9000")
    assert "(--set request_settings.request_timeout=9000)" in str(error)
    assert "did you mean 'request_timeout_ms'?" in str(error)


def test_a_path_through_a_value_names_the_set(project: Project) -> None:
    error = _sets(project, "instance_type.size=big")
    assert str(error).startswith("`--set instance_type.size=big` cannot be applied: "
                                 "'instance_type' holds the string 'Standard_DS3_v2', not a "
                                 "mapping")


@pytest.mark.parametrize(("arg", "says"), [
    ("instance_count", "is not PATH=VALUE"),
    ("=2", "is not PATH=VALUE"),
    ("a..b=1", "has a path that cannot be read at '.b'"),
    ("[0]=1", "must start with a field name"),
])
def test_malformed_sets_are_refused(arg: str, says: str) -> None:
    with pytest.raises(SpecError, match="--set") as info:
        parse_override(arg)
    assert says in str(info.value)


def test_list_indexes_and_quoted_keys(tmp_path: Path) -> None:
    doc = tmp_path / "doc.yml"
    doc.write_text("items:\n  - name: a\n  - name: b\n")
    root = apply_overrides(read_yaml(doc, "doc.yml"), [
        parse_override("items[1].name=z"), parse_override('limits."nvidia.com/gpu"=1')])
    assert root["items"][1]["name"] == "z"
    assert root["limits"]["nvidia.com/gpu"] == 1
    with pytest.raises(SpecError, match=r"'items' has 2 item\(s\), so \[5\] does not exist"):
        apply_overrides(read_yaml(doc, "doc.yml"), [parse_override("items[5].name=z")])


def test_a_set_for_an_unknown_target_names_the_deployments(project: Project) -> None:
    error = _sets(project, "red:instance_count=2")
    assert "names 'red', which is neither `endpoint` nor a deployment (deployments: blue)" \
        in str(error)


def test_deployment_files_alone_with_an_endpoint_name(project: Project) -> None:
    project.edit("blue.yml", "endpoint_name: my-endpoint\n", "")
    (project.root / "endpoint.yml").unlink()
    for paths in ([project.root], [project.root / "blue.yml"]):
        endpoint = load(paths, endpoint_name="made-here")
        assert endpoint.name == "made-here"
        assert endpoint.spec.auth_mode is AuthMode.KEY
        assert dict(endpoint.spec.traffic) == {}
        assert endpoint.deployment("blue").endpoint_name == "made-here"
        assert str(endpoint.spec.source) == "endpoint 'made-here'"


def test_without_a_name_a_lone_deployment_file_says_how(project: Project) -> None:
    error = project.error([project.root / "blue.yml"])
    assert "or name the endpoint with -e NAME" in str(error)


def test_a_bad_endpoint_name_names_the_flag(project: Project) -> None:
    with pytest.raises(SpecError) as info:
        load([project.root / "blue.yml"], endpoint_name="9-bad")
    assert "(-n 9-bad)" in str(info.value) and "'9-bad' is not a valid name" in str(info.value)


def test_a_recipe_survives_json_and_rebuilds_the_same_spec(project: Project) -> None:
    recipe = plan([project.root], sets=["instance_count=2"])
    again = Recipe.from_json(json.loads(json.dumps(recipe.to_json())))
    assert again == recipe
    assert load_recipe(again).deployment("blue").instance_count == 2


def test_extend_adds_a_deployment_and_leaves_the_others(project: Project) -> None:
    base = project.load()
    green = project.write("green.yml", BLUE_YML.replace("name: blue", "name: green")
                          .replace("endpoint_name: my-endpoint\n", ""))
    addition = Recipe(endpoint=SpecFile(None), name=base.name,
                      deployments=(SpecFile(green, ("instance_count=2",)),))
    recipe = extend(base, addition, all_traffic=True)
    assert recipe.deployments[0] == base.recipe.deployments[0]  # blue untouched
    endpoint = load_recipe(recipe)
    assert [d.name for d in endpoint.deployments] == ["blue", "green"]
    assert endpoint.deployment("green").instance_count == 2
    assert dict(endpoint.spec.traffic) == {"green": 100}
    # The same file again replaces green rather than adding a second one.
    again = load_recipe(extend(endpoint, addition))
    assert [d.name for d in again.deployments] == ["blue", "green"]


def test_override_one_deployment_without_a_file(project: Project) -> None:
    base = project.load()
    endpoint = load_recipe(override_deployment(base, "blue", ["instance_count=4"]))
    assert endpoint.deployment("blue").instance_count == 4
    with pytest.raises(SpecError, match="has no deployment 'red' \\(deployments: blue\\)"):
        override_deployment(base, "red", ["instance_count=4"])


def test_remove_a_deployment_refused_while_it_has_traffic(project: Project) -> None:
    project.write("green.yml", BLUE_YML.replace("name: blue", "name: green"))
    base = project.load()
    with pytest.raises(SpecError, match="still receives 100% of my-endpoint's traffic"):
        remove_deployment(base, "blue")
    moved = load_recipe(set_traffic(base.recipe, {"green": 100}))
    left = load_recipe(remove_deployment(moved, "blue"))
    assert [d.name for d in left.deployments] == ["green"]
    assert dict(left.spec.traffic) == {"green": 100}
