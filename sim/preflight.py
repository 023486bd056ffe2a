"""Checks the command line before Hydra runs anything, so bad input costs one clear line.

Every override (and every value of a sweep) is checked: the key must exist in the schema or be a
config group, a group option must exist, and the composed config must pass `validate`. A sweep
with one bad value therefore fails before any run is launched.
"""

from __future__ import annotations

import dataclasses
import typing
from pathlib import Path

from sim.errors import ConfigError, InputError
from sim.params import Config

CONF_DIR = Path(__file__).resolve().parent.parent / "conf"
# Hydra's own flags that take a value in the next argument
_FLAGS_WITH_VALUE = {"--cfg", "-c", "--package", "-p", "--config-path", "-cp", "--config-name", "-cn",
                     "--config-dir", "-cd", "--experimental-rerun", "--shell-completion", "-sc"}


def register_schema() -> None:
    """Make the typed schema available to Hydra as the config `schema` (idempotent)."""
    from hydra.core.config_store import ConfigStore

    ConfigStore.instance().store(name="schema", node=Config)


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


def group_options(group: str) -> list[str]:
    folder = CONF_DIR / group
    return sorted(p.stem for p in folder.glob("*.yaml")) if folder.is_dir() else []


def _fields_at(path: list[str]) -> dict[str, typing.Any] | None:
    """Schema fields under a dotted path (None if the path is not a section)."""
    cls: typing.Any = Config
    for part in path:
        hints = typing.get_type_hints(cls)
        if part not in hints or not dataclasses.is_dataclass(hints[part]):
            return None
        cls = hints[part]
    return typing.get_type_hints(cls)


def check_key(key: str, value: str) -> None:
    parts = key.split(".")
    if len(parts) == 1 and (CONF_DIR / key).is_dir():
        options = group_options(key)
        if value not in options:
            raise ConfigError(key, value, "one of " + ", ".join(options))
        return
    fields = _fields_at(parts[:-1])
    if fields is None or parts[-1] not in fields:
        where = ".".join(parts[:-1]) or "top level"
        section = _fields_at(parts[:-1]) or _fields_at([])
        raise InputError(f"unknown config key: {key}={value!r}; allowed keys at {where}: "
                         + ", ".join(sorted(section)))


def preflight(argv: list[str]) -> None:
    """Raise InputError for the first bad override (or sweep value)."""
    from hydra import compose, initialize_config_dir
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from omegaconf import OmegaConf

    from sim.params import validate

    register_schema()
    overrides = overrides_of(argv)
    try:
        parsed = OverridesParser.create().parse_overrides(overrides)
    except Exception as err:  # Hydra's grammar error
        raise InputError(f"cannot parse the command line: {err}".splitlines()[0]) from None
    plain, sweeps = [], []
    for o in parsed:
        key = o.key_or_group
        if key.startswith("hydra") or o.is_delete():
            continue
        values = list(o.sweep_string_iterator()) if o.is_sweep_override() else [o.get_value_element_as_str()]
        for v in values:
            check_key(key.lstrip("+"), v)
        if o.is_sweep_override():
            sweeps.append((key, values))
        else:
            plain.append(o.input_line)
    variants = [plain] + [plain + [f"{k}={v}"] for k, vs in sweeps for v in vs]
    with initialize_config_dir(str(CONF_DIR), version_base="1.3"):
        for ov in variants:
            try:
                cfg = compose("config", overrides=ov)
            except Exception as err:
                raise InputError(_one_line(err, ov)) from None
            try:
                validate(OmegaConf.to_object(cfg))
            except InputError:
                raise
            except Exception as err:
                raise InputError(_one_line(err, ov)) from None


def _one_line(err: Exception, overrides: list[str]) -> str:
    cause = err.__cause__ or err
    text = " ".join(str(cause).split())
    full_key = getattr(cause, "full_key", None)
    if full_key:
        given = next((o for o in overrides if o.split("=", 1)[0].lstrip("+") == full_key), full_key)
        return f"invalid config: {given}: {str(cause).splitlines()[0]}"
    return f"invalid config ({' '.join(overrides)}): {text}"
