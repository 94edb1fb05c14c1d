"""The log lines of an endpoint's replicas and router."""

from __future__ import annotations

from collections.abc import Iterator

from devkit.actions.place import LOCAL, Scope


def logs(name: str, *, deployment: str | None = None, follow: bool = False,
         tail: int | None = 100, scope: Scope = LOCAL) -> Iterator[str]:
    """Lines prefixed by replica (``blue-0``) and ``router``; ``tail`` None: all of them;
    ``follow`` keeps streaming until the caller stops iterating."""
    return scope.owner(name).logs(name, deployment, follow=follow, tail=tail)
