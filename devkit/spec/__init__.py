"""Endpoint and deployment specs: YAML in, typed and validated objects out."""
