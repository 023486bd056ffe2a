"""The named records the step's rules and kernels take: every parameter, and the tie arrays.

numba compiles functions of NamedTuples, so a kernel reads `p.capacity` or `t.nbr` instead of
unpacking a long positional tuple, and a parameter added to a mechanism is added here once (with
its config key in `params`).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from sim.config.params import Config
from sim.core.tiestore import Ties


class Params(NamedTuple):
    """Every parameter of the step, flat, with the config key it comes from."""

    # messages (ODD 4.1, exposure)
    peer: bool  # messages.peer
    peer_rate: float  # messages.peer_rate
    broadcast: bool  # messages.broadcast
    broadcast_rate: float  # messages.broadcast_rate
    forum: bool  # messages.forum
    forum_rate: float  # messages.forum_rate
    porosity: float  # messages.porosity
    cap: float  # messages.cap
    # attention (ODD 4.2)
    attention: bool  # attention.enabled
    capacity: float  # attention.capacity
    literacy_effect: float  # attention.literacy_effect
    identity_buffer: float  # attention.identity_buffer
    withdrawal_rate: float  # attention.withdrawal_rate
    recovery_rate: float  # attention.recovery_rate
    withdrawn_below: float  # attention.withdrawn_below
    trust_dynamics: bool  # attention.trust_dynamics
    trust_rate: float  # attention.trust_rate
    # influence (ODD 4.3)
    influence: bool  # influence.enabled
    acceptance: float  # influence.acceptance
    rejection: float  # influence.rejection
    rate: float  # influence.rate
    contrast: bool  # influence.contrast
    critical_narrowing: float  # influence.critical_narrowing
    mistrust: float  # influence.mistrust
    identity_stability: float  # influence.identity_stability
    hardening: float  # influence.hardening
    dominant: float  # stance.dominant
    # ties (ODD 4.4)
    muting: bool  # ties.muting
    mute_after: int  # ties.mute_after
    exclusion: bool  # ties.exclusion
    conformity: float  # ties.conformity
    exclusion_rate: float  # ties.exclusion_rate
    asocial_exclusion: bool  # ties.asocial_exclusion
    exclusion_base: float  # ties.exclusion_base
    rewiring: bool  # ties.rewiring
    rewire_rate: float  # ties.rewire_rate
    homophily: float  # ties.homophily
    formation: bool  # ties.formation
    formation_rate: float  # ties.formation_rate
    formation_in_group: float  # ties.formation_in_group
    # identity (ODD 4.5)
    identity: bool  # identity.enabled
    gain: float  # identity.gain
    decay: float  # identity.decay


def params(cfg: Config) -> Params:
    """The step's parameters from a validated config (plain Python scalars, typed as declared)."""
    m, a, f, t, i = cfg.messages, cfg.attention, cfg.influence, cfg.ties, cfg.identity
    return Params(
        bool(m.peer),
        float(m.peer_rate),
        bool(m.broadcast),
        float(m.broadcast_rate),
        bool(m.forum),
        float(m.forum_rate),
        float(m.porosity),
        float(m.cap),
        bool(a.enabled),
        float(a.capacity),
        float(a.literacy_effect),
        float(a.identity_buffer),
        float(a.withdrawal_rate),
        float(a.recovery_rate),
        float(a.withdrawn_below),
        bool(a.trust_dynamics),
        float(a.trust_rate),
        bool(f.enabled),
        float(f.acceptance),
        float(f.rejection),
        float(f.rate),
        bool(f.contrast),
        float(f.critical_narrowing),
        float(f.mistrust),
        float(f.identity_stability),
        float(f.hardening),
        float(cfg.stance.dominant),
        bool(t.muting),
        int(t.mute_after),
        bool(t.exclusion),
        float(t.conformity),
        float(t.exclusion_rate),
        bool(t.asocial_exclusion),
        float(t.exclusion_base),
        bool(t.rewiring),
        float(t.rewire_rate),
        float(t.homophily),
        bool(t.formation),
        float(t.formation_rate),
        float(t.formation_in_group),
        bool(i.enabled),
        float(i.gain),
        float(i.decay),
    )


class TieArrays(NamedTuple):
    """The slotted ties (`sim.core.tiestore`) as the kernels read them; take it anew after making room."""

    indptr: np.ndarray  # int32 (int64 past 2**31 slots) [n + 1]: agent i's slots are indptr[i]:indptr[i + 1]
    nbr: np.ndarray  # int32: the neighbour in each slot, -1 where free (free slots end a block)
    muted: np.ndarray  # bool per slot: the block's owner muted this neighbour
    mutes: np.ndarray  # bool per agent: the block may hold a mute (the exchange skips `muted` elsewhere)
    rejections: np.ndarray  # uint8 per slot: rejected messages from this neighbour


def tie_arrays(ties: Ties) -> TieArrays:
    return TieArrays(ties.indptr, ties.nbr, ties.muted, ties.mutes, ties.rejections)
