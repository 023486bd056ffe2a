"""What Hydra does before each job of a sweep, done faster: the same state and the same files.

- **The plugin registry.** Before every job, Hydra's launchers hand the job Hydra's global state
  (`Singleton.set_state`: the config singletons and OmegaConf's resolvers). That state leaves out the
  plugin registry, which does not pickle, so `set_state` builds the registry anew: it imports every
  module under `hydra_plugins` again, re-executing them (about 12 ms a job on this project, in the
  worker and, with one worker, in the sweep's own process). Nothing a job can do changes which plugins a
  process has, so the installed `set_state` keeps the registry the process already has and otherwise
  does exactly what Hydra's does (it calls Hydra's own function). A process's first job still discovers
  the plugins.
- **The job's `.hydra/` files** (`config.yaml`, `hydra.yaml`, `overrides.yaml`), written by Hydra's
  `_save_config` with `OmegaConf.to_yaml`, whose YAML emitter is PyYAML's pure-Python one: about 8 ms a
  job. The installed `_save_config` gives the same container to PyYAML's C emitter (libyaml) with
  OmegaConf's own representers, in about 3.5 ms; the bytes are the same
  (`tests/unit/test_jobstate.py` compares them for every kind of job config). Without libyaml, Hydra's.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

_MARK = "_sim_jobstate"


def install() -> None:
    """Install both in this process (idempotent)."""
    _keep_plugins()
    _save_with_libyaml()


def _keep_plugins() -> None:
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


@functools.cache
def _dumper() -> Any:
    """PyYAML's C dumper with OmegaConf's representers (None without libyaml)."""
    import yaml
    from omegaconf._utils import get_omega_conf_dumper

    if not getattr(yaml, "__with_libyaml__", False):
        return None
    dumper: Any = type("OmegaConfCDumper", (yaml.CDumper,), {})
    for kind, represent in get_omega_conf_dumper().yaml_representers.items():
        dumper.add_representer(kind, represent)
    return dumper


def to_yaml(cfg: Any) -> str:
    """`OmegaConf.to_yaml(cfg)` (resolve=False, sort_keys=False) through libyaml's emitter."""
    import yaml
    from omegaconf import OmegaConf

    dumper = _dumper()
    if dumper is None:
        return OmegaConf.to_yaml(cfg)
    container = OmegaConf.to_container(cfg, resolve=False, enum_to_str=True)
    return yaml.dump(container, default_flow_style=False, allow_unicode=True, sort_keys=False, Dumper=dumper)


def _save_with_libyaml() -> None:
    import hydra.core.utils as hydra_utils

    if getattr(hydra_utils._save_config, _MARK, False) or _dumper() is None:
        return
    hydras = hydra_utils._save_config

    def _save_config(cfg: Any, filename: str, output_dir: Path) -> None:
        output_dir.mkdir(parents=True, exist_ok=True)
        with open(str(output_dir / filename), "w", encoding="utf-8") as file:
            file.write(to_yaml(cfg))

    setattr(_save_config, _MARK, True)
    _save_config.__wrapped__ = hydras  # type: ignore[attr-defined]
    hydra_utils._save_config = _save_config
