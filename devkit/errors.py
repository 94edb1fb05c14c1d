"""Every error devkit raises on purpose, rooted at :class:`DevkitError`.

``str(error)`` is always one sentence a user can act on: what failed, where, and the
next step. Foreign exceptions (docker SDK, httpx, yaml, OS) are translated at the
boundary that calls them, with ``raise ... from exc``. Only the CLI prints and exits;
the TUI shows the same sentences as notifications.

    DevkitError
    ├── SpecError                 a YAML spec is wrong (file, line, field)
    │   └── UnresolvableReference an ``azureml:`` reference that cannot be resolved offline
    ├── ScriptError               a score.py cannot be loaded or its init() fails
    │   └── ReloadFailed          a reload's new code failed; the previous version serves
    ├── EngineError               the container/process engine failed
    │   ├── EngineUnavailable     no engine answers (with how to start one)
    │   ├── ImageBuildError       building a deployment's image failed
    │   └── GpuUnavailable        a GPU was asked for but the engine has no NVIDIA runtime
    ├── AssetError                the local asset registry refused (unknown, conflicting version)
    ├── EndpointNotFound          no running endpoint by that name
    ├── InvokeError               an endpoint answered a request with a non-2xx status
    ├── ReadinessTimeout          a deployment did not become ready in time (with its last logs)
    ├── RouterError               the router refused an operation (traffic change, auth)
    ├── DebugError                a debug session cannot start or no debugger attached
    ├── RolloutFailed             a rollout's check failed and traffic was rolled back
    └── TargetError               a promote target refused or failed (names target + object)
        ├── TargetUnavailable     the target does not answer, or is not in a targets file
        ├── RegistryError         the target's registry refused a push or a lookup
        └── CapacityError         the plan does not fit the target's nodes
"""

from __future__ import annotations


class DevkitError(Exception):
    """Base of every error devkit raises deliberately; its message is user-facing."""

    exit_code = 1


class SpecError(DevkitError):
    """A spec file is invalid. Carries the file, line and field it is about."""

    exit_code = 2

    def __init__(self, message: str, *, file: str | None = None, line: int | None = None,
                 field: str | None = None) -> None:
        self.file = file
        self.line = line
        self.field = field
        self.reason = message
        where = ""
        if file is not None:
            where = f"{file}:{line}: " if line is not None else f"{file}: "
        subject = f"field '{field}': " if field else ""
        super().__init__(f"{where}{subject}{message}")


class UnresolvableReference(SpecError):
    """An ``azureml:name:version`` reference that only the cloud registry can resolve."""


class ScriptError(DevkitError):
    """A scoring script failed to load or initialise."""

    exit_code = 3


class EngineError(DevkitError):
    """The engine (Docker or host processes) failed to do what was asked."""

    exit_code = 4


class EngineUnavailable(EngineError):
    """No engine answers where one is needed."""


class ImageBuildError(EngineError):
    """Building a deployment's image failed."""


class GpuUnavailable(EngineError):
    """A GPU deployment was requested but the engine has no NVIDIA runtime."""


class AssetError(DevkitError):
    """The local model/environment registry cannot do what was asked."""

    exit_code = 2


class EndpointNotFound(DevkitError):
    """No running endpoint has the requested name."""

    exit_code = 5


class InvokeError(DevkitError):
    """A request sent by ``devkit invoke`` failed or got a non-2xx answer."""

    exit_code = 8


class ReadinessTimeout(DevkitError):
    """A deployment did not become ready within its probe budget."""

    exit_code = 6


class RouterError(DevkitError):
    """The router refused an operation (for example an invalid traffic change)."""

    exit_code = 7


class ReloadFailed(ScriptError):
    """A reload was asked for and the new code failed in at least one replica (the
    previous version keeps serving there)."""


class DebugError(DevkitError):
    """``devkit debug`` could not make a deployment debuggable or no client attached."""


class RolloutFailed(DevkitError):
    """``devkit rollout`` rolled back: a check on the candidate failed (the reason says
    which), or it was stopped before the last step."""

    exit_code = 9


class TargetError(DevkitError):
    """A promote target (a swarm, a cluster) refused or failed an operation; the message
    names the target and the object."""

    exit_code = 10


class TargetUnavailable(TargetError):
    """The target is not in any targets file, or does not answer."""


class RegistryError(TargetError):
    """The target's registry refused a push, or cannot be reached."""


class CapacityError(TargetError):
    """What the plan needs does not fit the target's nodes (``--overcommit`` proceeds)."""
