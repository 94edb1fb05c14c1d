"""Use cases of devkit that the CLI and the TUI both call.

    compare   shadow_report            -> ShadowReport (the router's shadow diff)
    replay    load_requests, replay    -> ReplayReport (recorded requests, compared)
    rollout   rollout                  -> RolloutOutcome (step-wise shift, checked)
    promote   promote, rollback        -> PromoteResult (a spec taken to a target)
    targets   check_targets, status, traffic, logs, keys, token, down  (on a target)

They reach an endpoint through :class:`~devkit.actions.router_view.RouterView`: its
router's address, the client's credentials and its live traffic, wherever it runs.
"""
