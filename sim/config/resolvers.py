"""OmegaConf resolvers the config files use for arithmetic, so a derived value stays visible as a formula.

`${sim.half:${docking.U}}` (conf/docking/jager_amblard.yaml) is U / 2: a distance on Jager and Amblard's
attitude scale [-1, 1] as a distance on the stance scale [0, 1]. The saved `.hydra/config.yaml` keeps
the formula and the run's typed config (`_complete.json`, `python -m sim --cfg job --resolve`) the
value the model uses. Registered by `sim.config.compose.register_schema`, before any composition.
"""

from __future__ import annotations

from omegaconf import OmegaConf


def half(value: float) -> float:
    """Half the value: a distance on [-1, 1] as the same distance on [0, 1]."""
    return float(value) / 2.0


def register_resolvers() -> None:
    """Register the arithmetic resolvers (idempotent)."""
    if not OmegaConf.has_resolver("sim.half"):
        OmegaConf.register_new_resolver("sim.half", half)
