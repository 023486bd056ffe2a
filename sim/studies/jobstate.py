"""Hydra's state set before each job of a sweep, without discovering its plugins again.

Before every job, Hydra's launchers hand the job Hydra's global state (`Singleton.set_state`: the
config singletons and OmegaConf's resolvers). That state leaves out the plugin registry, which does not
pickle, so `set_state` builds the registry anew: it imports every module under `hydra_plugins` again,
re-executing them (about 12 ms a job on this project, in the worker and, with one worker, in the
sweep's own process). Nothing a job can do changes which plugins a process has, so `install()` makes
`set_state` keep the registry the process already has, and otherwise do exactly what Hydra's does (it
still calls Hydra's own function). A process's first job still discovers the plugins.
"""

from __future__ import annotations

from typing import Any

_MARK = "_sim_keeps_plugins"


def install() -> None:
    """Replace `Singleton.set_state` in this process by one that keeps the plugin registry (idempotent)."""
    from hydra.core.plugins import Plugins
    from hydra.core.singleton import Singleton

    if getattr(Singleton.set_state, _MARK, False):
        return
    hydras = Singleton.set_state

    def set_state(state: Any) -> None:
        kept = Singleton._instances.get(Plugins)
        if kept is not None and Plugins not in state["instances"]:
            state["instances"][Plugins] = kept  # Hydra's set_state then finds it instead of building one
        hydras(state)

    setattr(set_state, _MARK, True)
    set_state.__wrapped__ = hydras  # type: ignore[attr-defined]
    Singleton.set_state = staticmethod(set_state)  # type: ignore[method-assign]
