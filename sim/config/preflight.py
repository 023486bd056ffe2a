"""Checks the command line before Hydra runs anything, so bad input costs one clear line.

Every override (and every value of a sweep) is checked: the key must exist in the schema or be a
config group, a group option must exist, and the composed config must pass `validate`; for a sweep,
every value on its own and then every run (combination of swept values). A sweep with one bad run
therefore fails before any run is launched. `hydra/launcher=NAME` must name a launcher whose plugin
is installed (the message lists the available ones, or says what to install). With -m, the sweeps a
config declares in `hydra.sweeper.params` (an experiment's, conf/experiment/NAME.yaml) are checked as
if typed on the command line (where a key typed on the command line wins, as in Hydra's sweeper).
"""

from __future__ import annotations

import dataclasses
import functools
import typing
from pathlib import Path

from sim.config.compose import CONF_DIR, compose_dict, composing, register_schema, set_value
from sim.config.errors import ConfigError, InputError
from sim.config.params import Config

# Hydra's own flags that take a value in the next argument
_FLAGS_WITH_VALUE = {
    "--cfg",
    "-c",
    "--package",
    "-p",
    "--config-path",
    "-cp",
    "--config-name",
    "-cn",
    "--config-dir",
    "-cd",
    "--experimental-rerun",
    "--shell-completion",
    "-sc",
}


def overrides_of(argv: list[str]) -> list[str]:
    out, skip = [], False
    for arg in argv:
        if skip:
            skip = False
        elif arg.startswith("-"):
            skip = arg in _FLAGS_WITH_VALUE
        else:
            out.append(arg)
    return out


def group_options(group: str, dirs: list[Path] | None = None) -> list[str]:
    """Options of a config group: the YAML files of the group in the config directories."""
    return list(_group_options(group, tuple(dirs or [CONF_DIR])))


@functools.lru_cache(maxsize=64)
def _group_options(group: str, dirs: tuple[Path, ...]) -> tuple[str, ...]:
    return tuple(sorted({p.stem for d in dirs for p in (d / group).glob("*.yaml")}))


class _GroupOptions:
    """What Hydra's glob sweeps (`key=glob(*)`) ask of a config loader, from the config directories."""

    def __init__(self, dirs: list[Path]) -> None:
        self.dirs = dirs

    def get_group_options(self, group: str, results_filter: typing.Any = None) -> list[str]:
        return group_options(group.lstrip("+"), self.dirs)


def values_of(override: typing.Any, dirs: list[Path] | None = None) -> list[str]:
    """The values an override takes: one, or each value of a sweep (glob sweeps included)."""
    if not override.is_sweep_override():
        return [override.get_value_element_as_str()]
    if override.config_loader is None:
        override.config_loader = _GroupOptions(dirs or [CONF_DIR])
    return list(override.sweep_string_iterator())


def _is_group(key: str, dirs: list[Path] | None = None) -> bool:
    return "." not in key and any((d / key).is_dir() for d in (dirs or [CONF_DIR]))


def _fields_at(path: list[str]) -> dict[str, typing.Any] | None:
    """Schema fields under a dotted path (None if the path is not a section)."""
    cls: typing.Any = Config
    for part in path:
        hints = typing.get_type_hints(cls)
        if part not in hints or not dataclasses.is_dataclass(hints[part]):
            return None
        cls = hints[part]
    return typing.get_type_hints(cls)


def check_key(key: str, value: str, dirs: list[Path] | None = None) -> None:
    parts = key.split(".")
    if _is_group(key, dirs):
        options = group_options(key, dirs)
        if value not in options:
            shown = options if len(options) <= 12 else [*options[:5], "...", *options[-5:]]
            raise ConfigError(key, value, "one of " + ", ".join(shown))
        return
    fields = _fields_at(parts[:-1])
    if fields is None or parts[-1] not in fields:
        where = ".".join(parts[:-1]) or "top level"
        section = typing.cast(dict[str, typing.Any], _fields_at(parts[:-1]) or _fields_at([]))  # [] is a section
        raise InputError(f"unknown config key: {key}={value!r}; allowed keys at {where}: " + ", ".join(sorted(section)))
    if fields[parts[-1]] is bool and value.strip().lower() not in ("true", "false"):
        raise ConfigError(key, value, "true or false")  # OmegaConf would read 2 or 'yes' as true


# Hydra plugins behind the launcher configs, and how to install them (pyproject.toml extras)
_PLUGINS = {
    "hydra_plugins.hydra_joblib_launcher": ("hydra-joblib-launcher", "pip install -e ."),
    "hydra_plugins.hydra_submitit_launcher": ("hydra-submitit-launcher", "pip install -e '.[slurm]'"),
    "hydra_plugins.hydra_ray_launcher": ("hydra-ray-launcher", "pip install -e '.[ray]'"),
}


def hydra_group_options(group: str) -> dict[str, str | None]:
    """Options of a Hydra config group (`hydra/launcher`, ...), each with the class it instantiates.

    Options are conf/hydra/GROUP/*.yaml and the configs that installed plugins register.
    """
    from hydra.core.config_store import ConfigStore
    from hydra.core.plugins import Plugins
    from omegaconf import OmegaConf

    Plugins.instance()  # plugin discovery registers the plugins' configs
    options: dict[str, str | None] = {}
    node = ConfigStore.instance().repo.get("hydra", {}).get(group, {})
    for name, entry in node.items():
        if name.endswith(".yaml"):
            options[name[:-5]] = OmegaConf.select(entry.node, "_target_", default=None)
    for path in sorted((CONF_DIR / "hydra" / group).glob("*.yaml")):
        target = OmegaConf.select(OmegaConf.load(path), "_target_", default=None)
        options[path.stem] = target or options.get(path.stem)
    return dict(sorted(options.items()))


def check_hydra_group(group: str, value: str) -> None:
    """`hydra/launcher=NAME` (or sweeper, callbacks...): NAME exists, and its plugin is installed."""
    import importlib.util

    options = hydra_group_options(group)
    what = {"launcher": "launcher", "sweeper": "sweeper"}.get(group, f"hydra/{group} option")
    if value not in options:
        raise InputError(f"unknown {what}: hydra/{group}={value}; available: {', '.join(options)}")
    target = options[value] or ""
    module = ".".join(target.split(".")[:2])
    if module in _PLUGINS and importlib.util.find_spec(module) is None:
        dist, how = _PLUGINS[module]
        raise InputError(f"hydra/{group}={value} needs the plugin {dist}, not installed: {how}")
    if module == "hydra_plugins.hydra_ray_launcher" and importlib.util.find_spec("ray") is None:
        raise InputError(f"hydra/{group}={value} needs ray, not installed: {_PLUGINS[module][1]}")


def config_dirs(argv: list[str], parsed: list[typing.Any]) -> list[Path]:
    """conf/ and the config directories a command line adds (--config-dir, hydra.searchpath=[file://...])."""
    dirs = [CONF_DIR]
    for flag, value in zip(argv, argv[1:], strict=False):
        if flag in ("--config-dir", "-cd"):
            dirs.append(Path(value).resolve())
    for o in parsed:
        if o.key_or_group.lstrip("+") == "hydra.searchpath":
            for entry in o.value() or []:
                if str(entry).startswith("file://"):
                    dirs.append(Path(str(entry)[len("file://") :]).resolve())
    return dirs


MAX_RUN_CHECKS = 100_000  # combinations of swept values checked one by one (seeds aside)


def preflight(argv: list[str]) -> None:
    """Raise InputError for the first bad override, sweep value or run of a sweep.

    1. every key exists (a config group's option exists; `hydra/launcher=NAME` names a launcher
       whose plugin is installed); 2. each value composes (types) and passes its own range check;
    3. every run of a sweep (each combination of swept values; seeds, which no rule ties to another
    key, aside) passes `validate`, so the rules that tie keys together are checked on real runs.
    """
    from hydra.core.override_parser.overrides_parser import OverridesParser

    register_schema()
    overrides = overrides_of(argv)
    try:
        parsed = OverridesParser.create().parse_overrides(overrides)
    except Exception as err:  # Hydra's grammar error
        raise InputError(f"cannot parse the command line: {err}".splitlines()[0]) from None
    dirs = config_dirs(argv, parsed)
    if "-m" in argv or "--multirun" in argv:  # sweeps a config declares (an experiment's), checked alike
        parsed = config_sweeps(parsed, dirs) + parsed
    _check_sweep_dir(parsed)
    plain, sweeps, hydra_args = [], [], []
    for o in parsed:
        key = o.key_or_group
        if key.lstrip("+").startswith("hydra/") and not o.is_delete():
            values = values_of(o)
            for v in values:
                check_hydra_group(key.lstrip("+")[len("hydra/") :], v)
            continue
        if key.lstrip("+").startswith("hydra") or o.is_delete():
            continue
        values = values_of(o, dirs)
        if not values:
            raise InputError(f"empty sweep: {o.input_line} has no value")
        for v in values:
            check_key(key.lstrip("+"), v, dirs)
        if o.is_sweep_override():  # with its +, ++ prefix; typed values for keys (not groups)
            typed = values if _is_group(key.lstrip("+"), dirs) else list(o.sweep_iterator())
            sweeps.append((o.get_key_element(), values, typed))
        else:
            plain.append(o.input_line)
    if len(dirs) > 1:  # --config-dir and hydra.searchpath, for the compose API
        hydra_args.append("hydra.searchpath=[" + ",".join(f"file://{d}" for d in dirs[1:]) + "]")
    _check_configs(hydra_args, typing.cast(list[str], plain), sweeps, dirs)


def config_sweeps(parsed: list[typing.Any], dirs: list[Path]) -> list[typing.Any]:
    """The sweeps the composed config declares in `hydra.sweeper.params` (e.g. conf/experiment/NAME.yaml).

    As Hydra's basic sweeper does, a key also given on the command line takes the command line's
    value, so only the others are returned (parsed like command-line overrides). A config that does
    not compose returns none here: the checks of the command line then report why.
    """
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from omegaconf import OmegaConf

    given = [
        o.input_line for o in parsed if not o.is_sweep_override() and o.key_or_group.lstrip("+") != "hydra.searchpath"
    ]
    if len(dirs) > 1:
        given.append("hydra.searchpath=[" + ",".join(f"file://{d}" for d in dirs[1:]) + "]")
    try:
        cfg = compose_dict(given, return_hydra_config=True)
        params = typing.cast(
            dict[str, typing.Any],
            OmegaConf.to_container(OmegaConf.select(cfg, "hydra.sweeper.params") or {}, resolve=False),
        )
    except Exception:
        return []
    on_line = {o.key_or_group.lstrip("+~") for o in parsed}
    declared = [f"{k}={v}" for k, v in params.items()]
    try:
        found = OverridesParser.create().parse_overrides(declared)
    except Exception as err:
        raise InputError(f"cannot parse hydra.sweeper.params: {err}".splitlines()[0]) from None
    return [o for o in found if o.key_or_group.lstrip("+~") not in on_line]


def _check_sweep_dir(parsed: list[typing.Any]) -> None:
    """Ray's workers run in other working directories: a relative sweep directory would scatter runs."""
    given = {o.key_or_group.lstrip("+"): o for o in parsed}
    launcher = given.get("hydra/launcher")
    sweep_dir = given.get("hydra.sweep.dir")
    if launcher is None or sweep_dir is None or launcher.is_sweep_override() or sweep_dir.is_sweep_override():
        return
    value = sweep_dir.get_value_element_as_str()
    if launcher.get_value_element_as_str().startswith("ray") and not (value.startswith(("/", "$"))):
        raise InputError(
            f"hydra.sweep.dir={value}: give an absolute path with hydra/launcher=ray "
            "(Ray's workers do not run in this working directory)"
        )


def _check_configs(
    hydra_args: list[str], plain: list[str], sweeps: list[tuple[str, list[str], list]], dirs: list[Path]
) -> None:
    import copy
    import itertools
    import math

    from omegaconf import OmegaConf

    from sim.config.params import _check_fields, validate

    def compose_obj(ov: list[str]) -> tuple[typing.Any, Config]:
        try:
            cfg = compose_dict(hydra_args + ov)
        except Exception as err:
            raise InputError(_one_line(err, ov)) from None
        try:
            return cfg, typing.cast(Config, OmegaConf.to_object(cfg))
        except InputError:
            raise
        except Exception as err:
            raise InputError(_one_line(err, ov)) from None

    groups = [(k, vs) for k, vs, _ in sweeps if _is_group(k.lstrip("+"), dirs)]
    values = [(k, vs) for k, vs, _ in sweeps if not _is_group(k.lstrip("+"), dirs)]
    with composing():  # one Hydra set-up for every composition below
        plain_cfg, plain_obj = compose_obj(plain)
        if not sweeps:
            validate(plain_obj)
            check_input_files(plain_obj)
            return
        # each swept value on its own: has its type, and passes its own range (no rule between keys
        # here: the other keys keep their defaults in this variant, which is not a run of the sweep)
        typed: dict[tuple[str, str], typing.Any] = {}
        bases: dict[tuple[str, ...], Config] = {}
        scratch = copy.deepcopy(plain_cfg)
        for key, vs, tv in sweeps:
            if (key, vs) in values:  # set on the composed config, as Hydra applies an override
                for v, t in zip(vs, tv, strict=True):
                    try:
                        OmegaConf.update(scratch, key.lstrip("+"), t, merge=True)
                    except Exception as err:
                        raise InputError(_one_line(err, plain + [f"{key}={v}"])) from None
                    typed[(key, v)] = OmegaConf.select(scratch, key.lstrip("+"))
                    obj = copy.deepcopy(plain_obj)
                    set_value(obj, key.lstrip("+"), typed[(key, v)])
                    _check_fields(obj, "")
                continue
            for v in vs:  # a config group's option: composed (or merged, when that is the same)
                one = _merge_option(plain_cfg, plain, key.lstrip("+"), v, dirs) if len(groups) == 1 else None
                cfg, obj = one if one is not None else compose_obj(plain + [f"{key}={v}"])
                _check_fields(obj, "")
                if len(groups) == 1:
                    bases[(f"{key}={v}",)] = obj
        # every run of the sweep (combinations of swept values, seeds aside): all the rules
        checked = [(k, vs) for k, vs in values if k.lstrip("+") != "seed"]
        n_runs = math.prod(len(vs) for _, vs in groups + checked)
        if n_runs > MAX_RUN_CHECKS:
            return
        for gcombo in itertools.product(*[[f"{k}={v}" for v in vs] for k, vs in groups]):
            base = bases.get(gcombo) or compose_obj(plain + list(gcombo))[1]
            for vcombo in itertools.product(*[[(k, v) for v in vs] for k, vs in checked]):
                obj = copy.deepcopy(base) if vcombo else base
                for k, v in vcombo:
                    set_value(obj, k.lstrip("+"), typed[(k, v)])
                try:
                    validate(obj)
                    check_input_files(obj)
                except InputError as err:
                    run = " ".join([*gcombo, *(f"{k}={v}" for k, v in vcombo)])
                    raise InputError(f"{err} (in the run {run})" if run else str(err)) from None


_READ_FILES: set[tuple[str, int, int]] = set()  # (real path, mtime, size) of the input files read without error


def check_input_files(cfg: Config) -> None:
    """A run's edge-list file, read by the model's own checks before Hydra makes a run directory.

    `sim.config.inputfiles.parse_edge_list` (what `read_edge_list` runs) reads the whole file, so a bad
    line is refused here, in one line, and not inside a run. A file is read once per version (real
    path, modification time, size): a sweep over seeds or parameters with one network reads it once.
    """
    if cfg.network.kind != "edgelist" or not cfg.network.path:
        return
    import os

    from sim.config.inputfiles import check_file, parse_edge_list

    st = check_file(cfg.network.path)  # exists, is a regular file, is not too large
    key = (os.path.realpath(cfg.network.path), st.st_mtime_ns, st.st_size)
    if key not in _READ_FILES:
        parse_edge_list(cfg.network.path)
        _READ_FILES.add(key)


def _merge_option(
    base: typing.Any, plain: list[str], group: str, option: str, dirs: list[Path]
) -> tuple[typing.Any, Config] | None:
    """A global group option merged into the composed config: what composing it gives, ~10x faster.

    Only for options without a defaults list, in package _global_, that set no key the command
    line also sets (Hydra applies command-line values last); None means: compose it.
    """
    from omegaconf import OmegaConf

    path = next((d / group / f"{option}.yaml" for d in dirs if (d / group / f"{option}.yaml").exists()), None)
    if path is None:
        return None
    text = path.read_text()
    if "@package _global_" not in text.split("\n", 1)[0]:
        return None
    try:
        opt = OmegaConf.create(text)
        keys = _dotted(OmegaConf.to_container(opt))
    except Exception:
        return None
    if "defaults" in keys or {o.split("=", 1)[0].lstrip("+~") for o in plain} & set(keys):
        return None
    try:
        cfg = OmegaConf.merge(base, opt)
        return cfg, typing.cast(Config, OmegaConf.to_object(cfg))
    except InputError:
        raise
    except Exception as err:
        raise InputError(_one_line(err, [f"+{group}={option} ({path})"])) from None


def _dotted(d: typing.Any, prefix: str = "") -> list[str]:
    if not isinstance(d, dict):
        return [prefix[:-1]]
    return [k for key, v in d.items() for k in _dotted(v, f"{prefix}{key}.")] if d else [prefix[:-1]]


def _one_line(err: Exception, overrides: list[str]) -> str:
    cause = err.__cause__ or err
    text = " ".join(str(cause).split())
    full_key = getattr(cause, "full_key", None)
    if full_key:
        given = next((o for o in overrides if o.split("=", 1)[0].lstrip("+") == full_key), full_key)
        return f"invalid config: {given}: {str(cause).splitlines()[0]}"
    return f"invalid config ({' '.join(overrides)}): {text}"
