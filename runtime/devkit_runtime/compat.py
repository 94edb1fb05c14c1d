"""Make Microsoft's import paths for the raw-HTTP API resolve to the runtime's own modules.

Scoring scripts written for Azure ML import ``rawhttp`` / ``AMLRequest`` / ``AMLResponse``
from ``azureml.contrib.services.aml_request`` (old SDK) or
``azureml_inference_server_http.api.aml_request`` (the server package). A devkit image has
neither package, and where one is installed its classes belong to a server that is not
running. The same goes for ``azureml.ai.monitoring`` (``Collector``, data collection) and
its ``.context``. :func:`install` puts a ``sys.meta_path`` finder *first*, so these leaf
modules always come from here. Parent packages (``azureml``, ...) are left to the normal
finders when they exist (``azureml-core`` and friends must keep working) and are
synthesised as empty packages only when nothing else provides them.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
from collections.abc import Sequence
from types import ModuleType

ALIASES: dict[str, str] = {
    "azureml.contrib.services.aml_request": "devkit_runtime.amlrequest",
    "azureml.contrib.services.aml_response": "devkit_runtime.amlresponse",
    "azureml_inference_server_http.api.aml_request": "devkit_runtime.amlrequest",
    "azureml_inference_server_http.api.aml_response": "devkit_runtime.amlresponse",
    # azureml-ai-monitoring's data collection API (CONTRACT.md §7)
    "azureml.ai.monitoring": "devkit_runtime.collection.monitoring",
    "azureml.ai.monitoring.context": "devkit_runtime.collection.monitoring",
}
PARENTS = frozenset(
    ".".join(name.split(".")[:depth])
    for name in ALIASES
    for depth in range(1, name.count(".") + 1)
)


class _AliasLoader(importlib.abc.Loader):
    """Creates a module whose public names are the runtime module's own objects, so
    ``isinstance(result, AMLResponse)`` holds whichever path the script imported."""

    def __init__(self, target: str) -> None:
        self.target = target

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return None

    def exec_module(self, module: ModuleType) -> None:
        source = importlib.import_module(self.target)
        for name in getattr(source, "__all__", ()):
            setattr(module, name, getattr(source, name))


class _EmptyPackageLoader(importlib.abc.Loader):
    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return None

    def exec_module(self, module: ModuleType) -> None:
        module.__path__ = []


class AliasFinder(importlib.abc.MetaPathFinder):
    """Resolves :data:`ALIASES` to runtime modules; fills in missing parent packages."""

    def find_spec(self, fullname: str, path: Sequence[str] | None = None,
                  target: ModuleType | None = None) -> importlib.machinery.ModuleSpec | None:
        if fullname in ALIASES:  # an alias may also be a parent (azureml.ai.monitoring)
            return importlib.machinery.ModuleSpec(fullname, _AliasLoader(ALIASES[fullname]),
                                                  is_package=fullname in PARENTS)
        if fullname not in PARENTS or self._found_elsewhere(fullname, path):
            return None
        return importlib.machinery.ModuleSpec(fullname, _EmptyPackageLoader(), is_package=True)

    def _found_elsewhere(self, fullname: str, path: Sequence[str] | None) -> bool:
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            if finder.find_spec(fullname, path) is not None:
                return True
        return False


def install() -> None:
    """Put the finder first on ``sys.meta_path`` (idempotent) and drop stale copies of the
    aliased modules that something imported before the server started."""
    if not any(isinstance(finder, AliasFinder) for finder in sys.meta_path):
        sys.meta_path.insert(0, AliasFinder())
    for name in ALIASES:
        module = sys.modules.get(name)
        if module is not None and not isinstance(module.__spec__.loader if module.__spec__
                                                 else None, _AliasLoader):
            del sys.modules[name]
