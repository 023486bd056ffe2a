"""A sweep's job configs, composed by Hydra once per choice of config groups in each process that runs jobs.

Before each job of a sweep, Hydra's launchers (joblib, submitit, Ray, the basic one) compose its config
anew from the YAML files (`ConfigLoaderImpl.load_sweep_config`): about 90 ms on this project's config,
most of a default run's overhead in a sweep, although the jobs of a sweep usually differ only in a
few values (`seed=3`, `attention.capacity=2.5`).

`install()` replaces that method, in the process that calls it, by one that gives the same config
faster. A job's overrides are split into plain value overrides (`key=value` of a key that is not a
config group) and the rest (config group choices, `+key`, `++key`, `~key`, Hydra's own keys). Hydra
composes the job's config with the rest only, once per distinct rest in the process, and keeps it;
each job gets a copy of that template (unpickled: about 2 ms) and applies its plain overrides with Hydra's
own function (`ConfigLoaderImpl._apply_overrides_to_config`, which Hydra applies after composing
anyway), then sets what Hydra derives from the overrides (`hydra.overrides.task` in the command's
order, `hydra.job.override_dirname`). Plain values cannot change which files are composed: a
defaults list may refer to config group choices only. The result is the config Hydra composes, node
for node (`tests/unit/test_jobconfig.py` compares the YAML and the flags over many kinds of overrides),
so every output and the outputs' bytes are unchanged. Anything the fast path cannot take (an error,
an unexpected kind of override) goes to Hydra's own method, which then composes or reports as before.

On the local worker pool, the sweep's process composes each template as it hands out the first job
that needs it and sends it along (`template_for`, `seed`, through `sim.studies.jobshare`): a worker's first
job then starts without composing, and every worker has the very template the other jobs have.

The YAML files are read when a process first needs a template: a config file edited while a sweep
runs is not seen by the workers that have read it (Hydra would give later jobs the edited file; the
command line's checks at the start of a sweep had composed every job with the original).
"""

from __future__ import annotations

import copy
import pickle
from collections import OrderedDict
from typing import Any

MAX_TEMPLATES = 64  # distinct choices of config groups kept per process (a sweep over groups has a few)
_templates: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
_MARK = "_sim_from_templates"


def _plain(override: Any, loader: Any) -> bool:
    """A `key=value` override of a key that is not a config group, with one value: applied after composing."""
    from hydra.core.override_parser.types import OverrideType, ValueType

    return (
        override.type == OverrideType.CHANGE
        and override.value_type == ValueType.ELEMENT
        and override.package is None
        and not override.is_hydra_override()
        and not loader.repository.group_exists(override.key_or_group)
    )


def _kept(template: Any) -> Any:
    """A template as kept: pickled (a job's copy is then unpickled, 1.6 ms, where a deep copy took 6.4 ms).

    OmegaConf pickles a config with its flags, types and parents, so the copy is the deep copy's node for
    node; a template that does not pickle (an object in a structured config) is kept as it is.
    """
    try:
        return pickle.dumps(template, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:
        return template


def _split(
    loader: Any, master_config: Any, sweep_overrides: list[str]
) -> tuple[list[Any], list[Any], tuple, list[Any]]:
    """A job's overrides parsed, its plain ones, the key of its template and the overrides the template takes."""
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from omegaconf import OmegaConf

    config_name = master_config.hydra.job.config_name
    hydra_overrides = OmegaConf.to_container(master_config.hydra.overrides.hydra)
    assert isinstance(hydra_overrides, list)
    overrides = [*hydra_overrides, *sweep_overrides]
    parsed = OverridesParser.create().parse_overrides(overrides=overrides)
    is_plain = [_plain(o, loader) for o in parsed]  # each override judged once (a group lookup on disk)
    plain = [o for o, p in zip(parsed, is_plain, strict=True) if p]
    rest = [o.input_line for o, p in zip(parsed, is_plain, strict=True) if not p]
    sources = tuple((s.provider, s.path) for s in loader.get_sources())
    return parsed, plain, (config_name, tuple(rest), sources), rest


def _template(loader: Any, key: tuple, rest: list[Any]) -> Any:
    """The kept template of this key, composed by Hydra the first time it is asked for in this process."""
    from hydra.types import RunMode

    template = _templates.get(key)
    if template is None:
        template = _kept(loader.load_configuration(config_name=key[0], overrides=rest, run_mode=RunMode.RUN))
        keep(key, template)
    else:
        _templates.move_to_end(key)
    return template


def keep(key: tuple, template: Any) -> None:
    """Keep a template under a key it is not kept under yet (the newest; the oldest beyond `MAX_TEMPLATES` go)."""
    _templates[key] = template
    while len(_templates) > MAX_TEMPLATES:
        _templates.popitem(last=False)


def template_for(loader: Any, master_config: Any, sweep_overrides: list[str]) -> tuple[tuple, bytes] | None:
    """(key, template) of a job, composed here if this process has not yet: what `seed` keeps in a worker.

    The sweep's process composes the template once and hands it to each worker with the job (`sim.studies.
    jobshare`), where it would otherwise be composed again by every worker's first job. None where the job
    cannot take the fast path or its template does not pickle: the worker then composes as without this.
    """
    try:
        _, _, key, rest = _split(loader, master_config, sweep_overrides)
        template = _template(loader, key, rest)
    except Exception:  # the worker meets the error, and Hydra reports it, as without this
        return None
    return (key, template) if isinstance(template, bytes) else None


def seed(kept: tuple[tuple, bytes] | None) -> None:
    """Keep a template the sweep's process composed (`template_for`), unless this process has it already."""
    if kept is not None and kept[0] not in _templates:
        keep(*kept)


def from_templates(loader: Any, master_config: Any, sweep_overrides: list[str]) -> Any:
    """The job's config, as `ConfigLoaderImpl.load_sweep_config` composes it, from a kept template."""
    from hydra._internal.config_loader_impl import ConfigLoaderImpl, get_overrides_dirname
    from omegaconf import OmegaConf

    parsed, plain, key, rest = _split(loader, master_config, sweep_overrides)
    template = _template(loader, key, rest)
    cfg = pickle.loads(template) if isinstance(template, bytes) else copy.deepcopy(template)
    ConfigLoaderImpl._apply_overrides_to_config(plain, cfg)
    app = [o for o in parsed if not o.is_hydra_override()]
    cfg.hydra.overrides.task = [o.input_line for o in app]
    cfg.hydra.job.override_dirname = get_overrides_dirname(
        overrides=app,
        kv_sep=cfg.hydra.job.config.override_dirname.kv_sep,
        item_sep=cfg.hydra.job.config.override_dirname.item_sep,
        exclude_keys=cfg.hydra.job.config.override_dirname.exclude_keys,
    )
    OmegaConf.copy_cache(from_config=master_config, to_config=cfg)  # as Hydra does
    return cfg


def install() -> None:
    """Compose the jobs of sweeps run in this process from templates (see the module's docstring)."""
    from hydra._internal.config_loader_impl import ConfigLoaderImpl

    hydra_own = ConfigLoaderImpl.load_sweep_config
    if getattr(hydra_own, _MARK, False):
        return

    def load_sweep_config(self: Any, master_config: Any, sweep_overrides: list[str]) -> Any:
        try:
            return from_templates(self, master_config, sweep_overrides)
        except Exception:  # Hydra's own composition: the same config, or the error Hydra reports
            return hydra_own(self, master_config, sweep_overrides)

    setattr(load_sweep_config, _MARK, True)
    load_sweep_config.hydra_own = hydra_own  # type: ignore[attr-defined]
    ConfigLoaderImpl.load_sweep_config = load_sweep_config  # type: ignore[method-assign]
