"""The local asset registry: models and environments for ``azureml:`` references.

* :class:`Registry` -- register, list and show versions; it is also the lookup the spec
  loader resolves ``model: azureml:NAME:VERSION`` / ``environment: azureml:NAME@latest``
  through.
* :func:`local_registry` -- the registry in devkit's state folder.
* :mod:`devkit.assets.curated` -- Azure's common curated environments and local stand-ins.

It sits beside the spec layer (the spec loader asks it for registered specs) and below
engines; it imports nothing above :mod:`devkit.spec`.
"""

from devkit.assets.registry import AssetRecord, Registry


def local_registry() -> Registry:
    """The registry under ``DEVKIT_STATE_DIR/assets``."""
    return Registry()


__all__ = ["AssetRecord", "Registry", "local_registry"]
