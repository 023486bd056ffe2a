"""Mesa's DataCollector, reading the agents' columns from the state's arrays in one pass.

`mesa.DataCollector` collects an agent reporter by calling it on every agent object, one attribute at a
time (for 1,000 agents and seven reporters, 7,000 calls a step, more than the step itself). The
agents here are views on the rows of the model's state arrays (`sim.model.agents`), so the same
records can be built from the arrays at once: `StateDataCollector` overrides only how agent records
are gathered and writes exactly the records Mesa's own collection writes (`(time, unique_id,
*values)`, Python scalars, agents in the model's order; checked against `mesa.DataCollector` in
tests/unit/test_mesa_api.py), so every method of Mesa's DataCollector works unchanged.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

import mesa
import numpy as np

from sim.config.params import PROFESSIONS

if TYPE_CHECKING:
    from sim.model import ResocializationModel

_PROFESSIONS = np.array(PROFESSIONS, dtype=object)


def column(model: ResocializationModel, name: str) -> list[Any]:
    """One agent attribute of every agent, in row order, as Python scalars (as `agent.<name>` gives it)."""
    if name == "profession":
        return list(_PROFESSIONS[model.state.profession])
    return getattr(model.state, name).tolist()


class StateDataCollector(mesa.DataCollector):
    def __init__(self, model_reporters: Mapping[str, Callable[..., Any]], agent_columns: tuple[str, ...]) -> None:
        super().__init__(model_reporters=dict(model_reporters), agent_reporters={c: c for c in agent_columns})
        self.agent_columns = agent_columns

    def _record_agents(self, model: ResocializationModel) -> Iterator[tuple[Any, ...]]:
        ids = [agent.unique_id for agent in model.agents]  # the agents are the state's rows, in order
        values = [column(model, c) for c in self.agent_columns]
        return zip(itertools.repeat(model.time), ids, *values, strict=False)
