"""Configs for tests: composed as the command line composes them."""

from __future__ import annotations

from sim.params import Config


def compose(overrides: list[str] | tuple[str, ...] = ()) -> Config:
    """The config of `python -m sim OVERRIDES`."""
    from sim.viz.controls import compose_config

    return compose_config(list(overrides))
