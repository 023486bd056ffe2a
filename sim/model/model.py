"""The Mesa model: owns the config, the seeded generator, the state arrays and the step."""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
from typing import cast

import mesa
import numpy as np

from sim import classics
from sim.config.params import Config, validate
from sim.core.draws import DrawSource
from sim.core.initialize import initial_state
from sim.core.network import read_edge_list
from sim.core.report import StepReport
from sim.model.agents import Professional
from sim.step import STEPS
from sim.step.exposure import forum_reach, level
from sim.step.records import params

AGENT_OBJECTS_UP_TO = 100_000


class ResocializationModel(mesa.Model):
    """Professionals in networked groups under digital exposure (see docs/ODD.md).

    `model.rng` (seeded from `cfg.seed`) is the only source of randomness: the network,
    the traits and every step's draws come from it, in a fixed order.
    """

    def __init__(self, cfg: Config | None = None) -> None:
        cfg = validate(cfg if cfg is not None else Config())
        super().__init__(rng=cfg.seed)
        self.classic = classics.get(cfg.preset.name)  # a classic preset's rule module; None: the full model
        if self.classic is not None:
            cfg = classics.prepare_config(cfg)
        self.cfg = cfg
        el = read_edge_list(cfg.network.path) if cfg.network.kind == "edgelist" else None
        self.state = initial_state(cfg, self.rng, el)
        # the user's node and group ids (outputs only: they never enter the dynamics); None if generated
        self.labels = None if el is None else (el.node_labels, el.group_labels)
        if self.classic is not None:
            classics.prepare_state(self.state, cfg)
        self._before: np.ndarray | None = None  # stances before the last classic step
        self._converged: bool | None = None
        self.content_rng = self.rng.spawn(1)[0]  # the forum content stream (see sim.core.draws)
        self.draws = DrawSource(self.rng, self.state.n_agents, self.content_rng) if self.classic is None else None
        self.last_report: StepReport | None = None
        self.observers: list[Callable[[ResocializationModel], None]] = []
        self._step = (
            STEPS[cfg.implementation]
            if self.classic is None
            else classics.step_function(cfg.preset.name, cfg.implementation)
        )
        n = self.state.n_agents
        if cfg.mesa_agents == "always" or (cfg.mesa_agents == "auto" and n <= AGENT_OBJECTS_UP_TO):
            for row in range(n):
                Professional(self, row)

    @property
    def exposure(self) -> float:
        """E(t) of the step about to run."""
        return level(self.state.t + 1, self.cfg.exposure)

    def step(self) -> None:
        if self.classic is not None:
            self._step_classic()
            for observe in self.observers:
                observe(self)
            return
        # the config may change between steps (the app); with attention on, reach depends on engagement
        reach = forum_reach(self.exposure, params(self.cfg), self.state.engagement)
        draws = cast(DrawSource, self.draws).draw(self.cfg.messages, reach)  # full model: set
        self.last_report = self._step(self.state, self.cfg, draws)
        for observe in self.observers:
            observe(self)

    def _step_classic(self) -> None:
        """One step of a classic preset: its draws, its rule, then whether it can still change."""
        before = self.state.stance.copy()
        draws = cast(ModuleType, self.classic).draw(self.rng, self.state, self.cfg)
        self.last_report = self._step(self.state, self.cfg, draws)
        self._before, self._converged = before, None

    @property
    def converged(self) -> bool:
        """Whether a classic preset can no longer change (rules in docs/classics.md).

        Checked when asked, after the last step: the check is a pass over every tie, as long as the
        step itself for Deffuant on a sparse network, so runs that never ask do not pay it.
        """
        if self._before is None:
            return False
        if self._converged is None:
            self._converged = bool(cast(ModuleType, self.classic).converged(self.state, self.cfg, self._before))
        return self._converged
