"""Exposure (phase 1): E(t) and the messages arriving along ties, from the broadcast and the forum.

Findings: the brief's pandemic-style surge of digital exposure (the review dates substantial
research interest in digital professional socialization to 2020, the pandemic year), and the
porous boundaries between professional and general forums (the review's policy implications). Message volumes are rates
(expected messages per step); a peer's contribution scales with E(t) and the sender's
engagement. One peer message per step is represented by a sender drawn in proportion to
engagement among the ties the receiver has not muted.
"""

from __future__ import annotations

import math

import numpy as np

from sim.params import ExposureConfig, MessagesConfig
from sim.state import State

# Engagement is quantized to integer weights for drawing a sender, so that block sums and
# cumulative sums are exact and both implementations pick the same sender.
QUANTUM = 2**20


def level(t: int, cfg: ExposureConfig) -> float:
    """E(t): baseline, plus the shock height during the shock, plus the part that persists after."""
    if cfg.kind == "constant" or t < cfg.start:
        return cfg.baseline
    end = cfg.start + cfg.length
    if t < end:
        return cfg.baseline + cfg.height
    kept = cfg.height * cfg.persistence
    if cfg.relaxation > 0:
        kept *= math.exp(-(t - end) / cfg.relaxation)
    return cfg.baseline + kept


def sender_weights(state: State) -> np.ndarray:
    """Integer weight of each slot as a sender: its engagement if the tie is alive and not muted."""
    ties = state.ties
    active = (ties.nbr >= 0) & ~ties.muted
    q = np.floor(state.engagement.astype(np.float64) * QUANTUM).astype(np.int64)
    return np.where(active, q[np.maximum(ties.nbr, 0)], 0)


def volumes(state: State, weights_total: np.ndarray, e_t: float, cfg: MessagesConfig):
    """Expected messages per step from peers, the broadcast and the general forum."""
    n = state.n_agents
    v_peer = cfg.peer_rate * e_t * weights_total / QUANTUM if cfg.peer else np.zeros(n)
    v_broadcast = np.full(n, cfg.broadcast_rate * e_t if cfg.broadcast else 0.0)
    v_forum = np.full(n, cfg.forum_rate * cfg.porosity * e_t if cfg.forum else 0.0)
    if cfg.cap > 0:
        total = v_peer + v_broadcast + v_forum
        scale = np.where(total > cfg.cap, cfg.cap / np.where(total > 0, total, 1.0), 1.0)
        v_peer, v_broadcast, v_forum = v_peer * scale, v_broadcast * scale, v_forum * scale
    return v_peer, v_broadcast, v_forum


def capped(v_peer: float, v_broadcast: float, v_forum: float, cap: float) -> tuple[float, float, float]:
    """One agent's volumes under the cap (the per-agent form of the scaling in `volumes`)."""
    total = v_peer + v_broadcast + v_forum
    if cap > 0 and total > cap:
        scale = cap / total
        return v_peer * scale, v_broadcast * scale, v_forum * scale
    return v_peer, v_broadcast, v_forum


def pick_senders(state: State, weights: np.ndarray, weights_total: np.ndarray,
                 u: np.ndarray) -> np.ndarray:
    """Slot of the engagement-weighted sender of each agent's peer message (-1: none can send)."""
    ties = state.ties
    c = np.cumsum(weights)
    c0 = np.concatenate([np.zeros(1, dtype=np.int64), c])
    target = c0[ties.indptr[:-1]] + np.floor(u * weights_total).astype(np.int64)
    slot = np.searchsorted(c, target, side="right")
    return np.where(weights_total > 0, slot, -1)
