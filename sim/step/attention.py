"""Attention (ODD 4.2): load, overload, what is attended, withdrawal and recovery.

Grounded in: hyperconnectivity and information overload, and a lack of understanding of digital
technology, can generate asociality (the review's key findings). Capacity grows with digital
literacy and is buffered by identity clarity (modelling choice: linear in both). A message that
arrives is attended with probability engagement / max(load, 1): an overloaded agent misses a growing
share and loses engagement; otherwise engagement relaxes back to tech trust. With attention off every
arriving message is attended and engagement stays as it is.

Numba-compiled scalar functions, called by the per-agent reference and the compiled step alike.
"""

from __future__ import annotations

from typing import Any

import numba as nb
import numpy as np

_JIT: dict[str, Any] = {"cache": True, "nogil": True}


@nb.njit(**_JIT)
def literacy_factor(literacy, p):
    """How literacy scales capacity and the benefit of exchanges (1 at literacy 0.5, at least 0.05)."""
    return max(0.05, 1.0 + p.literacy_effect * (np.float64(literacy) - 0.5))


@nb.njit(**_JIT)
def capacity(literacy_f, identity, p):
    """Messages per step an agent can attend: capacity x literacy factor x (1 + buffer x identity clarity)."""
    return p.capacity * literacy_f * (1.0 + p.identity_buffer * identity)


@nb.njit(**_JIT)
def load(v_peer, v_broadcast, v_forum, cap):
    """Load: the expected volume over the capacity (overload above 1)."""
    return (v_peer + v_broadcast + v_forum) / cap


@nb.njit(**_JIT)
def attend(engagement, trust, ld, p):
    """(overloaded, chance an arriving message is attended, next engagement in [0, 1])."""
    if not p.attention:
        return False, 1.0, min(1.0, max(0.0, engagement))
    if ld > 1.0:
        e = engagement * (1.0 - p.withdrawal_rate * min(1.0, ld - 1.0))
        return True, engagement / ld, min(1.0, max(0.0, e))
    e = engagement + p.recovery_rate * (trust - engagement)
    return False, engagement / 1.0, min(1.0, max(0.0, e))


@nb.njit(**_JIT)
def is_withdrawn(engagement, p):
    """Withdrawn: engagement (the stored value) below the threshold."""
    return np.float64(engagement) < p.withdrawn_below


@nb.njit(**_JIT)
def seen(u, reach, p_attend):
    """A message arrives (chance `reach`) and is attended (chance `p_attend`): one uniform decides both."""
    return u < reach * p_attend
