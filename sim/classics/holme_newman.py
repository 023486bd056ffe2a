"""Holme & Newman (2006): coevolution of a network and discrete opinions.

The preset starts on an Erdos-Renyi graph of mean degree k (preset.k = 4) with G = round(N / gamma)
opinions (preset.gamma = 10), each agent's drawn uniformly. Opinion g in 0..G-1 is stored as the
stance g / (G - 1) (and read back as round(stance * (G - 1))), so outputs keep one stance column;
two agents share an opinion exactly when their stances are equal. One step is N elementary
updates, in sequence. Update t:

    i = pick(u[0, t], N); nothing if i has no tie
    j = the pick(u[2, t], deg i)-th tie of i, in slot order
    with probability phi (u[1, t] < phi):                        rewiring
        k = the pick(u[3, t], n_g)-th agent, in index order, of the n_g agents holding i's opinion g
        i drops j and ties to k (nothing if k is i or already tied to i)
    otherwise:                                                   influence
        i adopts j's opinion

A rewiring writes a `cut` event (i, j) and a `rewired` event (i, k). Converged
(`stop_at_convergence`) when no tie joins different opinions: HN's consensus state, in which every
connected component (community) holds one opinion.
"""

from __future__ import annotations

import math

import numpy as np

from sim.classics.common import (
    JIT,
    ClassicDraws,
    alive_slots,
    linked,
    move_tie_nb,
    nth_alive_nb,
    pick,
    pick_nb,
    report,
    rewire_reference,
    run_with_room,
    uniform_draws,
)
from sim.config.errors import ConfigError
from sim.config.params import Config
from sim.core.kernels import jit
from sim.core.report import StepReport
from sim.core.state import State
from sim.core.tiestore import first_free_nb, linked_nb

ROWS = 4  # u[0]: the agent, u[1]: rewire or adopt, u[2]: its tie, u[3]: the same-opinion agent

draw = uniform_draws(ROWS)
#: The kernel finds the r-th holder of an opinion from counts per (opinion, block of agents); the
#: table holds at most this many counts (blocks of about sqrt(N) agents, larger when G is large).
MEMBER_TABLE = 10_000_000


def n_opinions(cfg: Config, n_agents: int) -> int:
    """G = round(N / gamma), at least 2 (checked when the model is built)."""
    return int(round(n_agents / cfg.preset.gamma))


def check(cfg: Config, n_agents: int) -> None:
    if n_opinions(cfg, n_agents) < 2:
        raise ConfigError("preset.gamma", cfg.preset.gamma, f"<= n_agents / 2 ({n_agents / 2:g}), so G >= 2")


def encode(g: np.ndarray, n_opinions: int) -> np.ndarray:
    """Opinion g -> stance g / (G - 1)."""
    return np.asarray(g, dtype=np.float64) / (n_opinions - 1)


def decode(stance: np.ndarray, n_opinions: int) -> np.ndarray:
    """Stance -> opinion round(stance (G - 1)) (exact for stances written by `encode`)."""
    return np.rint(np.asarray(stance) * (n_opinions - 1)).astype(np.int64)


def init_state(state: State, cfg: Config) -> None:
    """Uniform opinions: the initial stance is uniform on [0, 1], so g = floor(G x) is uniform on 0..G-1."""
    G = n_opinions(cfg, state.n_agents)
    g = np.minimum((state.stance * G).astype(np.int64), G - 1)
    state.stance = encode(g, G)


def step_reference(state: State, cfg: Config, draws: ClassicDraws) -> StepReport:
    state.t += 1
    n, u, phi = state.n_agents, draws.u, cfg.preset.phi
    G = n_opinions(cfg, n)
    g = [int(v) for v in decode(state.stance, G)]
    accepted = np.zeros(n, dtype=np.int64)
    rewired: list[tuple[int, int, int]] = []
    for t in range(u.shape[1]):
        i = pick(u[0, t], n)
        ties = alive_slots(state, i)
        if not ties:
            continue
        which = pick(u[2, t], len(ties))
        s = ties[which]
        j = int(state.ties.nbr[s])
        if u[1, t] < phi:
            same = [a for a in range(n) if g[a] == g[i]]
            k = same[pick(u[3, t], len(same))]
            if k == i or linked(state, i, k):
                continue
            rewire_reference(state, i, which, k, rewired)
        elif g[i] != g[j]:
            g[i] = g[j]
            accepted[i] += 1
    state.stance = encode(np.array(g), G)
    return report(accepted, rewired)


@jit(**JIT)
def _member(g, block_count, width, opinion, r):
    """The r-th (0-based) agent, in index order, holding `opinion`.

    Skips whole blocks of `width` agents by their counts, then scans one block: O(N / width + width).
    """
    b = 0
    while block_count[opinion, b] <= r:
        r -= block_count[opinion, b]
        b += 1
    a = b * width
    while True:
        if g[a] == opinion:
            if r == 0:
                return a
            r -= 1
        a += 1


@jit(**JIT)
def _kernel(
    indptr, nbr, muted, rejections, g, count, block_count, width, deg, u, phi, accepted, events, n_events, start
):
    n = g.shape[0]
    for t in range(start, u.shape[1]):
        i = pick_nb(u[0, t], n)
        if deg[i] == 0:
            continue
        s = nth_alive_nb(indptr, nbr, i, pick_nb(u[2, t], deg[i]))
        j = nbr[s]
        gi = g[i]
        if u[1, t] < phi:
            k = _member(g, block_count, width, gi, pick_nb(u[3, t], count[gi]))
            if k == i or linked_nb(indptr, nbr, i, k):
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
        elif g[j] != gi:
            gj = g[j]
            count[gi] -= 1
            count[gj] += 1
            block_count[gi, i // width] -= 1
            block_count[gj, i // width] += 1
            g[i] = gj
            accepted[i] += 1
    return u.shape[1], -1


def step_compiled(state: State, cfg: Config, draws: ClassicDraws) -> StepReport:
    state.t += 1
    n = state.n_agents
    G = n_opinions(cfg, n)
    g = decode(state.stance, G)
    width = max(1, math.isqrt(n), -(-n // max(1, MEMBER_TABLE // G)))  # at most MEMBER_TABLE counts
    n_blocks = -(-n // width)
    block_count = np.bincount(g * n_blocks + np.arange(n) // width, minlength=G * n_blocks).reshape(G, n_blocks)
    count = np.bincount(g, minlength=G).astype(np.int64)
    deg = state.ties.degree()
    accepted = np.zeros(n, dtype=np.int64)
    events = np.zeros((draws.u.shape[1], 3), dtype=np.int64)
    n_events = np.zeros(1, dtype=np.int64)
    run_with_room(
        _kernel, state, g, count, block_count, width, deg, draws.u, cfg.preset.phi, accepted, events, n_events
    )
    state.stance = encode(g, G)
    return report(accepted, events[: n_events[0]])


@jit(**JIT)
def _discordant_tie(indptr, nbr, x):
    for i in range(x.shape[0]):
        for s in range(indptr[i], indptr[i + 1]):
            j = nbr[s]
            if j >= 0 and x[j] != x[i]:
                return True
    return False


def converged(state: State, cfg: Config, before: np.ndarray) -> bool:
    """No tie joins different opinions."""
    return not _discordant_tie(state.ties.indptr, state.ties.nbr, state.stance)
