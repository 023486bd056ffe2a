"""Attention (ODD 4.2): intake, load, overload, what is attended, withdrawal, recovery and tech trust.

Grounded in: hyperconnectivity and information overload, and a lack of understanding of digital
technology, can generate asociality (KF11); social work's mistrust of digital technology (KF12).
An agent takes in a share of the messages offered to it equal to its engagement, so that withdrawing
lowers its load: overload regulates itself (modelling choice). Capacity grows with digital literacy
and is buffered by identity clarity (modelling choice: linear in both). Load is the intake over the
capacity; an overloaded agent attends a share 1 / load of what it takes in and loses engagement;
otherwise it attends all of it and its engagement relaxes toward its tech trust. An overloaded
agent cuts its engagement by the share `withdrawal_rate` each step (a cut proportional to the excess
load would approach load 1 from above without ever leaving overload, since intake follows
engagement). Tech trust is itself experience: a step with an accepted exchange and no overload moves
it toward 1, a step of overload or of a seen but not accepted broadcast (resisting the dominant
discourse) toward 0 (modelling choice), so nobody is withdrawn for ever by construction. A withdrawal
is attributed to overload when it begins in a step of overload, to low trust otherwise. With
attention off every offered message is taken in and attended, and engagement and trust stay as
they are.

Numba-compiled scalar functions, called by the per-agent reference and the compiled step alike.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from sim.core.kernels import jit

_JIT: dict[str, Any] = {"cache": True, "nogil": True}


@jit(**_JIT)
def literacy_factor(literacy, p):
    """How literacy scales capacity and the benefit of exchanges (1 at literacy 0.5, at least 0.05)."""
    return max(0.05, 1.0 + p.literacy_effect * (np.float64(literacy) - 0.5))


@jit(**_JIT)
def capacity(literacy_f, identity, p):
    """Messages per step an agent can attend: capacity x literacy factor x (1 + buffer x identity clarity)."""
    return p.capacity * literacy_f * (1.0 + p.identity_buffer * identity)


@jit(**_JIT)
def intake(engagement, p):
    """The share of the offered messages an agent takes in: its engagement (all of them with attention off)."""
    return np.float64(engagement) if p.attention else 1.0


@jit(**_JIT)
def taken_in(v_peer, v_broadcast, v_forum, engagement, p):
    """The three channels' volumes an agent takes in: each offered volume x its intake."""
    k = intake(engagement, p)
    return v_peer * k, v_broadcast * k, v_forum * k


@jit(**_JIT)
def load(v_peer, v_broadcast, v_forum, cap):
    """Load: the expected volume taken in over the capacity (overload above 1)."""
    return (v_peer + v_broadcast + v_forum) / cap


@jit(**_JIT)
def attend(engagement, trust, ld, p):
    """(overloaded, chance a message taken in is attended, next engagement in [0, 1])."""
    if not p.attention:
        return False, 1.0, min(1.0, max(0.0, engagement))
    if ld > 1.0:
        e = engagement * (1.0 - p.withdrawal_rate)
        return True, 1.0 / ld, min(1.0, max(0.0, e))
    e = engagement + p.recovery_rate * (trust - engagement)
    return False, 1.0, min(1.0, max(0.0, e))


@jit(**_JIT)
def withdrawn_by_overload(withdrawn, was_withdrawn, was_by_overload, overloaded):
    """Whether the agent's withdrawal is attributed to overload: it began in a step of overload."""
    if not withdrawn:
        return False
    return overloaded if not was_withdrawn else was_by_overload


@jit(**_JIT)
def next_trust(trust, n_accepted, overloaded, resisted_broadcast, p):
    """Tech trust after this step's experience: toward 1 after a good exchange, toward 0 after a bad step.

    Good: an accepted message and no overload. Bad: overload, or a seen broadcast not accepted. Both
    in one step pull both ways. Unchanged with attention or trust dynamics off.
    """
    if not (p.attention and p.trust_dynamics):
        return np.float64(trust)
    tr = np.float64(trust)
    good = n_accepted > 0 and not overloaded
    bad = overloaded or resisted_broadcast
    up = p.trust_rate * (1.0 - tr) if good else 0.0
    down = p.trust_rate * tr if bad else 0.0
    return min(1.0, max(0.0, tr + up - down))


@jit(**_JIT)
def is_withdrawn(engagement, p):
    """Withdrawn: engagement (the stored value) below the threshold."""
    return np.float64(engagement) < p.withdrawn_below


@jit(**_JIT)
def seen(u, reach, p_attend):
    """A message arrives (chance `reach`) and is attended (chance `p_attend`): one uniform decides both."""
    return u < reach * p_attend
