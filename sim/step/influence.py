"""Influence (ODD 4.3): social judgment of each attended message (Jager & Amblard 2005).

Grounded in: the ability to reflect and resist (identity work; resistance as the trace of
asociality), and social work's critical-thinking ethos. Content within the latitude of acceptance U
is assimilated, content beyond the latitude of rejection T is contrasted (the agent moves away),
content in between leaves the stance as it is (Jager & Amblard 2005). Critical thinking c narrows
acceptance of the broadcast discourse, U_b = U (1 - critical_narrowing c), and identity clarity damps
stance change, mu_i = mu / (1 + identity_stability I_i) (modelling choices). All changes are computed
from the old stances and summed over the channels (synchronous update), then clipped to [0, 1].
Only contrasted peer content counts as rejected, so switching contrast off also leaves nothing to
mute.

Numba-compiled scalar functions, called by the per-agent reference and the compiled step alike.
"""

from __future__ import annotations

from typing import Any

import numba as nb

_JIT: dict[str, Any] = {"cache": True, "nogil": True}


@nb.njit(**_JIT)
def step_size(identity, p):
    """mu_i: the convergence rate, damped by identity clarity."""
    return p.rate / (1.0 + p.identity_stability * identity)


@nb.njit(**_JIT)
def broadcast_latitude(critical, p):
    """U_b: the latitude of acceptance for the broadcast, narrowed by critical thinking."""
    return p.acceptance * (1.0 - p.critical_narrowing * critical)


@nb.njit(**_JIT)
def judge(x, y, accept, p):
    """Social judgment of content y by an agent at x: 1 assimilate, -1 contrast, 0 neither."""
    d = abs(y - x)
    if d < accept:
        return 1
    if p.contrast and d > p.rejection:
        return -1
    return 0


@nb.njit(**_JIT)
def new_stance(x, y_peer, identity, critical, y_forum, seen_peer, seen_broadcast, seen_forum, p):
    """An agent's next stance from the messages it attended, summed over peer, broadcast and forum.

    Returns (stance, messages accepted, whether the peer's message was rejected).
    """
    if not p.influence:
        return x, 0, False
    mu = step_size(identity, p)
    delta = 0.0
    accepted = 0
    rejected_peer = False
    for channel in range(3):
        if channel == 0:
            if not seen_peer:
                continue
            y, accept = y_peer, p.acceptance
        elif channel == 1:
            if not seen_broadcast:
                continue
            y, accept = p.dominant, broadcast_latitude(critical, p)
        else:
            if not seen_forum:
                continue
            y, accept = y_forum, p.acceptance
        verdict = judge(x, y, accept, p)
        if verdict == 1:
            delta += mu * (y - x)
            accepted += 1
        elif verdict == -1:
            delta -= mu * (y - x)
            rejected_peer = rejected_peer or channel == 0
    return min(1.0, max(0.0, x + delta)), accepted, rejected_peer
