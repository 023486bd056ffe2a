"""Configs for tests: composed as the command line composes them, and the quiet config."""

from __future__ import annotations

from sim.config.compose import compose_config
from sim.config.params import Config


def compose(overrides: list[str] | tuple[str, ...] = ()) -> Config:
    """The config of `python -m sim OVERRIDES`."""
    return compose_config(list(overrides))
