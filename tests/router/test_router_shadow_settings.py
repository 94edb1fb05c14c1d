"""The endpoint's ``devkit.shadow.*`` tags become the router config's shadow section."""

from __future__ import annotations

from pathlib import Path

import pytest
from devkit_runtime.router.config import parse_config

from devkit.errors import SpecError
from devkit.router.shadow_settings import shadow_section
from devkit.spec.model import EndpointSpec, Source


def spec(tags: dict[str, str]) -> EndpointSpec:
    return EndpointSpec(name="ep", source=Source(Path("/x/endpoint.yml"), 3), tags=tags)


def test_tags_become_a_section_the_router_accepts(tmp_path: Path) -> None:
    section = shadow_section(spec({"devkit.shadow.atol": "0.01", "owner": "me",
                                   "devkit.shadow.ignore": "$.t, $.rows[*].id",
                                   "devkit.shadow.compare": "False"}))
    assert section == {"atol": 0.01, "ignore": ["$.t", "$.rows[*].id"], "compare": False}
    parsed = parse_config({"version": 1, "generation": 1, "endpoint": "ep",
                           "deployments": [], "shadow": section}, base=tmp_path).shadow
    assert parsed.tolerance.atol == 0.01 and parsed.compare is False


def test_no_tags_no_section() -> None:
    assert shadow_section(spec({"owner": "me"})) == {}


@pytest.mark.parametrize(("key", "value", "said"), [
    ("devkit.shadow.rtol", "lots", "must be a number >= 0"),
    ("devkit.shadow.atol", "-1", "must be a number >= 0"),
    ("devkit.shadow.ignore", "score", "must start with '$'"),
    ("devkit.shadow.compare", "maybe", "'true' or 'false'"),
    ("devkit.shadow.tolerance", "1", "is not a shadow setting"),
])
def test_bad_tags_name_the_file_line_and_field(key: str, value: str, said: str) -> None:
    with pytest.raises(SpecError) as caught:
        shadow_section(spec({key: value}))
    assert str(caught.value).startswith(f"/x/endpoint.yml:3: field 'tags.{key}': ")
    assert said in str(caught.value)
