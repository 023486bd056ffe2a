"""Jager & Amblard (2005): social judgment with assimilation and contrast.

Opinions (attitudes) a live on [-1, 1] as in the paper; the model's stance is their affine image
on [0, 1]:

    a = 2 x - 1,   x = (a + 1) / 2      (a = -1 <-> stance 0, a = 0 <-> 0.5, a = +1 <-> 1)

so U and T are distances on the paper's [-1, 1] scale (U, T on [0, 2]; the same thresholds on the
stance scale are U / 2 and T / 2). One step is N elementary updates, in sequence. Update t:

    i = pick(u[0, t], N), j a uniformly chosen partner (as in Deffuant: any other agent on the
    complete graph, a tie of i on a network); i is influenced by j:
        |a_i - a_j| < U:  a_i <- a_i + mu (a_j - a_i)            assimilation
        |a_i - a_j| > T:  a_i <- a_i - mu (a_j - a_i)            contrast
        otherwise:        no change                              non-commitment
        a_i is then clipped to [-1, 1]

Influence runs one way, j on i (the reading of the paper in defSim's implementation note); a pair
meets in both roles over a step. With `preset.two_way` both move at the meeting, each by the same
rule applied to the other's attitude before the meeting (assimilation and contrast are symmetric in
the gap, so both take the same branch), and both are clipped.

Converged (`stop_at_convergence`) when no partner pair can change any more (either reading): no
pair with TOL < |a_i - a_j| < U, and every pair farther apart than T is a pair at -1 and +1
(clipped, contrast can no longer move them).
"""

from __future__ import annotations

import numpy as np

from sim.classics.common import (
    JIT,
    TOL,
    ClassicDraws,
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

ROWS = 2  # u[0]: the agent influenced, u[1]: its partner

draw = uniform_draws(ROWS)
mean_field = on_complete_graph


def to_opinion(stance: np.ndarray) -> np.ndarray:
    """Stance on [0, 1] -> the paper's attitude on [-1, 1]."""
    return 2.0 * stance - 1.0


def to_stance(opinion: np.ndarray) -> np.ndarray:
    """The paper's attitude on [-1, 1] -> stance on [0, 1]."""
    return (opinion + 1.0) / 2.0


def step_reference(state: State, cfg: Config, draws: ClassicDraws) -> StepReport:
    state.t += 1
    n, u = state.n_agents, draws.u
    U, T, mu, two_way = cfg.preset.U, cfg.preset.T, cfg.preset.mu, cfg.preset.two_way
    a = [float(v) for v in to_opinion(state.stance)]
    accepted = np.zeros(n, dtype=np.int64)
    for t in range(u.shape[1]):
        i = pick(u[0, t], n)
        j = partner(state, mean_field(cfg), i, u[1, t])
        if j < 0:
            continue
        ai, aj = a[i], a[j]
        gap = abs(ai - aj)
        if gap < U:
            a[i] = ai + mu * (aj - ai)
            accepted[i] += 1
            if two_way:
                a[j] = aj + mu * (ai - aj)
                accepted[j] += 1
        elif gap > T:
            a[i] = ai - mu * (aj - ai)
            if two_way:
                a[j] = aj - mu * (ai - aj)
        a[i] = min(1.0, max(-1.0, a[i]))
        if two_way:
            a[j] = min(1.0, max(-1.0, a[j]))
    state.stance = to_stance(np.array(a))
    return report(accepted)


@jit(**JIT)
def _kernel(agent, other, a, U, T, mu, two_way, accepted):
    for t in range(len(agent)):
        i, j = agent[t], other[t]
        if j < 0:
            continue
        ai, aj = a[i], a[j]
        ni, nj = ai, aj
        gap = abs(ai - aj)
        if gap < U:
            ni = ai + mu * (aj - ai)
            nj = aj + mu * (ai - aj)
            accepted[i] += 1
            if two_way:
                accepted[j] += 1
        elif gap > T:
            ni = ai - mu * (aj - ai)
            nj = aj - mu * (ai - aj)
        a[i] = min(1.0, max(-1.0, ni))
        if two_way:
            a[j] = min(1.0, max(-1.0, nj))


def step_compiled(state: State, cfg: Config, draws: ClassicDraws) -> StepReport:
    state.t += 1
    a = to_opinion(state.stance)
    accepted = np.zeros(state.n_agents, dtype=np.int64)
    p = cfg.preset
    agent, other = pairs_nb(state.ties.indptr, state.ties.nbr, mean_field(cfg), draws.u)
    _kernel(agent, other, a, p.U, p.T, p.mu, p.two_way, accepted)
    state.stance = to_stance(a)
    return report(accepted)


def _pairs_frozen_mean_field(a: np.ndarray, U: float, T: float) -> bool:
    xs = np.sort(a)
    # assimilation: runs split at gaps >= U must each be within TOL
    cuts = np.flatnonzero(np.diff(xs) >= U) + 1
    starts = np.concatenate(([0], cuts))
    ends = np.concatenate((cuts, [len(xs)])) - 1
    if np.any(xs[ends] - xs[starts] > TOL):
        return False
    if xs[-1] - xs[0] <= T:
        return True
    # contrast: the extreme pair is farther than T, so it must be (-1, +1), and every opinion that
    # is farther than T from -1 must be +1 (and vice versa)
    if xs[0] != -1.0 or xs[-1] != 1.0:
        return False
    inner = xs[(xs > -1.0) & (xs < 1.0)]
    return bool(np.all(inner + 1.0 <= T) and np.all(1.0 - inner <= T))


@jit(**JIT)
def _edges_frozen(indptr, nbr, a, U, T):
    n = a.shape[0]
    for i in range(n):
        for s in range(indptr[i], indptr[i + 1]):
            j = nbr[s]
            if j > i:
                gap = abs(a[i] - a[j])
                if TOL < gap < U:
                    return False
                if gap > T and not (min(a[i], a[j]) == -1.0 and max(a[i], a[j]) == 1.0):
                    return False
    return True


def converged(state: State, cfg: Config, before: np.ndarray) -> bool:
    a = to_opinion(state.stance)
    if mean_field(cfg):
        return _pairs_frozen_mean_field(a, cfg.preset.U, cfg.preset.T)
    return _edges_frozen(state.ties.indptr, state.ties.nbr, a, cfg.preset.U, cfg.preset.T)
