"""Promote: take an endpoint that runs locally to a cluster target."""
