"""``devkit ml``: the ``az ml`` surface, implemented in :mod:`devkit.cli.ml`."""

from devkit.cli.ml import ml

__all__ = ["ml"]
