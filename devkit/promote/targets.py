"""The targets files and the :class:`Target` each entry names.

Two files, read in this order, a later entry replacing an earlier one of the same name:

1. the user's, ``$DEVKIT_CONFIG_DIR/targets.yml`` (default
   ``$XDG_CONFIG_HOME/devkit/targets.yml``, i.e. ``~/.config/devkit/targets.yml``): the
   clusters this person can reach, from any folder;
2. the project's, ``devkit-targets.yml`` in the current folder: targets a team commits
   next to its endpoint folders (a visible file, not a hidden ``.devkit/`` one, so a
   reviewer sees it in the tree).

Format (every key but ``kind`` and ``registry`` optional)::

    targets:
      local-swarm:
        kind: swarm                     # swarm | kubernetes
        docker_host: unix:///var/run/docker.sock   # or context: NAME (a docker context)
        registry: 127.0.0.1:5000        # HOST:PORT the target's nodes pull from
        address: 127.0.0.1              # where clients reach published ports
        published_port: 30080           # first host port a router may publish on
      aks:
        kind: kubernetes
        kubeconfig: ~/.kube/config
        context: aks-dev
        namespace: ml
        registry: myacr.azurecr.io
        gateway_class: istio            # gateway settings, read by the kubernetes target
        gateway_name: devkit

``devkit targets add/rm`` edit one file (the user's unless ``--project``); reading never
writes. An endpoint whose ``compute`` is ``azureml:NAME`` is promoted to target ``NAME``
when ``--target`` is not given (:func:`target_for`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from devkit.errors import TargetUnavailable
from devkit.paths import config_dir

KINDS = ("swarm", "kubernetes")
PROJECT_FILE = "devkit-targets.yml"
USER_FILE = "targets.yml"
DEFAULT_PUBLISHED_PORT = 30080


@dataclass(frozen=True)
class Target:
    """One place endpoints can be promoted to. Strings only, as written in the file."""

    name: str
    kind: str
    registry: str
    docker_host: str | None = None
    context: str | None = None
    kubeconfig: str | None = None
    namespace: str | None = None
    address: str | None = None
    published_port: int = DEFAULT_PUBLISHED_PORT
    gateway_class: str | None = None
    gateway_name: str | None = None
    source: str = ""  # the file it was read from (for messages)

    @property
    def client_address(self) -> str:
        """Where a client reaches the target's published ports: ``address`` when set,
        else the docker host's name (``tcp://HOST:2376`` -> HOST), else 127.0.0.1."""
        if self.address:
            return self.address
        if self.docker_host and self.docker_host.startswith(("tcp://", "ssh://")):
            return urlsplit(self.docker_host).hostname or "127.0.0.1"
        return "127.0.0.1"

    def to_yaml(self) -> dict[str, Any]:
        """The entry as written in a targets file (defaults and ``name`` left out)."""
        defaults = Target(name="", kind="", registry="")
        return {key: value for key, value in asdict(self).items()
                if key not in ("name", "source") and
                (key in ("kind", "registry") or value != getattr(defaults, key))}


def user_file() -> Path:
    return config_dir() / USER_FILE


def project_file(folder: Path | None = None) -> Path:
    return (folder or Path.cwd()) / PROJECT_FILE


def load_targets(folder: Path | None = None) -> dict[str, Target]:
    """Every target of the user's file, then the project's (which wins on a name)."""
    found: dict[str, Target] = {}
    for path in (user_file(), project_file(folder)):
        found.update(_read(path))
    return found


def get_target(name: str, folder: Path | None = None) -> Target:
    """The target called ``name``, or TargetUnavailable naming the ones that exist."""
    targets = load_targets(folder)
    if name in targets:
        return targets[name]
    known = ", ".join(sorted(targets)) or "none"
    raise TargetUnavailable(
        f"No target named '{name}' in {user_file()} or {project_file(folder)} (targets: "
        f"{known}); add it with `devkit targets add {name} --kind swarm --registry "
        f"HOST:PORT`.")


def target_for(compute: str | None, explicit: str | None, endpoint: str,
               folder: Path | None = None) -> Target:
    """``--target`` when given, else the target named by ``compute: azureml:NAME``."""
    if explicit:
        return get_target(explicit, folder)
    if compute and compute.startswith("azureml:"):
        return get_target(compute[len("azureml:"):], folder)
    raise TargetUnavailable(f"Endpoint '{endpoint}' names no target; pass `--target NAME` "
                            f"or set `compute: azureml:NAME` in its endpoint file.")


def add_target(target: Target, path: Path) -> None:
    """Write ``target`` into the targets file at ``path`` (replacing one of its name)."""
    check(target)
    raw = _raw(path)
    raw.setdefault("targets", {})[target.name] = target.to_yaml()
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.tmp")
    temp.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    temp.replace(path)


def remove_target(name: str, path: Path) -> None:
    raw = _raw(path)
    entries = raw.get("targets") or {}
    if name not in entries:
        known = ", ".join(sorted(entries)) or "none"
        raise TargetUnavailable(f"{path} has no target '{name}' (targets there: {known}); "
                                f"check the name with `devkit targets`.")
    del entries[name]
    path.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")


def check(target: Target) -> None:
    """TargetUnavailable when an entry cannot work: a kind devkit lacks, no registry,
    a docker host and a context both, a swarm given a kubeconfig."""
    where = f"target '{target.name}'" + (f" in {target.source}" if target.source else "")
    if target.kind not in KINDS:
        raise TargetUnavailable(f"{where}: kind '{target.kind}' is not one of "
                                f"{', '.join(KINDS)}; write `kind: swarm` or "
                                f"`kind: kubernetes`.")
    if not target.registry or "/" in target.registry:
        raise TargetUnavailable(f"{where}: registry '{target.registry}' must be HOST:PORT "
                                f"(e.g. 127.0.0.1:5000), the registry its nodes pull from.")
    if target.kind == "swarm" and target.docker_host and target.context:
        raise TargetUnavailable(f"{where}: give either docker_host or context, not both.")
    if target.kind == "swarm" and (target.kubeconfig or target.namespace):
        raise TargetUnavailable(f"{where}: kubeconfig and namespace are for kind kubernetes; "
                                f"remove them or use `--kind kubernetes`.")


def _read(path: Path) -> dict[str, Target]:
    entries = _raw(path).get("targets") or {}
    if not isinstance(entries, Mapping):
        raise TargetUnavailable(f"{path}: 'targets' must be a mapping of name to settings; "
                                f"see `devkit targets add --help` for the format.")
    result = {}
    for name, settings in entries.items():
        target = _entry(str(name), settings, path)
        check(target)
        result[target.name] = target
    return result


def _entry(name: str, settings: Any, path: Path) -> Target:
    allowed = {f.name for f in fields(Target)} - {"name", "source"}
    if not isinstance(settings, Mapping):
        raise TargetUnavailable(f"{path}: target '{name}' must be a mapping of settings.")
    unknown = sorted(set(settings) - allowed)
    if unknown:
        raise TargetUnavailable(f"{path}: target '{name}' has unknown key(s) "
                                f"{', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}.")
    values: dict[str, Any] = {key: (int(value) if key == "published_port" else str(value))
              for key, value in settings.items() if value is not None}
    try:
        return Target(name=name, source=str(path), **values)
    except TypeError as exc:  # kind or registry missing
        raise TargetUnavailable(f"{path}: target '{name}' needs `kind` and `registry` "
                                f"({exc}).") from exc


def _raw(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    try:
        raw = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise TargetUnavailable(f"{path} is not valid YAML ({exc}); fix it or remove it.") \
            from exc
    if not isinstance(raw, dict):
        raise TargetUnavailable(f"{path} must hold a mapping with a 'targets' key.")
    return raw
