"""The traffic policy as a pure object, with a seeded random source."""

from __future__ import annotations

import random
from collections import Counter

from devkit_runtime.router.policy import TrafficPolicy


def test_weighted_split_follows_weights_exactly_with_a_seed() -> None:
    policy = TrafficPolicy({"blue": 70, "green": 30, "red": 0}, rng=random.Random(7))
    counts = Counter(policy.decide().deployment for _ in range(10_000))
    assert counts["red"] == 0
    assert abs(counts["blue"] / 10_000 - 0.70) < 0.02
    assert abs(counts["green"] / 10_000 - 0.30) < 0.02


def test_same_seed_same_sequence() -> None:
    first = TrafficPolicy({"a": 50, "b": 50}, rng=random.Random(1))
    second = TrafficPolicy({"a": 50, "b": 50}, rng=random.Random(1))
    assert [first.decide().deployment for _ in range(50)] == \
        [second.decide().deployment for _ in range(50)]


def test_pin_reaches_a_zero_weight_deployment_and_is_not_mirrored() -> None:
    policy = TrafficPolicy({"blue": 100, "green": 0}, {"green": 50}, rng=random.Random(3))
    decisions = [policy.decide(pinned="green") for _ in range(100)]
    assert all(d.deployment == "green" and d.pinned and d.mirror is None for d in decisions)


def test_unknown_pin_names_the_real_deployments() -> None:
    decision = TrafficPolicy({"blue": 100, "green": 0}).decide(pinned="purple")
    assert decision.deployment is None
    assert "'purple'" in decision.reason and "blue, green" in decision.reason


def test_no_positive_weight_means_nowhere_to_go() -> None:
    decision = TrafficPolicy({"blue": 0, "green": 0}).decide()
    assert decision.deployment is None
    assert "devkit traffic" in decision.reason


def test_mirror_share_matches_its_percentage() -> None:
    policy = TrafficPolicy({"blue": 100, "green": 0}, {"green": 20}, rng=random.Random(11))
    mirrored = sum(policy.decide().mirror == "green" for _ in range(10_000))
    assert 1800 < mirrored < 2200


def test_from_routes_reads_config_triples() -> None:
    policy = TrafficPolicy.from_routes([("blue", 100, 0), ("green", 0, 10)])
    assert policy.weights == {"blue": 100, "green": 0}
    assert policy.mirror == {"green": 10}
