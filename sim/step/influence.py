"""Influence (ODD 4.3): social judgment of each attended message (Jager & Amblard 2005).

Grounded in: the ability to reflect and resist (identity work; resistance as the trace of
asociality), and social work's critical-thinking ethos. Content within the latitude of acceptance U
is assimilated, content beyond the latitude of rejection T is contrasted (the agent moves away),
content in between leaves the stance as it is (Jager & Amblard 2005). Critical thinking c narrows
acceptance of the broadcast discourse, U_b = U (1 - critical_narrowing c); mistrust of technology brings
its rejection closer, T_b = T (1 - mistrust c (1 - trust)) (KF12); identity clarity damps
stance change, mu_i = mu / (1 + identity_stability I_i) (modelling choices). All changes are computed
from the old stances and summed over the channels (synchronous update), then clipped to [0, 1].
Peer content beyond T counts as rejected (and may lead to muting, `sim.step.ties`) whether or not
the agent also moves away from it: `influence.contrast` switches the boomerang move only. A seen
broadcast that is not accepted (rejected, or left in the latitude of non-commitment) is resistance
to the dominant discourse, not buying in to it (KF9, KF10); its consequence is a loss of tech trust
(`sim.step.attention.next_trust`).

Numba-compiled scalar functions, called by the per-agent reference and the compiled step alike.
"""

from __future__ import annotations

from typing import Any

from sim.core.kernels import jit

_JIT: dict[str, Any] = {"cache": True, "nogil": True}


@jit(**_JIT)
def damping(identity, p):
    """How identity clarity damps every stance change: 1 / (1 + identity_stability I)."""
    return 1.0 / (1.0 + p.identity_stability * identity)


@jit(**_JIT)
def step_size(identity, p):
    """mu_i: the convergence rate, damped by identity clarity."""
    return p.rate * damping(identity, p)


@jit(**_JIT)
def broadcast_latitude(critical, p):
    """U_b: the latitude of acceptance for the broadcast, narrowed by critical thinking."""
    return p.acceptance * (1.0 - p.critical_narrowing * critical)


@jit(**_JIT)
def broadcast_rejection(critical, trust, p):
    """T_b: the latitude of rejection for the broadcast, brought closer by critical mistrust of technology."""
    return p.rejection * (1.0 - p.mistrust * critical * (1.0 - trust))


@jit(**_JIT)
def hardened(accept, loss, p):
    """A latitude of acceptance narrowed by marginalization: accept x (1 - hardening x loss of in-group ties)."""
    return accept * (1.0 - p.hardening * loss)


@jit(**_JIT)
def judge(x, y, accept, reject):
    """Social judgment of content y by an agent at x: 1 accept (closer than `accept`), -1 reject (beyond `reject`)."""
    d = abs(y - x)
    if d < accept:
        return 1
    if d > reject:
        return -1
    return 0


@jit(**_JIT)
def new_stance(x, y_peer, identity, critical, trust, loss, y_forum, seen_peer, seen_broadcast, seen_forum, p):
    """An agent's next stance from the messages it attended, summed over peer, broadcast and forum.

    Returns (stance, messages accepted, whether the peer's message was rejected, whether a seen broadcast
    was not accepted: the agent does not buy in to the dominant discourse, it resists it).
    """
    if not p.influence:
        return x, 0, False, False
    mu = step_size(identity, p)
    delta = 0.0
    accepted = 0
    rejected_peer = False
    resisted = False
    for channel in range(3):
        if channel == 0:
            if not seen_peer:
                continue
            y, accept, reject = y_peer, p.acceptance, p.rejection
        elif channel == 1:
            if not seen_broadcast:
                continue
            y, accept, reject = p.dominant, broadcast_latitude(critical, p), broadcast_rejection(critical, trust, p)
        else:
            if not seen_forum:
                continue
            y, accept, reject = y_forum, p.acceptance, p.rejection
        verdict = judge(x, y, hardened(accept, loss, p), reject)
        resisted = resisted or (channel == 1 and verdict != 1)
        if verdict == 1:
            delta += mu * (y - x)
            accepted += 1
        elif verdict == -1:
            if p.contrast:  # the boomerang: move away from rejected content
                delta -= mu * (y - x)
            rejected_peer = rejected_peer or channel == 0
    return min(1.0, max(0.0, x + delta)), accepted, rejected_peer, resisted
