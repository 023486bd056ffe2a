"""Hand-made states and configs whose next step can be computed by hand."""

from __future__ import annotations

import numpy as np

from sim.config.params import Config
from sim.core import tiestore
from sim.core.draws import BELOW_ONE, UNIFORMS, Draws
from sim.core.state import LEDGER, State


def make_state(
    stance,
    edges,
    group=None,
    *,
    engagement=None,
    trust=None,
    literacy=None,
    identity=None,
    critical=None,
    profession=None,
    slack=0.25,
) -> State:
    """A state from explicit arrays; unspecified traits take neutral values."""
    x = np.asarray(stance, dtype=float)
    n = len(x)
    full = lambda v, d: np.asarray(v, dtype=float) if v is not None else np.full(n, d)  # noqa: E731
    u = np.array([a for a, b in edges], dtype=np.int64)
    v = np.array([b for a, b in edges], dtype=np.int64)
    st = State(
        group=np.asarray(group if group is not None else np.zeros(n), dtype=np.int32),
        profession=np.asarray(profession if profession is not None else np.zeros(n), dtype=np.int8),
        literacy=full(literacy, 0.5),
        trust=full(trust, 1.0),
        critical=full(critical, 0.0),
        in_group_degree0=np.zeros(n, dtype=np.int32),
        stance=x,
        engagement=full(engagement, 1.0),
        identity=full(identity, 0.0),
        load=np.zeros(n),
        overloaded=np.zeros(n, dtype=bool),
        withdrawn=np.zeros(n, dtype=bool),
        overload_withdrawn=np.zeros(n, dtype=bool),
        ledger={k: np.zeros(n, dtype=np.uint32) for k in LEDGER},
        ties=tiestore.from_edges(n, u, v, slack),
    )
    st.in_group_degree0 = st.in_group_degree().astype(np.int32)
    return st


def quiet_config() -> Config:
    """A config with every mechanism off; tests switch on the one they check."""
    cfg = Config()
    cfg.messages.peer = cfg.messages.broadcast = cfg.messages.forum = False
    cfg.attention.enabled = False
    cfg.influence.enabled = False
    cfg.ties.muting = cfg.ties.exclusion = cfg.ties.rewiring = cfg.ties.formation = False
    cfg.identity.enabled = False
    return cfg


def make_draws(n, forum_content=np.nan, **uniforms) -> Draws:
    """A step's draws chosen by hand: each named uniform (a scalar or n values, keys UNIFORMS).

    Unnamed uniforms are the largest one below 1, so that their event does not happen (unless its
    chance is 1); forum content is NaN (not drawn) unless given.
    """
    unknown = set(uniforms) - set(UNIFORMS)
    if unknown:
        raise KeyError(f"unknown uniforms {sorted(unknown)}; known: {UNIFORMS}")
    u = {k: np.broadcast_to(np.asarray(uniforms.get(k, BELOW_ONE), dtype=float), (n,)).copy() for k in UNIFORMS}
    return Draws(u, np.broadcast_to(np.asarray(forum_content, dtype=float), (n,)).copy())
