"""The scaling decision, a pure function: policy and reading in, count and reason out."""

from __future__ import annotations

from devkit.autoscale.decide import Decision, Policy, Reading, decide, recommend

POLICY = Policy(min_instances=1, max_instances=3, target_percent=70, max_concurrent=2,
                scale_in_window_s=10)


def _at(policy: Policy, at: float, current: int, load: float, history=(), since=0.0
        ) -> Decision:
    return decide(policy, Reading(at, current, load), history, since)


def test_recommend_is_the_hpa_formula_with_its_tolerance() -> None:
    assert recommend(POLICY, 1, 4) == 3  # 200% / 70% = 2.86 -> 3
    assert recommend(POLICY, 3, 4) == 3  # 67% is within 10% of 70%: no change
    assert recommend(POLICY, 2, 0) == 0
    assert recommend(POLICY, 1, 1.5) == 1  # 75%: 75/70 = 1.07 is within the tolerance
    assert recommend(POLICY, 1, 1.6) == 2  # 80%: 1.14 is not


def test_above_target_scales_out_at_once_to_get_back_under_it() -> None:
    decision = _at(POLICY, 5, 1, 4)
    assert (decision.action, decision.desired) == ("out", 3)
    assert "utilization 200%" in decision.reason and "target 70%" in decision.reason
    assert "1 → 3" in decision.reason and not decision.capped


def test_scale_out_never_passes_max_instances_and_says_so() -> None:
    decision = _at(POLICY, 5, 1, 20)
    assert (decision.action, decision.desired) == ("out", 3)
    assert decision.capped == "capped at max_instances 3"
    assert "wants 15" in decision.reason
    held = _at(POLICY, 5, 3, 20)
    assert (held.action, held.desired) == ("hold", 3) and held.capped


def test_the_machine_caps_below_max_instances_and_the_reason_names_it() -> None:
    small = Policy(1, 3, 70, 2, 10, machine_cap=2, machine_note="2 cores, Standard_DS1_v2 "
                   "has 1")
    decision = _at(small, 5, 1, 4)
    assert (decision.action, decision.desired) == ("out", 2)
    assert "this machine holds 2 replica(s) (2 cores" in decision.capped
    assert "fewer than max_instances 3" in decision.capped


def test_below_target_scales_in_only_after_the_window() -> None:
    # scaled out at t=0 to 3; the load stops
    history: tuple = ()
    for t in range(1, 10):
        decision = _at(POLICY, t, 3, 0, history, since=0)
        assert (decision.action, decision.desired) == ("hold", 3), t
        assert "scale-in window" in decision.reason
        history = decision.history
    decision = _at(POLICY, 10.5, 3, 0, history, since=0)
    assert (decision.action, decision.desired) == ("in", 1)  # never below min
    assert "below target for the 10 s scale-in window, 3 → 1" in decision.reason


def test_a_burst_inside_the_window_keeps_the_replicas() -> None:
    history: tuple = ()
    for t, load in [(1, 0), (2, 0), (3, 4), (4, 0), (11, 0), (12, 0)]:
        decision = _at(POLICY, t, 3, load, history, since=0)
        history = decision.history
        assert decision.action == "hold", (t, decision.reason)
    # 10 s after the burst at t=3 its recommendation has left the window
    assert _at(POLICY, 13.5, 3, 0, history, since=0).action == "in"


def test_scale_in_goes_to_the_highest_count_recommended_in_the_window() -> None:
    policy = Policy(1, 5, 70, 1, 10)
    history = ((5.0, 3),)  # 3 wanted 6 s ago
    decision = _at(policy, 11, 5, 0, history, since=0)
    assert (decision.action, decision.desired) == ("in", 3)


def test_never_below_min_and_back_within_bounds_after_a_settings_change() -> None:
    policy = Policy(2, 4, 70, 1, 10)
    assert _at(policy, 1, 1, 0).desired == 2 and _at(policy, 1, 1, 0).action == "out"
    assert "below min_instances 2" in _at(policy, 1, 1, 0).reason
    shrunk = _at(policy, 1, 6, 0)
    assert (shrunk.action, shrunk.desired) == ("in", 4)
    assert _at(Policy(0, 2, 70, 1, 10), 20, 1, 0).desired == 1  # min 0 still keeps one


def test_at_target_holds() -> None:
    decision = _at(POLICY, 1, 2, 2.8)
    assert (decision.action, decision.desired) == ("hold", 2)
    assert "at or under target" in decision.reason
