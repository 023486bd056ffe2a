"""Kozma & Barrat (2008): bounded confidence on an adaptive network.

The preset starts on an Erdos-Renyi graph of mean degree k (preset.k = 5: G(N, p) with
p = k / (N - 1)). One step is N elementary updates, in sequence. Update t:

    i = pick(u[0, t], N); nothing if i has no tie
    j = the pick(u[1, t], deg i)-th tie of i, in slot order
    with probability w (u[2, t] < w):                               rewiring
        if |x_i - x_j| > d: i drops j and ties to k, a uniformly chosen other agent
            (k = the pick(u[3, t], N - 1)-th other agent; nothing if k is already tied to i)
    otherwise:                                                      Deffuant step
        if |x_i - x_j| < d: x_i <- x_i + mu (x_j - x_i), x_j <- x_j + mu (x_i - x_j)

A rewiring writes a `cut` event (i, j) and a `rewired` event (i, k). Converged
(`stop_at_convergence`) when no opinion can change any more: every tie is closer than TOL (1e-6)
or at least d apart, and, if w > 0 and some tie is farther apart than d (so rewiring goes on and
may tie any two agents), every pair of agents is closer than TOL or at least d apart.
"""

from __future__ import annotations

import numpy as np

from sim.classics.common import (
    JIT,
    TOL,
    ClassicDraws,
    alive_slots,
    edges_frozen_nb,
    linked,
    mean_field_frozen,
    move_tie_nb,
    nth_alive_nb,
    other_agent,
    other_agent_nb,
    pick,
    pick_nb,
    report,
    rewire_reference,
    run_with_room,
    uniform_draws,
)
from sim.config.params import Config
from sim.core.kernels import jit
from sim.core.report import StepReport
from sim.core.state import State
from sim.core.tiestore import first_free_nb, linked_nb

ROWS = 4  # u[0]: the agent, u[1]: its tie, u[2]: rewire or interact, u[3]: the new partner

draw = uniform_draws(ROWS)


def step_reference(state: State, cfg: Config, draws: ClassicDraws) -> StepReport:
    state.t += 1
    n, u = state.n_agents, draws.u
    d, mu, w = cfg.preset.d, cfg.preset.mu, cfg.preset.w
    x = state.stance
    accepted = np.zeros(n, dtype=np.int64)
    rewired: list[tuple[int, int, int]] = []
    for t in range(u.shape[1]):
        i = pick(u[0, t], n)
        ties = alive_slots(state, i)
        if not ties:
            continue
        which = pick(u[1, t], len(ties))
        s = ties[which]
        j = int(state.ties.nbr[s])
        if u[2, t] < w:
            if abs(x[i] - x[j]) > d:
                k = other_agent(u[3, t], i, n)
                if linked(state, i, k):
                    continue
                rewire_reference(state, i, which, k, rewired)
        elif abs(x[i] - x[j]) < d:
            xi, xj = x[i], x[j]
            x[i] = xi + mu * (xj - xi)
            x[j] = xj + mu * (xi - xj)
            accepted[i] += 1
            accepted[j] += 1
    return report(accepted, rewired)


@jit(**JIT)
def _kernel(indptr, nbr, muted, rejections, x, deg, u, d, mu, w, accepted, events, n_events, start):
    n = x.shape[0]
    for t in range(start, u.shape[1]):
        i = pick_nb(u[0, t], n)
        if deg[i] == 0:
            continue
        s = nth_alive_nb(indptr, nbr, i, pick_nb(u[1, t], deg[i]))
        j = nbr[s]
        xi = x[i]
        xj = x[j]
        if u[2, t] < w:
            if abs(xi - xj) > d:
                k = other_agent_nb(u[3, t], i, n)
                if linked_nb(indptr, nbr, i, k):
                    continue
                if first_free_nb(indptr, nbr, k) < 0:
                    return t, k  # the caller makes room at k and resumes at this update
                move_tie_nb(indptr, nbr, muted, rejections, s, i, k)
                deg[j] -= 1
                deg[k] += 1
                e = n_events[0]
                events[e, 0] = i
                events[e, 1] = j
                events[e, 2] = k
                n_events[0] = e + 1
        elif abs(xi - xj) < d:
            x[i] = xi + mu * (xj - xi)
            x[j] = xj + mu * (xi - xj)
            accepted[i] += 1
            accepted[j] += 1
    return u.shape[1], -1


def step_compiled(state: State, cfg: Config, draws: ClassicDraws) -> StepReport:
    state.t += 1
    n = state.n_agents
    p = cfg.preset
    deg = state.ties.degree()
    accepted = np.zeros(n, dtype=np.int64)
    events = np.zeros((draws.u.shape[1], 3), dtype=np.int64)
    n_events = np.zeros(1, dtype=np.int64)
    run_with_room(_kernel, state, state.stance, deg, draws.u, p.d, p.mu, p.w, accepted, events, n_events)
    return report(accepted, events[: n_events[0]])


def converged(state: State, cfg: Config, before: np.ndarray) -> bool:
    """No opinion can change any more.

    Every tie must be frozen (closer than TOL or at least d apart). If w > 0 and some tie is still
    farther apart than d, it keeps being rewired, to any agent, so then every pair of agents must
    be frozen too (opinions in points at least d apart); otherwise the network no longer changes.
    """
    p, ties, x = cfg.preset, state.ties, state.stance
    if not edges_frozen_nb(ties.indptr, ties.nbr, x, TOL, p.d, False):
        return False
    if p.w == 0 or edges_frozen_nb(ties.indptr, ties.nbr, x, TOL, p.d, True):
        return True
    return mean_field_frozen(x, p.d)
