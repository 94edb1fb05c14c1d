"""The Docker Swarm target (:class:`~devkit.promote.swarm.target.SwarmTarget`): one
service per deployment plus devkit's router as a service, on one overlay network per
endpoint, keys as swarm secrets. See :mod:`devkit.promote.swarm.specs` for why dnsrr and
host-mode ports, and :mod:`devkit.promote.swarm.router` for live traffic changes.
"""
