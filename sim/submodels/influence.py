"""Influence (phase 3): social judgment of each attended message (Jager & Amblard 2005).

Content within the latitude of acceptance U is assimilated, content beyond the latitude of
rejection T is contrasted (the agent moves away), content in between leaves the stance as it is.
Findings: the ability to reflect and resist (identity work; resistance as the trace of
asociality), and social work's critical-thinking ethos: critical thinking c narrows acceptance of
the broadcast discourse, U_b = U (1 - critical_narrowing c). Identity clarity damps stance change,
mu_i = mu / (1 + identity_stability I_i). All changes are computed from the old stances and
summed (synchronous update), then clipped to [0, 1]. Only contrasted peer content counts as
rejected, so switching contrast off also leaves nothing to mute.
"""

from __future__ import annotations

import numpy as np

from sim.params import InfluenceConfig


def judge(x: np.ndarray, y: np.ndarray, attended: np.ndarray, accept: np.ndarray | float,
          cfg: InfluenceConfig):
    """Accepted and rejected masks for content y seen by agents at x."""
    d = np.abs(y - x)
    accepted = attended & (d < accept)
    rejected = attended & (d > cfg.rejection) if cfg.contrast else np.zeros(len(x), dtype=bool)
    return accepted, rejected


def influence(x, identity, critical, y_peer, att_peer, att_broadcast, dominant, y_forum, att_forum,
              cfg: InfluenceConfig):
    """New stances, accepted-exchange counts and whether the peer message was rejected."""
    n = len(x)
    if not cfg.enabled:
        return x.copy(), np.zeros(n, dtype=np.int64), np.zeros(n, dtype=bool)
    mu = cfg.rate / (1.0 + cfg.identity_stability * identity)
    u_broadcast = cfg.acceptance * (1.0 - cfg.critical_narrowing * critical)
    delta = np.zeros(n)
    n_accepted = np.zeros(n, dtype=np.int64)
    rejected_peer = None
    channels = ((y_peer, att_peer, cfg.acceptance),
                (np.full(n, dominant), att_broadcast, u_broadcast),
                (y_forum, att_forum, cfg.acceptance))
    for y, attended, accept in channels:
        acc, rej = judge(x, y, attended, accept, cfg)
        step = mu * (y - x)
        delta = delta + np.where(acc, step, 0.0) - np.where(rej, step, 0.0)
        n_accepted += acc
        if rejected_peer is None:
            rejected_peer = rej
    return np.clip(x + delta, 0.0, 1.0), n_accepted, rejected_peer
