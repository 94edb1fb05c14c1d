"""``--query`` (JMESPath) and ``-o json|tsv|table|yaml|none`` as az prints results."""

from __future__ import annotations

import json

import pytest

from devkit.cli.ml.output import QueryError, render

ENDPOINT = {"name": "ep", "scoring_uri": "http://127.0.0.1:5/score", "traffic": {"blue": 90,
            "green": 10}, "provisioning_state": "Succeeded", "tags": {}, "kind": None}


@pytest.mark.parametrize(("query", "output", "printed"), [
    ("scoring_uri", "tsv", "http://127.0.0.1:5/score"),
    ("scoring_uri", "json", '"http://127.0.0.1:5/score"'),
    ("traffic.blue", "tsv", "90"),
    ("provisioning_state", "tsv", "Succeeded"),
    ("[name, provisioning_state]", "tsv", "ep\nSucceeded"),
    ("traffic", "tsv", "90\t10"),
    ("{a: name, b: traffic.green}", "tsv", "ep\t10"),
    ("missing", "tsv", ""),
    ("kind", "json", "null"),
])
def test_query_then_format(query: str, output: str, printed: str) -> None:
    assert render(ENDPOINT, query, output) == printed


def test_json_is_indented_with_keys_sorted() -> None:
    text = render({"b": 1, "a": [1, 2]}, None, "json")
    assert text == '{\n  "a": [\n    1,\n    2\n  ],\n  "b": 1\n}'
    assert json.loads(render(ENDPOINT, None, "json") or "") == ENDPOINT


def test_tsv_of_a_list_is_a_row_per_item_with_nested_values_summarised() -> None:
    rows = [{"name": "blue", "instance_count": 1, "tags": {"a": "b"}, "urls": [1, 2]},
            {"name": "green", "instance_count": 2, "tags": {}, "urls": []}]
    assert render(rows, None, "tsv") == "1\tblue\t\t2\n2\tgreen\t\t0"
    assert render(rows, "[].name", "tsv") == "blue\ngreen"


def test_table_has_a_column_per_scalar_field() -> None:
    text = render([{"name": "blue", "instance_count": 1, "tags": {}},
                   {"name": "green", "instance_count": 12, "tags": {}}], None, "table")
    assert text is not None
    assert text.splitlines() == ["Name   InstanceCount", "-----  -------------",
                                 "blue   1", "green  12"]


def test_none_prints_nothing_and_yaml_is_yaml() -> None:
    assert render(ENDPOINT, None, "none") is None
    assert render({"a": 1}, None, "yaml") == "a: 1"


def test_a_bad_query_is_one_sentence_naming_it() -> None:
    with pytest.raises(QueryError, match=r"--query 'traffic\[' is not valid JMESPath"):
        render(ENDPOINT, "traffic[", "json")


def test_invoke_results_print_as_a_json_string_or_bare() -> None:
    body = '{"predictions": [1.5]}'
    assert render(body, None, "json") == '"{\\"predictions\\": [1.5]}"'
    assert render(body, None, "tsv") == body
