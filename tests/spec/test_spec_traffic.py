"""Traffic rules: the pure validate_traffic/parse_traffic_args, and the loader's use of them."""

from __future__ import annotations

from pathlib import Path

import pytest
from spec_support import BLUE_YML, Project, assert_error

from devkit.errors import SpecError
from devkit.spec import parse_traffic_args, validate_traffic
from devkit.spec.model import Source

NAMES = ["blue", "green", "red"]

VALID = [
    ({"blue": 100}, {}),
    ({"blue": 90, "green": 10}, {}),
    ({}, {}),
    ({"blue": 0, "green": 0}, {}),
    ({"blue": 100}, {"green": 50}),
    ({"blue": 100, "green": 0}, {"green": 1}),
]


@pytest.mark.parametrize(("traffic", "mirror"), VALID)
def test_valid_traffic(traffic: dict[str, int], mirror: dict[str, int]) -> None:
    validate_traffic(NAMES, traffic, mirror)


INVALID = [
    ({"blue": 90}, {}, "traffic", "live weights sum to 90 but must sum to 100 (or 0"),
    ({"blue": 60, "green": 60}, {}, "traffic", "sum to 120"),
    ({"blu": 100}, {}, "traffic.blu",
     "no deployment is named 'blu' (did you mean 'blue'?) (deployments: blue, green, red)"),
    ({"blue": -10, "green": 110}, {}, "traffic.blue", "-10 is outside 0..100"),
    ({"blue": 101}, {}, "traffic.blue", "101 is outside 0..100"),
    ({"blue": True}, {}, "traffic.blue", "expected a whole-number percentage but found the "
     "boolean true"),
    ({"blue": "100"}, {}, "traffic.blue", "found the string '100'"),
    ({"blue": 100}, {"green": 51}, "mirror_traffic.green", "51 is outside 1..50"),
    ({"blue": 100}, {"green": 0}, "mirror_traffic.green", "0 is outside 1..50"),
    ({"blue": 90, "green": 10}, {"green": 10}, "mirror_traffic.green",
     "deployment 'green' receives 10% live traffic, and only a deployment with 0% live "
     "traffic can be mirrored to"),
    ({"blue": 100}, {"green": 10, "red": 10}, "mirror_traffic",
     "mirror traffic names 2 deployments but can copy requests to only one"),
    ({"blue": 100}, {"pink": 10}, "mirror_traffic.pink", "no deployment is named 'pink'"),
]


@pytest.mark.parametrize(("traffic", "mirror", "field", "says"), INVALID)
def test_invalid_traffic(traffic: dict[str, int], mirror: dict[str, int], field: str,
                         says: str) -> None:
    with pytest.raises(SpecError) as info:
        validate_traffic(NAMES, traffic, mirror)
    assert info.value.field == field
    assert says in str(info.value)
    assert info.value.file is None


def test_source_is_named_when_given(tmp_path: Path) -> None:
    source = Source(tmp_path / "endpoint.yml", 3)
    with pytest.raises(SpecError) as info:
        validate_traffic(["blue"], {"blue": 50}, {}, source=source)
    assert str(info.value).startswith(f"{tmp_path / 'endpoint.yml'}:3: field 'traffic': ")


def test_parse_traffic_args() -> None:
    assert parse_traffic_args(["blue=90", "green=10"]) == {"blue": 90, "green": 10}
    assert parse_traffic_args([" blue = 0 "]) == {"blue": 0}
    assert parse_traffic_args([]) == {}


@pytest.mark.parametrize(("args", "says"), [
    (["blue"], "traffic argument 'blue' is not NAME=PERCENT; write it like blue=90"),
    (["=90"], "is not NAME=PERCENT"),
    (["blue="], "is not NAME=PERCENT"),
    (["blue=ninety"], "has 'ninety' where a whole-number percentage belongs; write it like "
     "blue=90"),
    (["blue=9.5"], "has '9.5' where"),
    (["blue=50", "blue=50"], "traffic names deployment 'blue' twice"),
])
def test_parse_traffic_args_errors(args: list[str], says: str) -> None:
    with pytest.raises(SpecError) as info:
        parse_traffic_args(args)
    assert says in str(info.value)


def test_mirror_option_is_named_in_parse_errors() -> None:
    with pytest.raises(SpecError, match="mirror argument 'green' is not NAME=PERCENT"):
        parse_traffic_args(["green"], what="mirror")


def _two_deployments(project: Project) -> None:
    project.write("green.yml", BLUE_YML.replace("name: blue", "name: green"))


def test_loader_points_at_the_offending_weight(project: Project) -> None:
    _two_deployments(project)
    project.edit("endpoint.yml", "  blue: 100\n", "  blue: 90\n  gren: 10\n")
    assert_error(project.error(), file="endpoint.yml", line=5, field="traffic.gren",
                 says="no deployment is named 'gren' (did you mean 'green'?)")


def test_loader_points_at_the_traffic_block_for_a_bad_sum(project: Project) -> None:
    _two_deployments(project)
    project.edit("endpoint.yml", "  blue: 100\n", "  blue: 90\n  green: 20\n")
    assert_error(project.error(), file="endpoint.yml", line=3, field="traffic",
                 says="live weights sum to 110")


def test_loader_checks_mirror_traffic(project: Project) -> None:
    _two_deployments(project)
    project.write("endpoint.yml", "name: my-endpoint\ntraffic: {blue: 100}\n"
                  "mirror_traffic:\n  green: 60\n")
    assert_error(project.error(), file="endpoint.yml", line=4, field="mirror_traffic.green",
                 says="60 is outside 1..50")
    project.edit("endpoint.yml", "  green: 60", "  green: 20")
    endpoint = project.load()
    assert dict(endpoint.spec.mirror_traffic) == {"green": 20}


def test_loader_rejects_a_non_mapping_traffic(project: Project) -> None:
    project.edit("endpoint.yml", "traffic:\n  blue: 100\n", "traffic: blue=100\n")
    assert_error(project.error(), file="endpoint.yml", line=3, field="traffic",
                 says="expected a mapping but found the string 'blue=100'")
