"""Exposure (ODD 4.1): E(t), and the messages arriving along ties, from the broadcast and the forum.

Grounded in: the brief's pandemic-style surge of digital exposure (the review dates substantial
research interest in digital professional socialization to 2020, the pandemic year), and the
porous boundaries between professional and general forums (the review's policy implications).
Message volumes are rates (expected messages per step); a peer's contribution scales with E(t) and
the sender's engagement. One peer message per step is represented by a sender drawn in proportion
to engagement among the ties the receiver has not muted. A cap on the total volume (the capped
hyperconnectivity intervention) scales the three channels down in proportion.

The rules are numba-compiled scalar functions, callable from Python: the per-agent reference
(`sim.step.reference`) and the compiled step (`sim.step.compiled`) both call them.
"""

from __future__ import annotations

import math
from typing import Any

import numba as nb
import numpy as np

from sim.config.params import ExposureConfig
from sim.core.kernels import jit, parallel_kernel
from sim.step import attention

# Engagement is quantized to integer weights for drawing a sender, so that block sums and
# cumulative sums are exact and every implementation picks the same sender.
QUANTUM = 2**20

_JIT: dict[str, Any] = {"cache": True, "nogil": True}


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


@jit(**_JIT)
def sender_weight(engagement):
    """A neighbour's weight as a sender: its engagement in integer quanta (< 2**21)."""
    return np.int32(math.floor(np.float64(engagement) * QUANTUM))


@jit(**_JIT)
def peer_volume(total_weight, e_t, p):
    """Expected peer messages per step: rate x E(t) x the summed engagement of the unmuted ties."""
    return p.peer_rate * e_t * total_weight / QUANTUM if p.peer else 0.0


@jit(**_JIT)
def broadcast_volume(e_t, p):
    """Expected broadcast messages per step (the dominant discourse)."""
    return p.broadcast_rate * e_t if p.broadcast else 0.0


@jit(**_JIT)
def forum_volume(e_t, p):
    """Expected general-forum messages per step reaching a professional (rate x porosity x E(t))."""
    return p.forum_rate * p.porosity * e_t if p.forum else 0.0


@jit(**_JIT)
def is_capped(v_peer, v_broadcast, v_forum, p):
    """Whether the cap binds for these volumes (a cap of 0 means none)."""
    return p.cap > 0 and v_peer + v_broadcast + v_forum > p.cap


@jit(**_JIT)
def capped(v_peer, v_broadcast, v_forum, p):
    """The three volumes scaled down in proportion so that they add up to the cap, if it binds."""
    if is_capped(v_peer, v_broadcast, v_forum, p):
        scale = p.cap / (v_peer + v_broadcast + v_forum)
        return v_peer * scale, v_broadcast * scale, v_forum * scale
    return v_peer, v_broadcast, v_forum


@jit(**_JIT)
def arrival(volume):
    """Chance that at least one message arrives on a channel with this Poisson rate."""
    return -math.expm1(-volume)


def forum_reach(
    e_t: float, p, engagement: np.ndarray | None = None, out: np.ndarray | None = None
) -> float | np.ndarray:
    """The chance that a forum message reaches an agent this step, before attending and the cap (which only lower it).

    One value, or with attention on and `engagement` given (at the start of the step) one per agent,
    from the agent's intake (`sim.step.attention.intake`), written into `out` if given: `sim.core.draws`
    draws forum content only for the agents whose forum uniform lies below it.
    """
    v = forum_volume(e_t, p)
    if engagement is None or not p.attention:
        return float(arrival(v))
    return _reach_each(v, engagement, p, np.empty(len(engagement)) if out is None else out)


@parallel_kernel(**_JIT)
def _reach_each(v, engagement, p, out):
    """arrival(v x intake) for each agent, into `out`: the forum volume as the step takes it in (`attention.intake`)."""
    for i in nb.prange(len(engagement)):
        out[i] = arrival(v * attention.intake(np.float64(engagement[i]), p))  # typed as the step's call
    return out


@jit(**_JIT)
def sender_target(u, total_weight):
    """Where the drawn sender falls on the cumulative weights of the agent's ties: floor(u x total)."""
    return np.int64(math.floor(u * total_weight))


@jit(**_JIT)
def is_sender(running, target):
    """The first tie whose cumulative weight passes the target sends."""
    return running > target
