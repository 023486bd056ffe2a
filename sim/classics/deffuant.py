"""Deffuant, Neau, Amblard & Weisbuch (2000): pairwise bounded confidence.

One step is N elementary updates, in sequence. Update t:

    i = pick(u[0, t], N)                                  a uniformly chosen agent
    j = a uniformly chosen partner of i:
        complete graph: the pick(u[1, t], N - 1)-th other agent in index order
        network:        the pick(u[1, t], deg i)-th tie of i in slot order (nothing if deg i = 0)
    if |x_i - x_j| < d:                                   strict, as in the paper
        x_i <- x_i + mu (x_j - x_i)
        x_j <- x_j + mu (x_i - x_j)                        both from the values before the update

On a complete graph the two partner rules choose the same agent (its ties are every other agent,
in index order), so `network=complete` is the paper's mixing population. Converged
(`stop_at_convergence`) when no partner pair can still move: every pair (complete graph) or every
tie (network) is either closer than TOL (1e-6) or at least d apart.
"""

from __future__ import annotations

import numpy as np

from sim.classics.common import (
    JIT,
    TOL,
    ClassicDraws,
    edges_frozen_nb,
    mean_field_frozen,
    on_complete_graph,
    pairs_nb,
    partner,
    pick,
    report,
    uniform_draws,
)
from sim.config.params import Config
from sim.core.kernels import jit
from sim.core.report import StepReport
from sim.core.state import State

ROWS = 2  # u[0]: the agent, u[1]: its partner

draw = uniform_draws(ROWS)
mean_field = on_complete_graph


def step_reference(state: State, cfg: Config, draws: ClassicDraws) -> StepReport:
    """N elementary updates, one at a time (read next to the module docstring)."""
    state.t += 1
    n, u = state.n_agents, draws.u
    d, mu = cfg.preset.d, cfg.preset.mu
    x = state.stance
    accepted = np.zeros(n, dtype=np.int64)
    for t in range(u.shape[1]):
        i = pick(u[0, t], n)
        j = partner(state, mean_field(cfg), i, u[1, t])
        if j < 0:
            continue
        xi, xj = x[i], x[j]
        if abs(xi - xj) < d:
            x[i] = xi + mu * (xj - xi)
            x[j] = xj + mu * (xi - xj)
            accepted[i] += 1
            accepted[j] += 1
    return report(accepted)


@jit(**JIT)
def _kernel(agent, other, x, d, mu, accepted):
    for t in range(len(agent)):
        i, j = agent[t], other[t]
        if j < 0:
            continue
        xi = x[i]
        xj = x[j]
        if abs(xi - xj) < d:
            x[i] = xi + mu * (xj - xi)
            x[j] = xj + mu * (xi - xj)
            accepted[i] += 1
            accepted[j] += 1


def step_compiled(state: State, cfg: Config, draws: ClassicDraws) -> StepReport:
    """The same updates, compiled."""
    state.t += 1
    ties = state.ties
    accepted = np.zeros(state.n_agents, dtype=np.int64)
    agent, other = pairs_nb(ties.indptr, ties.nbr, mean_field(cfg), draws.u)
    _kernel(agent, other, state.stance, cfg.preset.d, cfg.preset.mu, accepted)
    return report(accepted)


def converged(state: State, cfg: Config, before: np.ndarray) -> bool:
    d = cfg.preset.d
    if mean_field(cfg):
        return mean_field_frozen(state.stance, d)
    return edges_frozen_nb(state.ties.indptr, state.ties.nbr, state.stance, TOL, d, False)
