"""The Mesa agent: a professional, as a view on its row of the model's state arrays.

Reading `agent.stance` reads `model.state.stance[agent.row]`; assigning writes it back. The step
never touches these objects, so large models can skip creating them (`mesa_agents=never`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import mesa
import numpy as np

from sim.config.params import PROFESSIONS
from sim.core.state import LEDGER

if TYPE_CHECKING:
    from sim.model import ResocializationModel


class _Column:
    """A property backed by one of the state's per-agent arrays."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, agent: Professional | None, owner: type) -> Any:
        if agent is None:
            return self
        return getattr(agent.model.state, self.name)[agent.row].item()

    def __set__(self, agent: Professional, value: Any) -> None:
        getattr(agent.model.state, self.name)[agent.row] = value


class Professional(mesa.Agent):
    """A social worker or health-care professional in a networked group."""

    stance = _Column()
    engagement = _Column()
    identity = _Column()
    load = _Column()
    overloaded = _Column()
    withdrawn = _Column()
    overload_withdrawn = _Column()
    literacy = _Column()
    trust = _Column()
    critical = _Column()
    group = _Column()
    in_group_degree0 = _Column()

    def __init__(self, model: ResocializationModel, row: int) -> None:
        super().__init__(model)
        self.row = row

    @property
    def profession(self) -> str:
        return PROFESSIONS[int(self.model.state.profession[self.row])]

    @property
    def neighbors(self) -> list[int]:
        """Rows of the agents this one is tied to."""
        ties = self.model.state.ties
        block = ties.nbr[ties.indptr[self.row] : ties.indptr[self.row + 1]]
        return [int(j) for j in block[block >= 0]]

    @property
    def degree(self) -> int:
        return len(self.neighbors)

    @property
    def in_group_degree(self) -> int:
        group = self.model.state.group
        return int(np.sum(group[self.neighbors] == group[self.row])) if self.neighbors else 0

    @property
    def ledger(self) -> dict[str, int]:
        return {k: int(self.model.state.ledger[k][self.row]) for k in LEDGER}

    def __repr__(self) -> str:
        return (
            f"Professional(row={self.row}, {self.profession}, group={self.group}, "
            f"stance={self.stance:.3f}, engagement={self.engagement:.3f})"
        )
