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
- **Hydra's copies of the job's config.** Each job, Hydra copies the whole config twice in `run_job`
  (the task's config, and Hydra's node for `.hydra/hydra.yaml` and the job's result) and Hydra's node
  three times in `HydraConfig.set_config` (once in the launcher's `execute_job`, twice in `run_job`):
  `copy.deepcopy` of an OmegaConf config walks it node by node in Python, 3.5-5 ms each here, about
  20 ms of a job's ~38 ms of overhead. `fast_copy` makes the same copy (OmegaConf's own `__deepcopy__`
  semantics: every node, its metadata and its parent links) through pickle, which OmegaConf supports,
  about three times faster; `run_job` and `set_config` use it. The copies are equal node for node,
  metadata included (tests/unit/test_jobstate.py), so the job, its `.hydra/` files and its result are
  the same.
"""

from __future__ import annotations

import functools
import pickle
from pathlib import Path
from typing import Any

_MARK = "_sim_jobstate"


def install() -> None:
    """Install all three in this process (idempotent)."""
    _keep_plugins()
    _save_with_libyaml()
    _copy_configs_by_pickle()


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


def fast_copy(cfg: Any) -> Any:
    """`copy.deepcopy(cfg)` of an OmegaConf DictConfig, through pickle: the same nodes, metadata and parents.

    As OmegaConf's `DictConfig.__deepcopy__`: the copy keeps `cfg`'s parent (not copied), and its children
    have the copy as their parent even where `cfg`'s child had another (`HydraConfig`'s node, whose parent
    is the job's config). The parent links are cut for the pickling, as `__deepcopy__` cuts them, and put
    back; anything but a DictConfig with a dict of nodes, and a config that does not pickle (a structured
    config's class imported twice, as in a submitit job that discovers the plugins again), is left to
    `copy.deepcopy`.
    """
    import copy

    from omegaconf import DictConfig

    content = cfg.__dict__.get("_content") if type(cfg) is DictConfig else None
    if not isinstance(content, dict):
        return copy.deepcopy(cfg)
    parent = cfg.__dict__["_parent"]
    parents = {key: node.__dict__["_parent"] for key, node in content.items()}
    cfg.__dict__["_parent"] = None
    for node in content.values():
        node.__dict__["_parent"] = cfg
    try:
        res = pickle.loads(pickle.dumps(cfg, protocol=pickle.HIGHEST_PROTOCOL))
    except Exception:  # a class that does not pickle by name (a plugin's config class imported twice)
        res = None
    finally:
        cfg.__dict__["_parent"] = parent
        for key, node in content.items():
            node.__dict__["_parent"] = parents[key]
    if res is None:
        return copy.deepcopy(cfg)
    res.__dict__["_parent"] = parent
    return res


class _PickleCopy:
    """The `copy` module as `hydra.core.utils` sees it: `deepcopy` is `fast_copy` (run_job's two copies)."""

    def __init__(self, module: Any) -> None:
        self._module = module

    def __getattr__(self, name: str) -> Any:
        return getattr(self._module, name)

    def deepcopy(self, obj: Any, memo: Any = None) -> Any:
        return fast_copy(obj) if memo is None else self._module.deepcopy(obj, memo)


def masked_hydra(cfg: Any) -> Any:
    """`OmegaConf.masked_copy(cfg, "hydra")`: a new root holding a copy of `cfg.hydra` (by `fast_copy`)."""
    from omegaconf import DictConfig, flag_override

    root = DictConfig(content={})
    node = fast_copy(cfg._get_node("hydra"))
    with flag_override(root, "no_deepcopy_set_nodes", True):
        root["hydra"] = node  # the copy itself, not a copy of it (its parent is set to the new root)
    return root


def _copy_configs_by_pickle() -> None:
    import hydra.core.utils as hydra_utils
    from hydra.conf import HydraConf
    from hydra.core.hydra_config import HydraConfig
    from omegaconf import OmegaConf

    if not isinstance(hydra_utils.copy, _PickleCopy):
        hydra_utils.copy = _PickleCopy(hydra_utils.copy)  # type: ignore[assignment]
    if getattr(HydraConfig.set_config, _MARK, False):
        return
    hydras = HydraConfig.set_config

    def set_config(self: Any, cfg: Any) -> None:
        """Hydra's `HydraConfig.set_config`, its masked copy made by `masked_hydra`."""
        assert cfg is not None
        OmegaConf.set_readonly(cfg.hydra, True)
        hydra_node_type = OmegaConf.get_type(cfg, "hydra")
        assert hydra_node_type is not None and issubclass(hydra_node_type, HydraConf)
        self.cfg = masked_hydra(cfg)
        self.cfg.hydra._set_parent(cfg)

    setattr(set_config, _MARK, True)
    set_config.__wrapped__ = hydras  # type: ignore[attr-defined]
    HydraConfig.set_config = set_config  # type: ignore[method-assign]
