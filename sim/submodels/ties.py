"""Ties (phase 4): exclusion of dissenters, muting, tie formation and homophilous rewiring.

Findings: within a group, asociality can marginalize those who do not buy in to the dominant
discourse and polarize opinions (exclusion, rewiring); resistance shows as cutting off content
(muting); identity work with the profession forges social ties (formation). Rewiring follows
Kozma & Barrat (2008) and Holme & Newman (2006): a disagreeing tie moves to a like-minded agent.

The four sub-phases run in this order; inside each, every decision is taken on the state at the
start of the sub-phase (synchronous), and proposals that hit the same tie keep the first in agent
order. Each returns its events as (source, target) arrays.
"""

from __future__ import annotations

import numpy as np

from sim import tiestore
from sim.params import InfluenceConfig, TiesConfig
from sim.state import State, add_saturating

EVENT_KINDS = ("cut", "muted", "formed", "rewired", "excluded")


def group_norms(state: State, x: np.ndarray) -> np.ndarray:
    """Each group's norm: the median stance of its members (the stance its majority gathers around).

    A median, not a mean: in a split group the mean can sit where nobody is, which would make
    everyone a dissenter.
    """
    xs = x[np.lexsort((x, state.group))]
    start, stop = state.group_start[:-1], state.group_start[1:]
    size = stop - start
    lo = np.minimum(start + (size - 1) // 2, len(x) - 1)
    hi = np.minimum(start + size // 2, len(x) - 1)
    return np.where(size > 0, (xs[lo] + xs[hi]) / 2.0, np.nan)


def dissenters(state: State, x: np.ndarray, conformity: float) -> np.ndarray:
    return np.abs(x - group_norms(state, x)[state.group]) > conformity


def first_per_tie(slots: np.ndarray, ties: tiestore.Ties) -> np.ndarray:
    """Keep the first proposal for each tie (proposals are in agent order)."""
    key = np.minimum(slots, tiestore.reverse_slots(ties, slots))
    _, first = np.unique(key, return_index=True)
    return np.sort(first)


def first_per_pair(a: np.ndarray, b: np.ndarray, n: int) -> np.ndarray:
    key = np.minimum(a, b) * n + np.maximum(a, b)
    _, first = np.unique(key, return_index=True)
    return np.sort(first)


def _lose(state: State, *losers: np.ndarray) -> None:
    """Count a lost tie for the agents who lost it without choosing to (the ledger's negative side)."""
    for agents in losers:
        add_saturating(state.ledger["ties_lost"], np.bincount(agents, minlength=state.n_agents))


def _gain(state: State, a: np.ndarray, b: np.ndarray) -> None:
    n = state.n_agents
    add_saturating(state.ledger["ties_gained"], np.bincount(a, minlength=n) + np.bincount(b, minlength=n))


def exclude(state: State, dissent: np.ndarray, u: np.ndarray, u_pick: np.ndarray, cfg: TiesConfig):
    """A dissenter loses one in-group tie, chosen uniformly, with probability exclusion_rate."""
    ties = state.ties
    owner = ties.owner()
    in_group = (ties.nbr >= 0) & (state.group[np.maximum(ties.nbr, 0)] == state.group[owner])
    m = in_group.astype(np.int64)
    counts = ties.block_sum(m)
    cand = dissent & (u < cfg.exclusion_rate) & (counts > 0)
    k = np.floor(u_pick * counts).astype(np.int64)
    c0 = np.concatenate([[0], np.cumsum(m)])
    rank = c0[1:] - c0[ties.indptr[owner]]  # 1-based rank of an in-group slot in its block
    slots = np.flatnonzero(in_group & cand[owner] & (rank == k[owner] + 1))
    slots = slots[first_per_tie(slots, ties)]
    src, dst = owner[slots].astype(np.int64), ties.nbr[slots].astype(np.int64)
    tiestore.cut(ties, slots)
    _lose(state, src)  # the dissenter loses the tie; the group chose to drop it
    return src, dst


def mute(state: State, sender: np.ndarray, rejected_peer: np.ndarray, cfg: TiesConfig):
    """Count rejections per sender (an agent, -1 for none); mute after mute_after; cut a tie muted from both ends."""
    ties = state.ties
    who = np.flatnonzero(rejected_peer & (sender >= 0))
    slots = tiestore.find_slots(ties, who, sender[who])
    alive = slots >= 0  # the tie may have gone in the exclusion sub-phase
    who, slots = who[alive], slots[alive]
    ties.rejections[slots] = np.minimum(ties.rejections[slots].astype(np.int64) + 1, 255).astype(np.uint8)
    new = (~ties.muted[slots]) & (ties.rejections[slots] >= cfg.mute_after)
    who, slots = who[new], slots[new]
    ties.muted[slots] = True
    ties.mutes[who] = True
    muted = (who.astype(np.int64), ties.nbr[slots].astype(np.int64))
    both = slots[ties.muted[tiestore.reverse_slots(ties, slots)]]
    both = both[first_per_tie(both, ties)]
    cut = (ties.owner()[both].astype(np.int64), ties.nbr[both].astype(np.int64))
    tiestore.cut(ties, both)
    _lose(state, *cut)
    return muted, cut


def form(state: State, x: np.ndarray, eligible: np.ndarray, u: np.ndarray, u_scope: np.ndarray,
         u_pick: np.ndarray, cfg: TiesConfig, influence: InfluenceConfig):
    """Eligible agents propose a tie (in-group or anywhere); like-minded, engaged targets accept."""
    n = state.n_agents
    i = np.flatnonzero(eligible & (u < cfg.formation_rate))
    j = candidate_in_group_or_anywhere(state, i, u_scope[i], u_pick[i], cfg.formation_in_group)
    ok = (j != i) & ~state.withdrawn[j] & (np.abs(x[i] - x[j]) < influence.acceptance)
    i, j = i[ok], j[ok]
    keep = ~tiestore.linked(state.ties, i, j)
    i, j = i[keep], j[keep]
    first = first_per_pair(i, j, n)
    i, j = i[first], j[first]
    tiestore.connect(state.ties, i, j)
    _gain(state, i, j)
    return i, j


def candidate_in_group_or_anywhere(state: State, i: np.ndarray, u_scope: np.ndarray,
                                   u_pick: np.ndarray, in_group: float) -> np.ndarray:
    g = state.group[i]
    start = state.group_start[g]
    size = state.group_start[g + 1] - start
    inside = state.group_order[start + np.floor(u_pick * size).astype(np.int64)]
    anywhere = np.floor(u_pick * state.n_agents).astype(np.int64)
    return np.where(u_scope < in_group, inside, anywhere)


def candidate_outside_group(state: State, i: np.ndarray, u_pick: np.ndarray) -> np.ndarray:
    """A uniformly drawn agent of another group (-1 if the agent's group is everyone)."""
    g = state.group[i]
    start = state.group_start[g]
    size = state.group_start[g + 1] - start
    others = state.n_agents - size
    k = np.floor(u_pick * others).astype(np.int64)
    pos = np.where(k < start, k, k + size)
    return np.where(others > 0, state.group_order[np.minimum(pos, state.n_agents - 1)], -1)


def rewire(state: State, x: np.ndarray, dissent: np.ndarray, u: np.ndarray, u_pick: np.ndarray,
           cfg: TiesConfig, influence: InfluenceConfig):
    """A dissenter moves its most disagreeing tie (beyond U) to a like-minded agent of another group."""
    ties = state.ties
    n = state.n_agents
    i = np.flatnonzero(dissent & (u < cfg.rewire_rate))
    j = candidate_outside_group(state, i, u_pick[i])
    ok = (j >= 0)
    ok[ok] = (np.abs(x[i[ok]] - x[j[ok]]) < influence.acceptance) & ~state.withdrawn[j[ok]]
    i, j = i[ok], j[ok]
    ok = ~tiestore.linked(ties, i, j)
    i, j = i[ok], j[ok]
    drop = most_disagreeing_slot(state, x, i, influence.acceptance)
    ok = drop >= 0
    i, j, drop = i[ok], j[ok], drop[ok]
    first = first_per_tie(drop, ties)
    i, j, drop = i[first], j[first], drop[first]
    cut = (i.astype(np.int64), ties.nbr[drop].astype(np.int64))
    tiestore.cut(ties, drop)
    _lose(state, cut[1])  # the dropped neighbour loses the tie; the rewirer chose to move it
    first = first_per_pair(i, j, n)
    i, j = i[first], j[first]
    tiestore.connect(ties, i, j)
    _gain(state, i, j)
    return cut, (i, j)


def most_disagreeing_slot(state: State, x: np.ndarray, agents: np.ndarray, beyond: float) -> np.ndarray:
    """For each agent, the first slot holding its most distant neighbour if beyond `beyond`, else -1."""
    which, slots = tiestore.block_slots(state.ties, agents)
    nb = state.ties.nbr[slots]
    d = np.where(nb >= 0, np.abs(x[agents[which]] - x[np.maximum(nb, 0)]), -1.0)
    best = np.full(len(agents), -1.0)
    np.maximum.at(best, which, d)
    is_best = (d == best[which]) & (nb >= 0)
    none = np.iinfo(np.int64).max
    first = np.full(len(agents), none)
    np.minimum.at(first, which[is_best], slots[is_best])
    return np.where((best > beyond) & (first < none), first, -1)
