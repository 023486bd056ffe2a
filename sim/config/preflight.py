"""Checks the command line before Hydra runs anything, so bad input costs one clear line.

Every override (and every value of a sweep) is checked: the key must exist in the schema or be a
config group, a group option must exist, the value must have the key's type (else the message says
what the key allows: `n_agents=abc; allowed: an integer >= 2`), and the composed config must pass
`validate`; for a sweep, every value on its own and then every run (combination of swept values). A
sweep with one bad run therefore fails before any run is launched. What Hydra would refuse later
with a traceback is refused here too (several values without -m, a sweep of Hydra's own keys, an
override it cannot parse). Each run must fit in the memory available (`check_memory`: an estimate
fitted to measured runs, before anything is allocated); an edge-list run's file is read
(`check_input_files`), and as the run takes n_agents and n_groups from it, giving them is refused
(`check_from_file`). `hydra/launcher=NAME` must
name a launcher whose plugin is installed (the message lists the available ones, or says what to
install). With -m, the sweeps a config declares in `hydra.sweeper.params` (an experiment's,
conf/experiment/NAME.yaml) are checked as if typed on the command line (where a key typed on the
command line wins, as in Hydra's sweeper).
"""

from __future__ import annotations

import dataclasses
import functools
import math
import re
import typing
from collections.abc import Iterator
from pathlib import Path

from sim.config.compose import (
    CONF_DIR,
    compose_dict,
    composing,
    config_of,
    get_value,
    register_schema,
    set_value,
)
from sim.config.errors import ConfigError, InputError, Typed
from sim.config.params import (
    ER_PRESETS,
    PROFESSIONS,
    Config,
    allowed_values,
    check_network,
    nullable,
    pair_counts,
    sbm_probabilities,
    small_world_k,
)

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
    return bool(key) and "." not in key and any((d / key).is_dir() for d in (dirs or [CONF_DIR]))


def _leaf(key: str) -> tuple[typing.Any, bool, typing.Mapping[str, typing.Any]] | None:
    """A leaf key's type, whether it may be null, and its range or choices; None for a section or no such key."""
    found = schema_field(key)
    if found is None:
        return None
    kind, optional = nullable(found[0])
    if dataclasses.is_dataclass(kind):
        return None
    return kind, optional, found[1]


def _fields_at(path: list[str]) -> dict[str, typing.Any] | None:
    """Schema fields under a dotted path (None if the path is not a section)."""
    cls: typing.Any = Config
    for part in path:
        hints = typing.get_type_hints(cls)
        if part not in hints or not dataclasses.is_dataclass(hints[part]):
            return None
        cls = hints[part]
    return typing.get_type_hints(cls)


@functools.lru_cache(maxsize=1024)
def schema_field(key: str) -> tuple[typing.Any, typing.Mapping[str, typing.Any]] | None:
    """The type and metadata (range, choices) of a dotted schema key; None if the schema has no such key.

    A section (`network`, `professions.social_work.literacy`) has its dataclass as its type.
    """
    *path, last = key.split(".")
    fields = _fields_at(path)
    if fields is None or last not in fields:
        return None
    cls: typing.Any = Config
    for part in path:
        cls = typing.get_type_hints(cls)[part]
    meta = next(f.metadata for f in dataclasses.fields(cls) if f.name == last)
    return fields[last], meta


def _unknown_key(key: str, value: object, within: str | None = None) -> InputError:
    """An unknown key, with the keys of the deepest section its path reaches.

    `within`: the override that brought the key (a dict given to a section, `metrics={foo: 1}`).
    """
    if not key:
        return InputError(f"unknown config key: ={value!r}; a key goes before '='")
    parts = key.split(".")
    depth, fields = 0, typing.cast(dict[str, typing.Any], _fields_at([]))
    while depth < len(parts) - 1 and (sub := _fields_at(parts[: depth + 1])) is not None:
        depth, fields = depth + 1, sub
    where = ".".join(parts[:depth]) or "top level"
    given = f"{key} (in {within})" if within is not None else f"{key}={value!r}"
    if parts[depth] in fields:  # a value, given keys as if it were a section (n_agents.x=1)
        return InputError(f"unknown config key: {given}; {'.'.join(parts[: depth + 1])} is a value, no section")
    return InputError(f"unknown config key: {given}; allowed keys at {where}: " + ", ".join(sorted(fields)))


@functools.lru_cache(maxsize=1)
def _parser() -> typing.Any:
    from hydra.core.override_parser.overrides_parser import OverridesParser

    return OverridesParser.create()


#: an integer as Hydra's override grammar reads one (its lexer's INT: no leading zero, `_` between digits)
_HYDRA_INT = re.compile(r"[+-]?(?:0|[1-9](?:_?[0-9])*)")


def _typed(key: str, value: str) -> typing.Any:
    """A value as Hydra reads it from the command line (`1e3` a float, `'5'` a string, `null` None).

    An integer is read without the parser (each parse takes about half a millisecond: a sweep of ten
    thousand seeds checks ten thousand values).
    """
    if _HYDRA_INT.fullmatch(value):
        return int(value)
    try:
        return _parser().parse_override(f"{key}={value}").value()
    except Exception:
        return value


def check_key(key: str, value: str, dirs: list[Path] | None = None, *, typed_as: str | None = None) -> None:
    """The key exists (a config group's option exists) and the value, as typed, has the key's type.

    A value of the wrong type is refused as Hydra would refuse it (OmegaConf's own conversion: `'5'`
    is an integer, `1.5` or `1e3` are not), with what the key allows; an infinite or NaN number too
    (`1e400` reads as inf). Ranges and the rules between keys are `validate`'s. `typed_as`: the value
    as the command line spells it, for the message (`1e400` where Hydra's string of it is `inf`).
    """
    if _is_group(key, dirs):
        options = group_options(key, dirs)
        if value not in options:
            shown = options if len(options) <= 12 else [*options[:5], "...", *options[-5:]]
            raise ConfigError(key, value, "one of " + ", ".join(shown))
        return
    found = schema_field(key)
    if found is None:
        raise _unknown_key(key, value)
    kind, meta = found
    kind, can_be_null = nullable(kind)
    if can_be_null and _typed(key, value if typed_as is None else typed_as) is None:
        return  # null: the key is derived (network.p_in, network.p_out, network.k)
    if kind is bool:
        if value.strip().lower() not in ("true", "false"):
            raise ConfigError(key, value, "true or false")  # OmegaConf would read 2 or 'yes' as true
        return
    text = value if typed_as is None else typed_as
    typed = _typed(key, text)
    if dataclasses.is_dataclass(kind):  # a section takes a dict of its keys ({k: 4}), merged by Hydra
        if not isinstance(typed, dict):
            keys = " or ".join(f"{key}.{f.name}=..." for f in dataclasses.fields(kind))
            raise ConfigError(key, Typed(text), f"a value for each key of the section: {keys}")
        return
    from omegaconf.nodes import FloatNode, IntegerNode, StringNode

    node: typing.Any = {int: IntegerNode, float: FloatNode, str: StringNode}.get(kind)
    try:
        converted = node(value=typed, is_optional=False) if node is not None else typed
    except Exception:  # OmegaConf's ValidationError: the value Hydra would refuse
        raise ConfigError(key, Typed(text), allowed_values(kind, meta)) from None
    number = converted._value() if node is not None else None
    if isinstance(number, float) and not math.isfinite(number):
        raise ConfigError(key, Typed(text), allowed_values(kind, meta))


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


def flag_values(argv: list[str], names: tuple[str, ...]) -> list[tuple[str, str]]:
    """(flag, value) for each of Hydra's flags `names` on the command line: `--config-dir DIR` or `--config-dir=DIR`."""
    out = []
    for i, arg in enumerate(argv):
        name, eq, value = arg.partition("=")
        if name in names:
            if eq:
                out.append((name, value))
            elif i + 1 < len(argv):
                out.append((name, argv[i + 1]))
    return out


def check_config_options(argv: list[str]) -> None:
    """Hydra's options that choose the config: a directory that exists, a config file that exists; one line each.

    Hydra printed a traceback for each (a missing --config-dir, --config-path or --config-name). A relative
    --config-path is refused too: `python -m sim` makes Hydra read it as a Python package, not a directory.
    """
    for flag, value in flag_values(argv, ("--config-dir", "-cd", "--config-path", "-cp")):
        path = Path(value).expanduser()
        if flag in ("--config-path", "-cp") and not path.is_absolute():
            raise InputError(
                f"invalid option: {flag} {value}; allowed: an absolute path to a directory of config files "
                f"(Hydra reads a relative one as a Python package with python -m sim): {flag} {path.resolve()}"
            )
        if not path.is_dir():
            why = "not a directory" if path.exists() else "no such directory"
            raise InputError(f"invalid option: {flag} {value}; allowed: an existing directory of config files ({why})")
    names = flag_values(argv, ("--config-name", "-cn"))
    if names:
        flag, value = names[-1]
        primary, stem = primary_config(argv)
        where = [primary or CONF_DIR] + [Path(v).expanduser() for _, v in flag_values(argv, ("--config-dir", "-cd"))]
        if not any((d / f"{stem}.yaml").is_file() for d in where):
            found = sorted({f.stem for d in where for f in d.glob("*.yaml")})
            raise InputError(
                f"invalid option: {flag} {value}; allowed: the name of a config file in "
                f"{', '.join(str(d) for d in where)}: {', '.join(found) or 'none there'}"
            )


def primary_config(argv: list[str]) -> tuple[Path | None, str]:
    """The primary config the command line chooses: --config-path (None: conf/) and --config-name ("config")."""
    paths = flag_values(argv, ("--config-path", "-cp"))
    names = flag_values(argv, ("--config-name", "-cn"))
    return (
        Path(paths[-1][1]).expanduser() if paths else None,
        names[-1][1].removesuffix(".yaml") if names else "config",
    )


def config_dirs(argv: list[str], parsed: list[typing.Any]) -> list[Path]:
    """The config directories: the primary one (conf/, or --config-path) and those the command line adds.

    Added by --config-dir (either form) and hydra.searchpath=[file://...].
    """
    dirs = [primary_config(argv)[0] or CONF_DIR]
    for _, value in flag_values(argv, ("--config-dir", "-cd")):
        dirs.append(Path(value).expanduser().resolve())
    for o in parsed:
        if o.key_or_group.lstrip("+") == "hydra.searchpath":
            for entry in o.value() or []:
                if str(entry).startswith("file://"):
                    dirs.append(Path(str(entry)[len("file://") :]).resolve())
    return dirs


MAX_RUN_CHECKS = 100_000  # combinations of swept values checked one by one (seeds aside)
#: runs one command may sweep: Hydra's basic sweeper lists every run (its overrides) before the first starts
MAX_SWEEP_RUNS = 1_000_000


def _sweep_size(o: typing.Any, dirs: list[Path], other_sweeper: bool) -> int:
    """How many values a sweep override takes, counted without listing them (`seed=range(10**11)` is a count).

    An InputError, in one line, for what Hydra's basic sweeper cannot run (it raised a traceback, or hung
    listing the values): an interval (an optimizing sweeper's; counted as 1 with another sweeper), a range
    whose step is 0, a sweep inside a list of values (`seed=choice(1,2),3`).
    """
    from hydra.core.override_parser.types import ChoiceSweep, RangeSweep, Sweep, ValueType

    name = o.key_or_group.lstrip("+")
    if o.value_type == ValueType.INTERVAL_SWEEP:
        if other_sweeper:
            return 1
        raise InputError(
            f"invalid config: {o.input_line}; allowed: a list or a range of values to sweep ({name}=a,b or "
            f"{name}=range(start,stop,step)): an interval is for an optimizing sweeper (hydra/sweeper=...), "
            "Hydra's basic sweeper runs lists and ranges"
        )
    value = o.value()
    if isinstance(value, RangeSweep):
        start, stop, step = value.start, value.stop, value.step
        if not step:
            raise InputError(f"invalid config: {o.input_line}; allowed: a range whose step is not 0")
        if start is None or stop is None:  # not from the grammar's range(): counted by listing
            return len(values_of(o, dirs))
        if isinstance(start, int) and isinstance(stop, int) and isinstance(step, int):
            return len(range(start, stop, step))
        return max(0, math.ceil((stop - start) / step))
    if isinstance(value, ChoiceSweep):
        if any(isinstance(x, Sweep) for x in value.list):
            raise InputError(
                f"invalid config: {o.input_line}; allowed: values, not a sweep, in a list of values to sweep "
                f"(one sweep per key: {name}=1,2,3 or {name}=range(1,4))"
            )
        return len(value.list)
    return len(values_of(o, dirs))  # a glob over a group's options


def preflight(argv: list[str], *, composed: dict[tuple[str, ...], Config] | None = None) -> None:
    """Raise InputError for the first bad override, sweep value or run of a sweep.

    1. every key exists (a config group's option exists; `hydra/launcher=NAME` names a launcher
       whose plugin is installed); 2. each value composes (types) and passes its own range check;
    3. every run of a sweep (each combination of swept values; seeds, which no rule ties to another
    key, aside) passes `validate`, so the rules that tie keys together are checked on real runs.

    `composed`: for a single run, the validated Config the checks composed is put there under the
    overrides it was composed from (Hydra's own keys and deletions are not among them), so that
    `sim.config.compose.compose` need not compose the same overrides a second time.
    """
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.core.override_parser.types import ValueType

    register_schema()
    check_config_options(argv)
    overrides = overrides_of(argv)
    parser = OverridesParser.create()
    for override in overrides:  # Hydra's grammar, one override at a time: the message names the one at fault
        try:
            parser.parse_override(override)
        except Exception as err:
            raise InputError(f"cannot parse {override!r}: {err}".splitlines()[0]) from None
    parsed = parser.parse_overrides(overrides)
    dirs = config_dirs(argv, parsed)
    primary = primary_config(argv)  # checked against the config Hydra will compose
    multirun = "-m" in argv or "--multirun" in argv
    for o in parsed:  # what Hydra itself refuses after the checks below, with a traceback
        if o.is_sweep_override() and not multirun:
            raise ConfigError(
                o.key_or_group.lstrip("+~"),
                Typed((o.input_line or "").split("=", 1)[-1]),
                "one value without -m (a sweep needs -m; a list is [a,b], a text with commas is quoted: 'a,b')",
            )
        if o.is_sweep_override() and o.is_hydra_override():
            raise InputError(f"{o.input_line}: Hydra's own keys (hydra.*, hydra/*) cannot be swept")
    if multirun:  # sweeps a config declares (an experiment's), checked alike
        parsed = config_sweeps(parsed, dirs, primary) + parsed
    _check_sweep_dir(parsed)
    # the basic sweeper (Hydra's default: this project configures no other) enumerates lists and ranges only
    other_sweeper = any(
        o.key_or_group.lstrip("+") == "hydra/sweeper" and o.get_value_element_as_str() != "basic"
        for o in parsed
        if not o.is_delete()
    )
    runs = math.prod(
        _sweep_size(o, dirs, other_sweeper)
        for o in parsed
        if o.is_sweep_override() and not o.key_or_group.lstrip("+~").startswith("hydra")
    )
    if runs > MAX_SWEEP_RUNS:
        swept = " x ".join(str(o.input_line) for o in parsed if o.is_sweep_override())
        raise InputError(
            f"a sweep of {runs:,} runs ({swept}); allowed: at most {MAX_SWEEP_RUNS:,} runs per command (Hydra "
            "lists every run before the first starts): split it over several commands, e.g. by seed ranges"
        )
    plain, sweeps, hydra_args = [], [], []
    for o in parsed:
        key = o.key_or_group
        if key.lstrip("+").startswith("hydra/") and not o.is_delete():
            values = values_of(o)
            for v in values:
                check_hydra_group(key.lstrip("+")[len("hydra/") :], v)
            continue
        if o.is_delete() and not key.startswith("hydra"):
            raise _deletion(key, dirs)
        if key.lstrip("+").startswith("hydra") or o.is_delete():
            continue
        if o.value_type == ValueType.INTERVAL_SWEEP:  # another sweeper's (`_sweep_size`): it draws the values
            continue
        values = values_of(o, dirs)
        if not values:
            raise InputError(f"empty sweep: {o.input_line} has no value")
        twice = _repeated(values)
        if twice is not None:  # the two runs would share one directory (it is named by the overrides)
            raise InputError(
                f"invalid config: {o.input_line}; allowed: each value once (the sweep would run "
                f"{key.lstrip('+')}={twice} twice, into one run directory)"
            )
        as_typed = None if o.is_sweep_override() else (o.input_line or "").split("=", 1)[-1]
        for v in values:
            check_key(key.lstrip("+"), v, dirs, typed_as=as_typed)
        if o.is_sweep_override():  # with its +, ++ prefix; typed values for keys (not groups)
            typed = values if _is_group(key.lstrip("+"), dirs) else list(o.sweep_iterator())
            sweeps.append((o.get_key_element(), values, typed))
        else:
            plain.append(o.input_line)
    hydra_args += _searchpath(dirs)  # --config-dir and hydra.searchpath, for the compose API
    _check_configs(hydra_args, typing.cast(list[str], plain), sweeps, dirs, composed, primary)
    _check_hydra_keys(parsed, dirs, primary)


#: Hydra's own keys left to Hydra: paths (the output directories are checked by `python -m sim` itself) and
#: the search path (read by `config_dirs`)
_HYDRA_FREE = ("hydra.run.dir", "hydra.sweep.dir", "hydra.sweep.subdir", "hydra.searchpath", "hydra.job.name")
_N_JOBS = "hydra.launcher.n_jobs"
_N_JOBS_ALLOWED = "a whole number of runs at a time >= 1, or a negative count from the cores (-1: one per core)"


def _check_hydra_keys(parsed: list[typing.Any], dirs: list[Path], primary: tuple[Path | None, str]) -> None:
    """Hydra's own keys the command line sets (`hydra.launcher.n_jobs=4`, `hydra.job.chdir=...`): one line each.

    Hydra printed a traceback for a value of the wrong type or an unknown key, and the launcher or the
    sweeper failed on a count it cannot use (`n_jobs=0`, `timeout=-1`, `max_batch_size=0`). The keys are
    composed with Hydra's config as Hydra will compose them; `hydra.launcher.n_jobs` alone on the joblib
    launcher (a sweep's usual setting) is checked without composing (a tenth of a second at every sweep).
    """
    from omegaconf import OmegaConf

    keys = [
        o
        for o in parsed
        if o.key_or_group.lstrip("+").startswith("hydra.")
        and not o.is_delete()
        and o.key_or_group.lstrip("+") not in _HYDRA_FREE
    ]
    if not keys:
        return
    launchers = [o.get_value_element_as_str() for o in parsed if o.key_or_group.lstrip("+") == "hydra/launcher"]
    if all(o.key_or_group.lstrip("+") == _N_JOBS for o in keys) and launchers[-1:] in ([], ["joblib"]):
        for o in keys:
            value = _typed(_N_JOBS, o.get_value_element_as_str())
            if isinstance(value, bool) or not isinstance(value, int) or value == 0:
                raise ConfigError(_N_JOBS, Typed(o.get_value_element_as_str()), _N_JOBS_ALLOWED)
        return
    try:
        cfg = _with_hydra_config(parsed, dirs, primary)
    except Exception as err:
        cause = err.__cause__ or err
        full_key = str(getattr(cause, "full_key", "") or "")
        at = next((o.input_line for o in keys if o.key_or_group.lstrip("+") == full_key), None)
        shown = at or " ".join(str(o.input_line) for o in keys)
        raise InputError(f"invalid config: {shown}: {(str(cause).strip().splitlines() or [''])[0]}") from None
    n_jobs = OmegaConf.select(cfg, _N_JOBS, default=None)
    if isinstance(n_jobs, int) and not isinstance(n_jobs, bool) and n_jobs == 0:
        raise ConfigError(_N_JOBS, n_jobs, _N_JOBS_ALLOWED)
    timeout = OmegaConf.select(cfg, "hydra.launcher.timeout", default=None)
    if timeout is not None and not (isinstance(timeout, int | float) and timeout > 0 and math.isfinite(timeout)):
        raise ConfigError("hydra.launcher.timeout", timeout, "null (no limit) or a number of seconds > 0")
    batch = OmegaConf.select(cfg, "hydra.sweeper.max_batch_size", default=None)
    if batch is not None and not (isinstance(batch, int) and not isinstance(batch, bool) and batch >= 1):
        raise ConfigError("hydra.sweeper.max_batch_size", batch, "null (every run at once) or a whole number >= 1")


def _repeated(values: list[str]) -> str | None:
    """The first value a sweep lists a second time, or None."""
    seen: set[str] = set()
    for v in values:
        if v in seen:
            return v
        seen.add(v)
    return None


def _deletion(key: str, dirs: list[Path]) -> InputError:
    """The one line for `~KEY` (Hydra's deletion) of the model's config: no run can do without a key or a group.

    Hydra would either fail with a traceback (a key of a section: the schema allows no deletion; a key
    that does not exist) or run with the schema's default in its place (a top-level key, a config
    group), which is not what deleting says (`~seed` would run seed 0, not a random seed).
    """
    if _is_group(key, dirs):
        options = ", ".join(group_options(key, dirs))
        return InputError(
            f"invalid config: ~{key}; allowed: no deletion of a config group (every run has a {key}: "
            f"choose one with {key}=NAME, NAME one of {options})"
        )
    if schema_field(key) is None:
        return _unknown_key(key, None, within=f"~{key}")
    return InputError(
        f"invalid config: ~{key}; allowed: no deletion of a config key (every run has every key: "
        f"give it a value with {key}=VALUE)"
    )


def _searchpath(dirs: list[Path]) -> list[str]:
    """The config directories after the primary one as Hydra's search path override (none: an empty list)."""
    return ["hydra.searchpath=[" + ",".join(f"file://{d}" for d in dirs[1:]) + "]"] if len(dirs) > 1 else []


def _with_hydra_config(parsed: list[typing.Any], dirs: list[Path], primary: tuple[Path | None, str]) -> typing.Any:
    """The command line's config with Hydra's own node, as Hydra composes it (its sweeps aside); may raise."""
    given = [
        o.input_line for o in parsed if not o.is_sweep_override() and o.key_or_group.lstrip("+") != "hydra.searchpath"
    ]
    return compose_dict(
        given + _searchpath(dirs), return_hydra_config=True, config_dir=primary[0], config_name=primary[1]
    )


def config_sweeps(
    parsed: list[typing.Any], dirs: list[Path], primary: tuple[Path | None, str] = (None, "config")
) -> list[typing.Any]:
    """The sweeps the composed config declares in `hydra.sweeper.params` (e.g. conf/experiment/NAME.yaml).

    As Hydra's basic sweeper does, a key also given on the command line takes the command line's
    value, so only the others are returned (parsed like command-line overrides). A config that does
    not compose returns none here: the checks of the command line then report why.
    """
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from omegaconf import OmegaConf

    try:
        cfg = _with_hydra_config(parsed, dirs, primary)
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
    hydra_args: list[str],
    plain: list[str],
    sweeps: list[tuple[str, list[str], list]],
    dirs: list[Path],
    composed: dict[tuple[str, ...], Config] | None = None,
    primary: tuple[Path | None, str] = (None, "config"),
) -> None:
    import copy
    import itertools
    import math

    from omegaconf import OmegaConf

    from sim.config.params import _check_fields, check_leaf, mark_composed, validate

    def compose_obj(ov: list[str]) -> tuple[typing.Any, Config]:
        try:
            cfg = compose_dict(hydra_args + ov, config_dir=primary[0], config_name=primary[1])
        except Exception as err:
            raise InputError(_one_line(err, ov)) from None
        try:
            return cfg, config_of(cfg)
        except InputError:
            raise
        except Exception as err:
            raise InputError(_one_line(err, ov)) from None

    groups = [(k, vs) for k, vs, _ in sweeps if _is_group(k.lstrip("+"), dirs)]
    values = [(k, vs) for k, vs, _ in sweeps if not _is_group(k.lstrip("+"), dirs)]
    given = {o.split("=", 1)[0].lstrip("+~") for o in plain} | {k.lstrip("+") for k, _, _ in sweeps}
    available = available_bytes()

    def check_run(obj: Config) -> None:  # the rules of one run beyond `validate`'s and the input files'
        check_from_file(obj, given)
        check_network_keys(obj, given)
        check_memory(obj, available)

    with composing(primary[0]):  # one Hydra set-up for every composition below
        plain_cfg, plain_obj = compose_obj(plain)
        if not sweeps:
            validate(plain_obj)
            check_input_files(plain_obj)
            check_run(plain_obj)
            if composed is not None and not hydra_args and primary == (None, "config"):
                composed[tuple(plain)] = plain_obj
            return
        # each swept value on its own: has its type, and passes its own range (no rule between keys
        # here: the other keys keep their defaults in this variant, which is not a run of the sweep)
        typed: dict[tuple[str, str], typing.Any] = {}
        bases: dict[tuple[str, ...], Config] = {}
        scratch = copy.deepcopy(plain_cfg)
        for key, vs, tv in sweeps:
            if (key, vs) in values:  # set on the composed config, as Hydra applies an override
                leaf = _leaf(key.lstrip("+"))
                for v, t in zip(vs, tv, strict=True):
                    try:
                        OmegaConf.update(scratch, key.lstrip("+"), t, merge=True)
                    except Exception as err:
                        raise InputError(_one_line(err, plain + [f"{key}={v}"])) from None
                    typed[(key, v)] = OmegaConf.select(scratch, key.lstrip("+"))
                    if leaf is not None:  # the rest of the config is checked: this value alone, as _check_fields does
                        check_leaf(key.lstrip("+"), typed[(key, v)], *leaf)
                        continue
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
        if not groups:  # a sweep of values only: every run's base is the plain config, composed above
            bases[()] = plain_obj
        for gcombo in itertools.product(*[[f"{k}={v}" for v in vs] for k, vs in groups]):
            base = bases.get(gcombo) or compose_obj(plain + list(gcombo))[1]
            for vcombo in itertools.product(*[[(k, v) for v in vs] for k, vs in checked]):
                obj = copy.deepcopy(base) if vcombo else base
                for k, v in vcombo:
                    set_value(obj, k.lstrip("+"), typed[(k, v)])
                if vcombo:
                    mark_composed(obj)  # the values set as Hydra sets them: this run's composed config
                try:
                    validate(obj)
                    check_input_files(obj)
                    check_run(obj)
                except InputError as err:
                    run = " ".join([*gcombo, *(f"{k}={v}" for k, v in vcombo)])
                    raise InputError(f"{err} (in the run {run})" if run else str(err)) from None


_READ_FILES: set[tuple] = set()  # (options, then path, mtime, size of each file) of networks read without error


def check_input_files(cfg: Config) -> None:
    """A run's network file (and node table), read by the model's own reader before Hydra makes a run directory.

    `sim.config.networkfiles.read_network` (what the model runs) reads the whole file in its format, so a
    bad line or node is refused here, in one line, and not inside a run. A file is read once per version
    (real path, modification time, size, of the file and of its node table) and reading options: a sweep
    over seeds or parameters with one network reads it once.
    """
    if cfg.network.kind != "edgelist" or not cfg.network.path:
        return
    import os

    from sim.config.inputfiles import check_file
    from sim.config.networkfiles import read_network

    net = cfg.network
    key: tuple = (net.groups, net.group_attribute)
    for path in (net.path, net.nodes):
        if path:
            st = check_file(path)  # exists, is a regular file, is not too large
            key += (os.path.realpath(path), st.st_mtime_ns, st.st_size)
    if key not in _READ_FILES:
        read_network(net)
        _READ_FILES.add(key)


#: With network.kind=edgelist these come from the file: the number of agents and of groups in it.
FROM_FILE = ("n_agents", "n_groups")


def check_from_file(cfg: Config, given: set[str]) -> None:
    """An edge-list run takes its agents and groups from the file: a size given on the command line is refused.

    (It would be ignored, yet recorded in the run's config and overrides as if it had been used.)
    """
    if cfg.network.kind != "edgelist":
        return
    for key in FROM_FILE:
        if key in given:
            raise ConfigError(
                key,
                getattr(cfg, key),
                "no value with network.kind=edgelist (the agents and groups are those of the file network.path)",
            )


#: How a generated network's density is set: by degree (p_in, p_out or k derived where null) or directly
BY_DEGREE = ("network.mean_degree", "network.in_group_share")
DIRECT = {"sbm": ("network.p_in", "network.p_out"), "small_world": ("network.k",)}


def check_network_keys(cfg: Config, given: set[str]) -> None:
    """A network set two ways at once, or by a key that has no effect on its kind, is refused.

    `network.mean_degree` and `network.in_group_share` (p_in and p_out derived) and `network.p_in` and
    `network.p_out` are two ways to set the SBM; `network.mean_degree` and `network.k` two ways to set the
    small world. Given on the command line together, or a degree key given while the probabilities (or k)
    are set, one of them would be ignored, yet recorded in the run's config as if it had been used.
    """
    net = cfg.network
    by_degree = [k for k in BY_DEGREE if k in given]
    if not by_degree:
        return
    check_network(cfg, degree_given=True)  # asked for more than the population allows: refused, not capped
    key = by_degree[0]
    value = get_value(cfg, key)
    if net.kind not in DIRECT or (net.kind == "small_world" and key == "network.in_group_share"):
        kinds = "sbm" if key == "network.in_group_share" else "sbm or small_world"
        raise ConfigError(key, value, f"no value with network.kind={net.kind} (it sets a network of kind {kinds})")
    direct = DIRECT[net.kind]
    typed = [k for k in direct if k in given and get_value(cfg, k) is not None]  # null: derived
    if typed:
        degree = " and ".join(BY_DEGREE if net.kind == "sbm" else BY_DEGREE[:1])
        raise ConfigError(
            typed[0],
            get_value(cfg, typed[0]),
            f"no value with {key} given: set the network either by {degree} ({' and '.join(direct)} derived) "
            f"or by {' and '.join(direct)}",
        )
    if all(get_value(cfg, k) is not None for k in direct):
        values = ", ".join(f"{k}={get_value(cfg, k)!r}" for k in direct)
        nulls = " ".join(f"{k}=null" for k in direct)
        raise ConfigError(
            key, value, f"no value while {values} are set (they win); give {nulls} to derive them from {key}"
        )


# Peak resident memory of one run, fitted to runs measured on a 2-core, 24 GB Linux machine (Python 3.12,
# numba's cache warm): `python -m sim ... output.figure=false output.progress=off`, peak RSS of the
# process by /usr/bin/time -v (MB = 10^6 bytes). With steps=2:
#
#   n_agents   n_groups  network                         ties  Mesa agents  peak RSS
#      1,000         10  sbm (default)                    5,736  yes            344 MB
#     10,000        100  sbm p_out=2e-4                  58,951  yes            362 MB
#     50,000        500  sbm p_out=4e-5                 295,318  yes            396 MB
#     50,000        500  sbm p_out=4e-5                 295,318  no             385 MB
#    100,000      1,000  sbm p_out=2e-5                 590,678  yes            444 MB
#    100,000      1,000  sbm p_out=2e-5                 590,678  no             419 MB
#    200,000    100,000  sbm p_out=2.5e-5               510,224  no             742 MB
#  1,000,000     10,000  sbm p_out=2e-6               5,917,007  no             898 MB
#  1,000,000     10,000  sbm p_in=0.5                25,704,962  no           2,347 MB
#  1,000,000    100,000  sbm p_in=0.5                 3,220,224  no           1,024 MB
#  1,000,000  1,000,000  sbm p_out=5e-6               2,503,024  no           3,655 MB
#  1,000,000  1,000,000  the same, by_group=false     2,503,024  no           1,208 MB
#  3,000,000     30,000  sbm p_out=7e-7              17,905,811  no           1,764 MB
#      5,000         10  complete                    12,497,280  yes            865 MB
#  1,000,000     10,000  small_world k=20             9,967,690  no           1,003 MB
#
# A least-squares fit of these (relative errors, every constant >= 0) gives the constants below and
# reproduces each run within 8% (complete and small_world have one run each: their tie cost is that
# run's). What grows with the steps, measured on 200 agents in 2 groups (snapshot_every=0): 2,000
# steps with every metric recorded every step 434 MB, without tie events 421 MB, recorded twice (every
# step's events only) 339 MB, 2 steps 341 MB; 400 agents in 200 groups without events, 2,000 steps
# 407 MB, 2 steps 354 MB; and 4,000 steps (2 groups, no events) grew by 114 MB, about 34 KB per
# recorded step until the recorder's first flush (500,000 rows), about 16 KB after. Most of it is the
# allocator's freed heap, kept for reuse (sim.run.runner._keep_freed_memory), not data. The estimate is
# for the run alone; an edge list's size is only known once its file is read, so edge-list runs are not
# estimated here.
MEM_BASE = 354e6  # the interpreter, numpy, numba's compiled step, pyarrow, Hydra, matplotlib
MEM_AGENT = 48.5  # per agent: the state, the draws, a step's temporaries, the agent snapshots
MEM_MESA_AGENT = 373.0  # per Mesa agent object (mesa_agents=always, or auto up to MESA_AGENTS_UP_TO agents)
MEM_TIE = {"sbm": 72.5, "complete": 40.7, "small_world": 57.0}  # per tie at slack 0.25 (builder included)
# An SBM of COMPILED_SBM_TIES expected ties or more is built by the builder's compiled form
# (sim.core.network), which holds no int64 copies of the tie list. Two runs measured as above (steps as
# given, metrics every 10 steps, output.snapshot_sample=0.01), peak RSS by the benchmark (MiB = 2^20 B):
#   10,000,000 agents, 10,000 groups, mean degree 20 (1.0e8 ties), 100 steps:   4,261 MiB
#   50,000,000 agents, 50,000 groups, mean degree 10 (2.5e8 ties),  10 steps:  14,798 MiB
# With the other constants unchanged, these are 35 and 51 B per tie; 55 keeps both runs under the
# estimate (by 42% and 7%), where 72.5 was 81% and 35% over them.
MEM_TIE_SBM_COMPILED = 55.0
#: sim.core.network.COMPILED_SBM_TIES (a test checks that they agree)
COMPILED_SBM_TIES = 1 << 21
MEM_SLOT = 12.0  # per tie and unit of network.slack beyond 0.25: two more slots of 6 bytes
MEM_GROUP = 624.0  # per group: group norms and in-group sums
MEM_GROUP_METRICS = 2577.0  # per group with metrics.by_group: one record's rows of every metric
MEM_RECORD = 24e3  # per recorded step (steps / metrics.every): the series kept for the figure and the summary
MEM_RECORD_TABLE = 7e3  # per recorded step and scope (all, group, profession) until the recorder flushes
MEM_EVENT_STEP = 5e3  # per step with output.events: a step's event table, held until 2^20 rows are pending
#: sim.model.model.AGENT_OBJECTS_UP_TO, len(sim.metrics.population.METRICS) and the rows after which
#: sim.run.recorder.MetricsRecorder flushes (tests/integration/test_preflight_rules.py checks they agree)
MESA_AGENTS_UP_TO = 100_000
N_METRICS = 44
RECORDER_FLUSH_ROWS = 500_000


def expected_ties(cfg: Config) -> float | None:
    """The expected number of ties of the generated network; None for an edge list (read from its file)."""
    n, kind = cfg.n_agents, cfg.network.kind
    if kind == "edgelist":
        return None
    if kind == "complete":
        return n * (n - 1) / 2
    if kind == "small_world":
        return n * small_world_k(cfg) / 2
    p_in, p_out = sbm_probabilities(cfg)  # as given, or derived from network.mean_degree
    if cfg.preset.name in ER_PRESETS and cfg.preset.k > 0:  # Erdos-Renyi G(N, k / (N - 1))
        p_in = p_out = cfg.preset.k / (n - 1)
    within, between = pair_counts(n, cfg.n_groups)  # group sizes as sim.core.network.group_sizes makes them
    return within * p_in + between * p_out


def estimate_bytes(cfg: Config) -> dict[str, float] | None:
    """The peak memory of one run by what it is for (bytes; None for an edge list), per the fit above."""
    ties = expected_ties(cfg)
    if ties is None:
        return None
    n, g, m = cfg.n_agents, cfg.n_groups, cfg.metrics
    mesa = cfg.mesa_agents == "always" or (cfg.mesa_agents == "auto" and n <= MESA_AGENTS_UP_TO)
    records = cfg.steps // m.every + 2  # the first, every k-th and the last
    rows = N_METRICS * (1 + (g if m.by_group else 0) + (len(PROFESSIONS) if m.by_profession else 0))
    held = min(records, -(-RECORDER_FLUSH_ROWS // rows))  # recorded steps held before a flush
    scopes = 1 + m.by_group + m.by_profession
    events = cfg.steps if cfg.output.events else 0
    return {
        "base": MEM_BASE,
        "agents": n * (MEM_AGENT + (MEM_MESA_AGENT if mesa else 0.0)),
        "ties": ties * (_tie_bytes(cfg, ties) + MEM_SLOT * (cfg.network.slack - 0.25)),
        "groups": g * (MEM_GROUP + (MEM_GROUP_METRICS if cfg.metrics.by_group else 0.0)),
        "steps": records * MEM_RECORD + held * scopes * MEM_RECORD_TABLE + events * MEM_EVENT_STEP,
    }


def _tie_bytes(cfg: Config, ties: float) -> float:
    """Peak bytes per tie at slack 0.25, by network kind and, for the SBM, by which form builds it."""
    if cfg.network.kind == "sbm" and ties >= COMPILED_SBM_TIES:
        return MEM_TIE_SBM_COMPILED
    return MEM_TIE[cfg.network.kind]


def _read_kib(path: str, field: str) -> float | None:
    """A `field: N kB` line of a /proc file, in bytes; None if the system has no such file."""
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith(field + ":"):
                return float(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def cgroup_dirs(controller: str, v1_mounts: tuple[str, ...]) -> Iterator[tuple[Path, bool]]:
    """The directories of this process's cgroups with `controller`'s files, each with whether it is cgroup v2.

    From /proc/self/cgroup: the unified hierarchy (v2) under /sys/fs/cgroup, a v1 hierarchy under the
    first of `v1_mounts` (below /sys/fs/cgroup) that exists. Nothing where the system has no cgroups.
    """
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return
    for line in lines:
        _, controllers, path = (line.split(":", 2) + ["", ""])[:3]
        rel = path.lstrip("/")
        if controllers == "":
            yield Path("/sys/fs/cgroup") / rel, True
        elif controller in controllers.split(","):
            dirs = [Path("/sys/fs/cgroup") / mount / rel for mount in v1_mounts]
            yield next((d for d in dirs if d.exists()), dirs[0]), False


def _cgroup_room() -> float | None:
    """Memory this process's cgroup (a container, a Slurm job) still allows; None if it sets no limit."""
    for d, v2 in cgroup_dirs("memory", ("memory",)):
        files = ("memory.max", "memory.current") if v2 else ("memory.limit_in_bytes", "memory.usage_in_bytes")
        try:
            limit, used = ((d / name).read_text().strip() for name in files)
            if limit != "max" and int(limit) < 2**60:
                return float(int(limit) - int(used))
        except (OSError, ValueError):
            continue
    return None


def available_bytes() -> float | None:
    """Memory a run started from this process can use; None where the system does not say (not Linux).

    MemAvailable (/proc/meminfo), within what the process's cgroup still allows, plus what this process
    already holds (the run goes on in it).
    """
    free = [x for x in (_read_kib("/proc/meminfo", "MemAvailable"), _cgroup_room()) if x is not None]
    return min(free) + (_read_kib("/proc/self/status", "VmRSS") or 0.0) if free else None


def _count(x: float) -> str:
    return f"{x:,.0f}" if x < 1e9 else f"{x:.2g}"


def _size(b: float) -> str:
    return f"{b / 1e6:.0f} MB" if b < 1e9 else f"{b / 1e9:.1f} GB" if b < 1e10 else f"{b / 1e9:,.0f} GB"


def check_memory(cfg: Config, available: float | None) -> None:
    """Refuse a run whose estimated peak memory exceeds what is available, before anything is allocated.

    The key named is the one behind the largest part of the estimate (n_agents for the agents and the
    ties, n_groups for the groups, steps for what grows with the steps). Per run: a sweep's workers
    running at once each need as much.
    """
    parts = estimate_bytes(cfg)
    if parts is None or available is None:
        return
    need = sum(parts.values())
    if need <= available:
        return
    biggest = max(("agents", "ties", "groups", "steps"), key=lambda k: parts[k])
    key = {"agents": "n_agents", "ties": "n_agents", "groups": "n_groups", "steps": "steps"}[biggest]
    raise ConfigError(
        key,
        get_value(cfg, key),
        f"a run that fits in memory: this one needs about {_size(need)}, {_size(available)} available "
        f"({cfg.n_agents:,} agents, {cfg.n_groups:,} groups, about {_count(expected_ties(cfg) or 0)} ties "
        f"of network.kind={cfg.network.kind}, {cfg.steps:,} steps)",
    )


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
        return cfg, config_of(cfg)
    except InputError:
        raise
    except Exception as err:
        raise InputError(_one_line(err, [f"+{group}={option} ({path})"])) from None


def _dotted(d: typing.Any, prefix: str = "") -> list[str]:
    if not isinstance(d, dict):
        return [prefix[:-1]]
    return [k for key, v in d.items() for k in _dotted(v, f"{prefix}{key}.")] if d else [prefix[:-1]]


def _one_line(err: Exception, overrides: list[str]) -> str:
    return str(_input_error(err, overrides))


def _input_error(err: Exception, overrides: list[str]) -> InputError:
    """Hydra's or OmegaConf's error about a config as the project's one line: the key, the value, what is allowed.

    A value OmegaConf cannot convert (from a command line, a config file or an interpolation) names what
    its key allows; an unknown key (in a dict given to a section) the keys there are.
    """
    from omegaconf.errors import ConfigKeyError, ValidationError

    cause = err.__cause__ or err
    full_key = getattr(cause, "full_key", None)
    if not full_key:
        return InputError(f"invalid config ({' '.join(overrides)}): {' '.join(str(cause).split())}")
    given = next((o for o in overrides if o.split("=", 1)[0].lstrip("+~") == full_key), None)
    value = Typed(given.split("=", 1)[1]) if given and "=" in given else getattr(cause, "value", None)
    found = schema_field(full_key)
    if isinstance(cause, ConfigKeyError) and found is None:
        within = next((o for o in overrides if full_key.startswith(o.split("=", 1)[0].lstrip("+~") + ".")), None)
        return _unknown_key(full_key, value, within)
    if found is not None and isinstance(cause, ValidationError) and not dataclasses.is_dataclass(found[0]):
        return ConfigError(full_key, value, allowed_values(*found))
    return InputError(f"invalid config: {given or full_key}: {str(cause).splitlines()[0]}")
