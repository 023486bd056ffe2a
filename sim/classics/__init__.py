"""The classic opinion-dynamics models as presets of the same model (docs/classics.md).

`preset=NAME` swaps the full model's step for the classic rule in `sim/classics/NAME.py`, which
works on the same `State` (stance array and ties), so a preset writes every output the full model
writes. Each rule comes twice: `step_reference` (plain Python, one elementary update at a time, to
be read next to the paper) and `step_compiled` (numba); given the same state and the same draws they
give the same next state, bit for bit (tests/unit/test_classics_equivalence.py).

Each rule module provides `draw(rng, state, cfg)`, `step_reference(state, cfg, draws)`,
`step_compiled(state, cfg, draws)` and `converged(state, cfg, stance_before_the_step)`.
"""

from __future__ import annotations

import copy
from types import ModuleType

import numpy as np

from sim.classics import deffuant, hegselmann_krause, holme_newman, jager_amblard, kozma_barrat
from sim.config.errors import ConfigError
from sim.config.params import Config
from sim.core.state import State

CLASSICS: dict[str, ModuleType] = {
    "deffuant": deffuant,
    "hegselmann_krause": hegselmann_krause,
    "jager_amblard": jager_amblard,
    "kozma_barrat": kozma_barrat,
    "holme_newman": holme_newman,
}
#: presets whose Erdos-Renyi network is set by preset.k
ER_PRESETS = ("kozma_barrat", "holme_newman")


def get(name: str) -> ModuleType | None:
    """The rule module of a classic preset; None for the full model."""
    return CLASSICS.get(name)


def step_function(name: str, implementation: str):
    """The preset's `step_compiled` or `step_reference`: the function named like the implementation."""
    return getattr(CLASSICS[name], f"step_{implementation}")


def prepare_config(cfg: Config) -> Config:
    """The config a classic preset runs with (a copy; the caller's is left alone).

    Kozma-Barrat and Holme-Newman with preset.k > 0 on the sbm network run on an Erdos-Renyi graph
    G(N, p), p = k / (N - 1): the SBM with p_in = p_out = p (one group in the presets).
    """
    out = copy.deepcopy(cfg)
    n, p = cfg.n_agents, cfg.preset
    if p.name == "jager_amblard" and p.T < p.U:
        raise ConfigError("preset.T", p.T, f">= preset.U ({p.U})")
    if p.name in ER_PRESETS and p.k > 0 and cfg.network.kind == "sbm":
        if p.k > n - 1:
            raise ConfigError("preset.k", p.k, f"<= n_agents - 1 ({n - 1})")
        out.network.p_in = out.network.p_out = p.k / (n - 1)
    return out


def prepare_state(state: State, cfg: Config) -> None:
    """Classic agents only hold an opinion: none is withdrawn or overloaded, all fully engaged.

    The initial stance comes from the config (the presets set Beta(1, 1), uniform on [0, 1]);
    Holme-Newman turns it into discrete opinions.
    """
    n = state.n_agents
    if cfg.preset.name == "holme_newman":
        holme_newman.check(cfg, n)
    state.engagement = np.ones(n)
    state.withdrawn = np.zeros(n, dtype=bool)
    state.overloaded = np.zeros(n, dtype=bool)
    state.load = np.zeros(n)
    state.identity = np.zeros(n)
    init = getattr(CLASSICS[cfg.preset.name], "init_state", None)
    if init is not None:
        init(state, cfg)
