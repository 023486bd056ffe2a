"""Run the classic presets from Python, as the command line would, without writing outputs.

`preset_config("deffuant", "n_agents=500")` composes exactly the config `python -m sim
preset=deffuant n_agents=500` runs (Hydra overrides); `run_classic(cfg)` steps a model until it
converges or reaches `cfg.steps`. Used by the tests against the published results and by
experiments/classics.ipynb.
"""

from __future__ import annotations

import copy
import functools
from dataclasses import dataclass, field

import numpy as np

from sim.config.compose import compose, set_value
from sim.config.params import Config, validate


@functools.lru_cache(maxsize=64)
def _composed(name: str, overrides: tuple[str, ...]) -> Config:
    return compose([f"preset={name}", *overrides])


def preset_config(name: str, *overrides: str) -> Config:
    """The config of `python -m sim preset=NAME *overrides` (a fresh copy, free to modify)."""
    return copy.deepcopy(_composed(name, tuple(overrides)))


@dataclass
class ClassicRun:
    stance: np.ndarray  # final stances
    steps: int  # steps run
    converged: bool  # stopped because the preset could no longer change
    model: object  # the ResocializationModel (final state in model.state)
    history: list[np.ndarray] = field(default_factory=list)  # stances at step 0, 1, ... if asked


def run_classic(cfg: Config, *, history: bool = False) -> ClassicRun:
    """Step a model of `cfg` until it converges or has run `cfg.steps` steps."""
    from sim.model import ResocializationModel

    cfg = copy.deepcopy(cfg)
    cfg.mesa_agents = "never"
    model = ResocializationModel(cfg, collect=False)
    hist = [model.state.stance.copy()] if history else []
    steps = 0
    while steps < cfg.steps and not model.converged:
        model.step()
        steps += 1
        if history:
            hist.append(model.state.stance.copy())
    return ClassicRun(model.state.stance.copy(), steps, model.converged, model, hist)


def sweep(name: str, values: dict[str, list], seeds: range | list[int], *overrides: str, measure=None) -> list[dict]:
    """Run every combination of `values` (keys like "preset.d") and seeds; one row per run.

    `measure(run)` adds columns (default: the regime, cluster counts, steps and convergence).
    """
    import itertools

    from sim.metrics.regime import regime_summary

    keys = list(values)
    rows = []
    base = preset_config(name, *overrides)
    for combo in itertools.product(*(values[k] for k in keys)):
        for seed in seeds:
            cfg = copy.deepcopy(base)
            cfg.seed = int(seed)
            for key, val in zip(keys, combo, strict=True):
                set_value(cfg, key, val)
            run = run_classic(validate(cfg))
            row = {
                **dict(zip(keys, combo, strict=True)),
                "seed": int(seed),
                "steps": run.steps,
                "converged": run.converged,
                **regime_summary(run.stance, cfg.metrics),
            }
            if measure is not None:
                row.update(measure(run))
            rows.append(row)
    return rows
