"""Initialization (ODD 'Initialization'): network, professions, traits and stances from the config.

Each part draws from its own stream spawned from the model's generator (network, professions,
traits, stances), so changing, say, a trait distribution leaves the network and the stances as
they were (Beta draws consume a variable number of random numbers).
"""

from __future__ import annotations

import numpy as np

from sim.config.params import Config, TraitDist
from sim.core import network, tiestore
from sim.core.state import FRACTION, LEDGER, LEDGER_DTYPE, State, as_f64


def beta_draw(rng: np.random.Generator, dist: TraitDist, n: int) -> np.ndarray:
    a = dist.mean * dist.concentration
    b = (1.0 - dist.mean) * dist.concentration
    if b <= 0:  # mean 1: every agent at 1
        return np.ones(n)
    return rng.beta(a, b, size=n)


def build_network(cfg: Config, rng: np.random.Generator, edge_list: network.EdgeList | None = None):
    """Ties, groups and (for user files) professions; professions None means 'draw them'.

    `edge_list`: the user's file, already read (kind=edgelist), so a caller that also needs its labels
    parses it once; read here if not given.
    """
    net = cfg.network
    if net.kind == "edgelist":
        el = edge_list if edge_list is not None else network.read_edge_list(net.path)
        return el.u, el.v, el.group.astype(np.int32), el.profession.astype(np.int8)
    sizes = network.group_sizes(cfg.n_agents, cfg.n_groups)
    group = network.group_of_agents(sizes).astype(np.int32)
    if net.kind == "sbm":
        u, v = network.build_sbm(sizes, net.p_in, net.p_out, rng)
    elif net.kind == "complete":
        u, v = network.build_complete(cfg.n_agents)
    else:
        u, v = network.build_small_world(cfg.n_agents, net.k, net.beta, rng)
    return u, v, group, None


def assign_professions(cfg: Config, group: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Each group has a home profession (groups split by share); agents take it with prob segregation."""
    pc = cfg.professions
    n_groups = int(group.max()) + 1
    home = (np.arange(n_groups) + 0.5 >= pc.share_social_work * n_groups).astype(np.int8)
    u = rng.random((2, len(group)))
    drawn = (u[1] >= pc.share_social_work).astype(np.int8)
    return np.where(u[0] < pc.segregation, home[group], drawn).astype(np.int8)


def initial_state(cfg: Config, rng: np.random.Generator, edge_list: network.EdgeList | None = None) -> State:
    net_rng, profession_rng, trait_rng, stance_rng = rng.spawn(4)
    # one stream per trait and profession: Beta draws consume a variable number of random numbers, so on a
    # shared stream changing one distribution (literacy training) would shift every later trait's draws
    trait_rngs = iter(trait_rng.spawn(6))
    u, v, group, profession = build_network(cfg, net_rng, edge_list)
    n = len(group)
    if profession is None:
        profession = assign_professions(cfg, group, profession_rng)
    pc = cfg.professions
    dists = [pc.social_work, pc.health_care if pc.heterogeneous else pc.social_work]
    traits = {}
    for name in ("literacy", "trust", "critical"):
        sw = beta_draw(next(trait_rngs), getattr(dists[0], name), n)
        hc = beta_draw(next(trait_rngs), getattr(dists[1], name), n)
        traits[name] = np.where(profession == 0, sw, hc).astype(FRACTION)
    stance = beta_draw(stance_rng, _stance_dist(cfg), n)
    ties = tiestore.from_edges(n, u, v, cfg.network.slack)
    state = State(
        group=group,
        profession=profession,
        literacy=traits["literacy"],
        trust=traits["trust"],
        critical=traits["critical"],
        in_group_degree0=np.zeros(n, dtype=np.int32),
        stance=stance,
        engagement=traits["trust"].copy(),
        identity=np.full(n, cfg.identity.initial, dtype=FRACTION),
        load=np.zeros(n, dtype=FRACTION),
        overloaded=np.zeros(n, dtype=bool),
        withdrawn=as_f64(traits["trust"]) < cfg.attention.withdrawn_below,
        overload_withdrawn=np.zeros(n, dtype=bool),
        ledger={k: np.zeros(n, dtype=LEDGER_DTYPE) for k in LEDGER},
        ties=ties,
    )
    state.in_group_degree0 = state.in_group_degree().astype(np.int32)
    return state


def _stance_dist(cfg: Config) -> TraitDist:
    return TraitDist(cfg.stance.initial_mean, cfg.stance.initial_concentration)
