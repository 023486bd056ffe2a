"""Attention (phase 2): load, overload, what is attended, withdrawal and recovery.

Findings: hyperconnectivity and information overload, and a lack of understanding of digital
technology, can generate asociality (the review's key findings). Capacity grows with digital
literacy and is buffered by identity clarity. A message that arrives is attended with probability
engagement / max(load, 1): an overloaded agent misses a growing share and loses engagement;
otherwise engagement relaxes back to tech trust. With attention off every arriving message is
attended and engagement stays as it is.
"""

from __future__ import annotations

import numpy as np

from sim.params import AttentionConfig


def literacy_factor(literacy: np.ndarray, effect: float) -> np.ndarray:
    """How literacy scales capacity and the benefit of exchanges (1 at literacy 0.5)."""
    return np.maximum(0.05, 1.0 + effect * (literacy - 0.5))


def capacity(literacy: np.ndarray, identity: np.ndarray, cfg: AttentionConfig) -> np.ndarray:
    return cfg.capacity * literacy_factor(literacy, cfg.literacy_effect) * (1.0 + cfg.identity_buffer * identity)


def arrival_probability(volume: np.ndarray) -> np.ndarray:
    """Chance that at least one message arrives on a channel with this Poisson rate."""
    return -np.expm1(-volume)


def attend(engagement, trust, literacy, identity, v_peer, v_broadcast, v_forum,
           u_peer, u_broadcast, u_forum, cfg: AttentionConfig):
    """Load, overload, the attended channels and the next engagement."""
    load = (v_peer + v_broadcast + v_forum) / capacity(literacy, identity, cfg)
    if cfg.enabled:
        overloaded = load > 1.0
        p_attend = engagement / np.maximum(load, 1.0)
        new_engagement = np.where(
            overloaded,
            engagement * (1.0 - cfg.withdrawal_rate * np.minimum(1.0, load - 1.0)),
            engagement + cfg.recovery_rate * (trust - engagement),
        )
    else:
        overloaded = np.zeros(len(load), dtype=bool)
        p_attend = np.ones(len(load))
        new_engagement = engagement.copy()
    att_peer = u_peer < arrival_probability(v_peer) * p_attend
    att_broadcast = u_broadcast < arrival_probability(v_broadcast) * p_attend
    att_forum = u_forum < arrival_probability(v_forum) * p_attend
    return load, overloaded, att_peer, att_broadcast, att_forum, np.clip(new_engagement, 0.0, 1.0)
