"""Local autoscaling: ``scale_settings: {type: target_utilization}`` acted on.

Where the loop lives, and why: a per-endpoint host process (``python -m devkit.autoscale
ENDPOINT --engine docker|process``, :mod:`devkit.autoscale.daemon`), started by ``devkit
up`` when a deployment of the endpoint has target_utilization scale settings, stopped by
``down``, detached so it outlives the CLI. Not the router: the router runs in a container
without the Docker socket and must stay a pure proxy (its cost is the number the
overhead benchmark measures), while scaling needs the engine that ``up`` uses to start
and remove replicas. Not the CLI: an endpoint must keep scaling after it exits.

Each poll (the deployment's ``polling_interval``) reads the router's load over loopback
(``GET /-/load.json``: in flight + queued per deployment, sampled by the router),
decides with the pure :func:`devkit.autoscale.decide.decide` (the Kubernetes HPA's rule
on Azure's front-end utilization), and acts through the Engine: a new replica joins the
router only once ready; a leaving one is drained first (the router's ``draining`` flag,
then until it serves nothing or a timeout), so scaling loses no request. Its state is in
the endpoint's state folder (:mod:`devkit.autoscale.record`), which ``devkit status``
and the TUI show. docs/autoscaling.md says it for users.
"""

from devkit.autoscale.decide import SCALE_IN_WINDOW_S, Decision, Policy, Reading, decide

__all__ = ["SCALE_IN_WINDOW_S", "Decision", "Policy", "Reading", "decide"]
