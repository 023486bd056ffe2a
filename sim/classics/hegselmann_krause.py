"""Hegselmann & Krause (2002): synchronous averaging over the confidence set.

One step updates every agent at once, from the opinions before the step:

    J_i = { j : |x_j - x_i| <= epsilon }      over all agents (complete graph), self included,
                                               or over i and its neighbours (network)
    x_i <- mean of x_j over J_i

The mean is computed as x_f + sum_{j in J_i} (x_j - x_f) / |J_i|, f the first member of J_i in
summation order (index order on the complete graph; on a network i itself, then its ties in slot
order). Agents with the same confidence set therefore land on bitwise the same value, and a set
of equal opinions stays exactly equal, so HK's convergence in finite time is an exact fixed point
in floating point too (`stop_at_convergence` stops when a step changes nothing). No random numbers.
"""

from __future__ import annotations

import numpy as np

from sim.classics.common import JIT, ClassicDraws, alive_slots, on_complete_graph, report, uniform_draws
from sim.config.params import Config
from sim.core.kernels import jit
from sim.core.report import StepReport
from sim.core.state import State

ROWS = 0

draw = uniform_draws(ROWS)
mean_field = on_complete_graph


def step_reference(state: State, cfg: Config, draws: ClassicDraws) -> StepReport:
    state.t += 1
    n, eps = state.n_agents, cfg.preset.epsilon
    x = state.stance.copy()  # everyone reads the opinions before the step
    accepted = np.zeros(n, dtype=np.int64)
    for i in range(n):
        candidates: range | list[int]
        if mean_field(cfg):
            candidates = range(n)
        else:
            candidates = [i] + [int(state.ties.nbr[s]) for s in alive_slots(state, i)]
        members = [j for j in candidates if abs(x[j] - x[i]) <= eps]
        first = x[members[0]]
        total = 0.0
        for j in members:  # a plain loop: Python's sum() of floats is compensated, numba's is not
            total += x[j] - first
        state.stance[i] = first + total / len(members)
        accepted[i] = len(members) - 1
    return report(accepted)


@jit(**JIT)
def _kernel(indptr, nbr, x, eps, mean_field, out, accepted):
    n = x.shape[0]
    for i in range(n):
        xi = x[i]
        if mean_field:
            first = 0.0
            total = 0.0
            c = 0
            for j in range(n):
                if abs(x[j] - xi) <= eps:
                    if c == 0:
                        first = x[j]
                    total += x[j] - first
                    c += 1
        else:
            first = xi
            total = 0.0  # i itself adds xi - xi = 0
            c = 1
            for s in range(indptr[i], indptr[i + 1]):
                j = nbr[s]
                if j >= 0 and abs(x[j] - xi) <= eps:
                    total += x[j] - first
                    c += 1
        out[i] = first + total / c
        accepted[i] = c - 1


def step_compiled(state: State, cfg: Config, draws: ClassicDraws) -> StepReport:
    state.t += 1
    out = np.empty_like(state.stance)
    accepted = np.zeros(state.n_agents, dtype=np.int64)
    _kernel(state.ties.indptr, state.ties.nbr, state.stance, cfg.preset.epsilon, mean_field(cfg), out, accepted)
    state.stance = out
    return report(accepted)


def converged(state: State, cfg: Config, before: np.ndarray) -> bool:
    """HK's exact fixed point: the step changed no opinion."""
    return bool(np.array_equal(before, state.stance))
