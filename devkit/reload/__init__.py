"""Host side of hot reload: what the replicas did after a save, reloading on demand, and
environment changes that need a rebuild instead.

The reloading itself happens inside each replica (``devkit_runtime.watch``: the runtime
watches its code root and reloads every worker), so it keeps working with no devkit
command running. This package is what the CLI and the TUI use to show it:

* :func:`last_reloads` / :func:`reload_now` -- per-replica :class:`ReplicaReload`
  outcomes (``summary`` turns them into ``reloaded blue in 84 ms (generation 3)`` lines);
* :func:`rebuilds_needed` -- "blue needs a rebuild" when the environment changed;
* :func:`remember_spec` / :func:`load_spec` / :func:`recall_settings` -- where an
  endpoint's YAML files are, and the run settings it was brought up with.
"""

from devkit.reload.outcomes import ReplicaReload, last_reloads, reload_now, summary
from devkit.reload.rebuild import RebuildNeeded, rebuilds_needed
from devkit.reload.specs import (
    forget_spec,
    load_spec,
    recall_settings,
    recall_spec,
    remember_spec,
)

__all__ = [
    "RebuildNeeded", "ReplicaReload", "forget_spec", "last_reloads",
    "load_spec", "rebuilds_needed", "recall_settings", "recall_spec", "reload_now",
    "remember_spec", "summary",
]
