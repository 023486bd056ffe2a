"""Composing a config as the command line does, and reading or writing its dotted keys.

`compose(overrides, **params)` is the one documented Python entry (also `sim.compose`): `python -m sim
OVERRIDES` (and keyword parameters) as a typed, validated `Config`, checked by the command line's own
preflight. The app, the notebooks and the tests compose through it. `compose_config(overrides)` is its
internal core, the same composition without the preflight, for the package's own code that checks its
overrides otherwise (the preflight itself, and the studies that say why next to the call); it is not a
second entry. `get_value` / `set_value` / `with_values` read and write a dotted key (`influence.rate`)
of a Config or of a nested dict.
"""

from __future__ import annotations

import contextlib
import copy
import re
import threading
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import numpy as np

from sim.config import CONF_DIR
from sim.config.params import Config, mark_composed, validate
from sim.config.resolvers import register_resolvers

_HYDRA_LOCK = threading.RLock()  # Hydra's global state: one composition at a time


_SCHEMA_NODE: Any = None  # what `register_schema` stored in Hydra's config store


def register_schema() -> None:
    """Make the typed schema available to Hydra as the config `schema`, and the resolvers (idempotent).

    Stored once per process: building the schema from `Config` (`OmegaConf.structured`) takes about 16 ms,
    and the command line and `compose` reach here four to six times each (a quarter of a `compose` call).
    Hydra's store hands out a copy of the stored node at every composition, so the node stays as built;
    it is stored again only if something has replaced it.
    """
    global _SCHEMA_NODE
    from hydra.core.config_store import ConfigStore

    register_resolvers()  # ${sim.half:...} in conf/docking/
    store = ConfigStore.instance()
    if _SCHEMA_NODE is not None and store.repo.get("schema.yaml") is _SCHEMA_NODE:
        return
    store.store(name="schema", node=Config)
    _SCHEMA_NODE = store.repo.get("schema.yaml")


# conf/hydra/launcher/*.yaml carry the launcher plugins' own names (joblib, ray, ...), so Hydra checks
# them against the plugins' schemas, as intended, with a deprecation notice on each composition
SCHEMA_NOTICE = r"(?s).*is validated against ConfigStore schema with the same name"


def quiet_schema_notice() -> None:
    """Hide Hydra's schema notice for the whole process: the command line's own (sim.cli), not a library's."""
    warnings.filterwarnings("ignore", message=SCHEMA_NOTICE)


@contextlib.contextmanager
def composing(config_dir: Path | str | None = None) -> Iterator[None]:
    """Hydra initialized on conf/ (or `config_dir`) for the block: compositions inside it skip the set-up.

    The checks of the command line compose one config per swept value; inside one `composing()` block
    each `compose_dict` costs only the composition itself.
    """
    from hydra import initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    with _HYDRA_LOCK, warnings.catch_warnings():  # the notice hidden for this block only
        warnings.filterwarnings("ignore", message=SCHEMA_NOTICE)
        register_schema()
        if GlobalHydra.instance().is_initialized():
            yield
            return
        with initialize_config_dir(str(config_dir or CONF_DIR), version_base="1.3"):
            yield


def compose_dict(
    overrides: list[str] | tuple[str, ...] = (),
    *,
    return_hydra_config: bool = False,
    config_dir: Path | str | None = None,
    config_name: str = "config",
) -> Any:
    """The composed DictConfig of `python -m sim OVERRIDES` (not yet validated).

    `config_dir`, `config_name`: another primary config (the command line's --config-path, --config-name).
    """
    from hydra import compose

    with composing(config_dir):
        return compose(config_name, overrides=list(overrides), return_hydra_config=return_hydra_config)


def config_of(dcfg: Any) -> Config:
    """A composed DictConfig (`compose_dict`, Hydra's own) as a typed Config, marked as composed; not yet validated.

    Every Config composed from conf/ is made here, so that `validate` can tell a config group's option
    that was composed from one named in a section built by hand (`sim.config.params.mark_composed`).
    """
    from omegaconf import OmegaConf

    return mark_composed(cast(Config, OmegaConf.to_object(dcfg)))


def compose_config(overrides: list[str] | tuple[str, ...] = ()) -> Config:
    """`python -m sim OVERRIDES` as a typed, validated Config, without the command line's preflight: `compose`'s core.

    Internal: use `compose`, which runs the preflight first (its one-line messages, the memory estimate,
    the network files read). Code of the package that must skip the preflight says why where it calls this.
    """
    return validate(config_of(compose_dict(overrides)))


def compose(overrides: list[str] | tuple[str, ...] = (), /, **params: Any) -> Config:
    """The one Python entry to a config: exactly what `python -m sim OVERRIDES` runs, with its checks.

    `overrides` are the command line's strings (``["scenario=pandemic_shock", "n_agents=500"]``);
    keyword parameters are the same thing in Python: top-level keys (``n_agents=500``), config
    groups by option name (``scenario="pandemic_shock"``, ``preset="deffuant"``), dotted keys through
    a dict (``**{"exposure.height": 3.0}``) or nested dicts (``exposure={"height": 3.0}``). Both are
    checked by the command line's preflight, so a bad value raises the same one-line `InputError`
    (a `ValueError`) naming the key, the value and what is allowed. The model, the app, the
    notebooks and the tests compose through here (`compose_config` is the same composition without
    the preflight, for the package's own code).
    """
    from sim.config.preflight import preflight

    args = [*overrides, *overrides_from(params)]
    composed: dict[tuple[str, ...], Config] = {}
    preflight(args, composed=composed)
    # the preflight composed and validated these very overrides: the same composition, not done twice
    kept = composed.get(tuple(args))
    return kept if kept is not None else compose_config(args)


def overrides_from(params: dict[str, Any]) -> list[str]:
    """Keyword parameters as command-line overrides (nested dicts as dotted keys), values in Hydra's grammar."""
    out = []
    for key, value in params.items():
        if isinstance(value, dict):
            out += overrides_from({f"{key}.{k}": v for k, v in value.items()})
        else:
            out.append(f"{key}={_override_value(value)}")
    return out


_PLAIN = re.compile(r"[A-Za-z_][A-Za-z0-9_./-]*")


def _override_value(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        return repr(float(value))
    if isinstance(value, list | tuple):
        return "[" + ",".join(_override_value(v) for v in value) + "]"
    text = str(value)
    if _PLAIN.fullmatch(text) and text not in ("true", "false", "null", "inf", "nan"):
        return text
    for quote in ("'", '"'):  # Hydra's quoted strings: backslashes are literal unless before a quote
        if quote not in text and not text.endswith("\\"):
            return quote + text + quote
    return "'" + text.replace("'", "\\'") + "'"


def get_value(obj: Any, key: str, default: Any = ...) -> Any:
    """The value at a dotted key of a Config (attributes) or a nested dict; `default` if given and absent."""
    for part in key.split("."):
        if isinstance(obj, dict) and part in obj:
            obj = obj[part]
        elif not isinstance(obj, dict) and hasattr(obj, part):
            obj = getattr(obj, part)
        elif default is not ...:
            return default
        else:
            raise KeyError(key)
    return obj


def set_value(obj: Any, key: str, value: Any) -> None:
    """Set a dotted key in place: attributes of a Config, or keys of a nested dict (created as needed)."""
    *path, last = key.split(".")
    for part in path:
        obj = obj.setdefault(part, {}) if isinstance(obj, dict) else getattr(obj, part)
    if isinstance(obj, dict):
        obj[last] = value
    else:
        if not hasattr(obj, last):
            raise KeyError(key)
        setattr(obj, last, value)


def with_values(cfg: Config, values: dict[str, Any]) -> Config:
    """A copy of `cfg` with the dotted keys set, each value cast to the type of the value it replaces."""
    out = copy.deepcopy(cfg)
    for key, value in values.items():
        old = get_value(out, key)
        if isinstance(old, bool):
            value = bool(value)
        elif isinstance(old, int):
            value = int(round(value))
        elif isinstance(old, float):
            value = float(value)
        set_value(out, key, value)
    return out


def nested(values: dict[str, Any]) -> dict[str, Any]:
    """Dotted keys as a nested dict ({"a.b": 1} -> {"a": {"b": 1}})."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        set_value(out, key, value)
    return out
