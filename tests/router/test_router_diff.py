"""The comparison rules of the shadow diff (pure functions, no I/O)."""

from __future__ import annotations

import json

from devkit_runtime.router.diff import MAX_PATHS, Answer, Tolerance, compare, field_of

JSON = "application/json"


def answer(body: object, status: int = 200, kind: str = JSON) -> Answer:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return Answer(status, raw, kind)


def test_equal_json_agrees_whatever_the_key_order_and_int_float() -> None:
    verdict = compare(answer({"a": 1, "b": [1, 2]}), answer({"b": [1.0, 2], "a": 1.0}))
    assert verdict.agrees and verdict.kind == "json"
    assert compare(answer({"a": 1}), answer({"a": 1})).kind == "bytes"  # equal bytes: no parse


def test_numbers_within_tolerance_agree_and_beyond_it_differ() -> None:
    tol = Tolerance(atol=0.0, rtol=0.01)
    assert compare(answer({"p": 100.0}), answer({"p": 100.9}), tol).agrees
    verdict = compare(answer({"p": 100.0}), answer({"p": 101.5}), tol)
    assert [d.path for d in verdict.differences] == ["$.p"]
    assert verdict.differences[0].live == "100.0" and verdict.differences[0].shadow == "101.5"


def test_nested_paths_missing_keys_and_array_lengths_are_named() -> None:
    live = {"rows": [{"score": 1, "label": "a"}, {"score": 2, "label": "b"}], "model": "v1"}
    shadow = {"rows": [{"score": 1, "label": "a"}, {"score": 2, "label": "c"}, {}],
              "extra": True}
    paths = {d.path for d in compare(answer(live), answer(shadow)).differences}
    assert paths == {"$.rows.length", "$.rows[1].label", "$.model", "$.extra"}


def test_fields_fold_array_indices() -> None:
    assert field_of("$.rows[12].score") == "$.rows[*].score"
    verdict = compare(answer({"rows": [1, 2, 3]}), answer({"rows": [1, 5, 6]}))
    assert verdict.fields == ("$.rows[*]",)


def test_ignored_paths_never_count_with_or_without_indices() -> None:
    tol = Tolerance(ignore=("$.generated_at", "$.rows[*].id"))
    live = {"generated_at": 1, "rows": [{"id": "x", "v": 1}]}
    shadow = {"generated_at": 2, "rows": [{"id": "y", "v": 1}]}
    assert compare(answer(live), answer(shadow), tol).agrees


def test_status_differences_win_over_bodies() -> None:
    verdict = compare(answer({"a": 1}), answer({"message": "boom"}, status=500))
    assert verdict.status_differs and verdict.kind == "status"
    assert [(d.live, d.shadow) for d in verdict.differences] == [("200", "500")]


def test_non_json_bodies_are_compared_as_bytes() -> None:
    assert compare(answer(b"\x89PNG1", kind="image/png"),
                   answer(b"\x89PNG1", kind="image/png")).agrees
    verdict = compare(answer(b"abc", kind="text/plain"), answer(b"abd", kind="text/plain"))
    assert verdict.kind == "bytes" and [d.path for d in verdict.differences] == ["body"]
    # a JSON content type with a body that is not JSON falls back to bytes
    assert compare(answer(b"{nope"), answer(b"{nope!")).kind == "bytes"


def test_types_nan_and_booleans_are_not_numbers() -> None:
    assert not compare(answer({"a": True}), answer({"a": 1})).agrees
    assert not compare(answer({"a": "1"}), answer({"a": 1})).agrees
    nan = Answer(200, b'{"a": NaN}', JSON)
    assert compare(nan, nan).agrees


def test_both_failed_alike_agree_on_status_alone() -> None:
    failed = Answer(502, None, failure="refused")
    assert compare(failed, failed).agrees


def test_differences_are_capped_and_counted() -> None:
    live = {f"k{i}": i for i in range(MAX_PATHS + 5)}
    shadow = {f"k{i}": i + 1 for i in range(MAX_PATHS + 5)}
    verdict = compare(answer(live), answer(shadow))
    assert len(verdict.differences) == MAX_PATHS and verdict.more == 5


def test_documents_without_booleans_are_walked_only_where_they_differ() -> None:
    # no true/false in either text: equal subtrees are settled by one == (1 and 1.0 agree)
    live = {"rows": [{"score": 1, "label": "a"}, {"score": 2.5, "tags": [1, 2]}], "n": None}
    shadow = {"rows": [{"score": 1.0, "label": "a"}, {"score": 2.5, "tags": [1, 3]}],
              "n": None}
    verdict = compare(answer(live), answer(shadow))
    assert [(d.path, d.live, d.shadow) for d in verdict.differences] == [
        ("$.rows[1].tags[1]", "2", "3")]
    assert compare(answer(live), answer({**live, "rows": list(live["rows"])})).agrees
    # a boolean anywhere in either text: the type-strict walk, so true never equals 1
    assert not compare(answer({"a": [1], "b": True}), answer({"a": [True], "b": True})).agrees
