"""Ties (ODD 4.4): exclusion of dissenters, muting, tie formation and homophilous rewiring.

Grounded in: "within a group, asociality can contribute to marginalizing people who do not buy in to
a dominant discourse. This can end up polarizing opinions" (KF10). The chain is the mechanism:
asociality, 1 - e (1 - m) from an agent's engagement e and the share m of its ties it has muted
(withdrawal, low engagement and muting, KF9 and KF11), raises a dissenter's chance of being excluded
by its group (exclusion); the share of in-group ties a dissenter has lost (its marginalization)
sets its chance of rewiring a disagreeing tie to a like-minded agent elsewhere (Kozma & Barrat 2008;
Holme & Newman 2006), which sorts the network by stance and feeds polarization. Resistance shows as
cutting off content (muting); identity work with the profession forges social ties (formation,
KF8). Which ties are accepted or worth dropping is set by homophily, a stance distance of its own,
separate from the latitude of acceptance of influence. Dissent is a stance more than the conformity
threshold from the group's norm, its median stance (`sim.core.groups`, shared with the metrics).
Functional forms (linear in asociality and in the loss) are modelling choices.

The four sub-phases run in this order; inside each, every decision is taken on the state at the
start of the sub-phase (synchronous), and proposals that hit the same tie keep the first in agent
order. The rules below are numba-compiled scalar functions, called by the per-agent reference and
the compiled step alike; the walks over the tie store are `sim.core.tiestore`'s.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from sim.core.draws import given, split
from sim.core.groups import dissenters_nb, dissents, group_norms_nb, in_group_degree, lost_share
from sim.core.kernels import jit

__all__ = [
    "accepts_tie",
    "asociality",
    "exclusion_chance",
    "in_group_degree",
    "lost_share",
    "may_rewire",
    "rewire_chance",
    "counted_rejections",
    "dissenters_nb",
    "dissents",
    "excluded",
    "exclusion_pick",
    "formation_candidate",
    "group_norms_nb",
    "most_disagreeing",
    "mutes_sender",
    "proposes",
    "rewire_candidate",
    "rewires",
    "worth_dropping",
]

_JIT: dict[str, Any] = {"cache": True, "nogil": True}


# 4a exclusion: the group drops one in-group tie of a dissenter, chosen uniformly; asocial ones likelier
@jit(**_JIT)
def asociality(engagement, n_muted, degree):
    """Asociality in [0, 1]: 1 - e (1 - m), e the engagement, m the share of the agent's ties it has muted."""
    m = n_muted / degree if degree > 0 else 0.0
    return 1.0 - np.float64(engagement) * (1.0 - m)


@jit(**_JIT)
def exclusion_chance(asocial, p):
    """A dissenter's chance of exclusion: rate x (base + (1 - base) x asociality); rate x base without the chain."""
    a = asocial if p.asocial_exclusion else 0.0
    return p.exclusion_rate * (p.exclusion_base + (1.0 - p.exclusion_base) * a)


@jit(**_JIT)
def excluded(dissent, asocial, u, p):
    """The group drops one of this dissenter's in-group ties this step."""
    return dissent and u < exclusion_chance(asocial, p)


@jit(**_JIT)
def exclusion_pick(u, count, asocial, p):
    """Which of the dissenter's `count` in-group ties goes (0-based, in slot order): the event's uniform, rescaled."""
    return np.int64(math.floor(given(u, exclusion_chance(asocial, p)) * count))


# 4b muting: rejected content counts against its sender; muted after mute_after; cut when mutual
@jit(**_JIT)
def counted_rejections(rejections):
    """The tie's rejection count after one more rejected message (uint8: at most 255)."""
    return min(np.int64(rejections) + 1, 255)


@jit(**_JIT)
def mutes_sender(muted, rejections, p):
    """The receiver mutes the sender now: not yet muted and mute_after rejections reached."""
    return not muted and rejections >= p.mute_after


# 4c formation: engaged agents with an accepted exchange propose a tie, in the group or anywhere
@jit(**_JIT)
def proposes(n_accepted, withdrawn, overloaded, u, p):
    """The agent proposes a new tie this step: an accepted exchange, engaged, not overloaded, and chance."""
    return n_accepted > 0 and not withdrawn and not overloaded and u < p.formation_rate


@jit(**_JIT)
def formation_candidate(u, g, group_order, group_start, n, p):
    """The agent a proposer of group g asks: a member of its group (share formation_in_group) or anyone."""
    inside, w = split(given(u, p.formation_rate), p.formation_in_group)
    if inside:
        size = group_start[g + 1] - group_start[g]
        return np.int64(group_order[group_start[g] + np.int64(math.floor(w * size))])
    return np.int64(math.floor(w * n))


@jit(**_JIT)
def accepts_tie(x_i, x_j, withdrawn_j, p):
    """Agent j accepts a new tie from i (formed or rewired): j is engaged and i's stance is within homophily of j's."""
    return not withdrawn_j and abs(x_i - x_j) < p.homophily


# 4d rewiring: a marginalized dissenter moves its most disagreeing tie to a like-minded agent of another group
@jit(**_JIT)
def rewire_chance(loss, p):
    """A dissenter's chance of rewiring: rate x the share of its initial in-group ties it has lost."""
    return p.rewire_rate * loss


@jit(**_JIT)
def rewires(dissent, u, chance):
    """The dissenter tries to rewire this step."""
    return dissent and u < chance


@jit(**_JIT)
def may_rewire(dissent, u, p):
    """A dissenter whose uniform lies below the rate: it rewires if it also lies below `rewire_chance`."""
    return rewires(dissent, u, p.rewire_rate)


@jit(**_JIT)
def rewire_candidate(u, chance, g, group_order, group_start, n):
    """A uniformly drawn agent outside group g (-1 if g is everyone): the event's uniform, rescaled."""
    start = group_start[g]
    size = group_start[g + 1] - start
    others = n - size
    if others <= 0:
        return np.int64(-1)
    k = np.int64(math.floor(given(u, chance) * others))
    return np.int64(group_order[k if k < start else k + size])


@jit(**_JIT)
def most_disagreeing(indptr, nbr, x, i):
    """The slot of i's neighbour farthest from i's stance (the first of equals) and that distance; -1 if none."""
    worst_slot = -1
    worst = -1.0
    for s in range(indptr[i], indptr[i + 1]):
        if nbr[s] < 0:  # blocks are compact: the ties end at the first free slot
            break
        d = abs(x[i] - x[nbr[s]])
        if d > worst:
            worst_slot = s
            worst = d
    return worst_slot, worst


@jit(**_JIT)
def worth_dropping(slot, distance, p):
    """The farthest neighbour is dropped only if it lies beyond homophily's distance."""
    return slot >= 0 and distance > p.homophily
